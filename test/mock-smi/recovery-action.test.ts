// A scenario GPU's recovery action over time (`recovery_action:`): one change, as the key first
// had, or a list of timed changes, as the real `-q -x` shows it (Reset after an Xid 79 until the
// GPU is reset, then None); each problem refused with its key path. Pure: the schema and the
// timeline, no mock-smi process.

import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type HealthSpec, recoveryActionAt } from "../../mock-smi/scenario-health.js";
import { validateScenario } from "../../mock-smi/scenario-schema.js";

const ONE_GPU = "hosts:\n  - name: h\n    gpus:\n      - model: NVIDIA H100 80GB HBM3\n";

/** The health spec of a one-GPU scenario, its GPU given this recovery_action (if any), or its errors. */
function validate(recoveryAction?: string): HealthSpec | { errors: string[] } {
  const key = recoveryAction === undefined ? "" : `        recovery_action: ${recoveryAction}\n`;
  const scenario = validateScenario(parse(`${ONE_GPU}${key}`));
  if ("errors" in scenario) return scenario;
  return scenario.hosts[0]?.gpus[0]?.health ?? { errors: ["no GPU"] };
}

function health(recoveryAction?: string): HealthSpec {
  const result = validate(recoveryAction);
  if ("errors" in result) throw new Error(result.errors.join("; "));
  return result;
}

function errors(recoveryAction: string): string[] {
  const result = validate(recoveryAction);
  return "errors" in result ? result.errors : [];
}

const actionsAt = (spec: HealthSpec, times: number[]) => times.map((t) => recoveryActionAt(spec, t));

describe("scenario recovery_action", () => {
  it("is None without the key", () => {
    expect(actionsAt(health(), [0, 3600])).toEqual(["None", "None"]);
  });

  it("one change: None before its time, the action from it on (the original form)", () => {
    const spec = health("{ at: 4m, action: Reset }");
    expect(spec.recoveryActions).toEqual([{ atS: 240, action: "Reset" }]);
    expect(actionsAt(spec, [0, 239.9, 240, 86_400])).toEqual(["None", "None", "Reset", "Reset"]);
  });

  it("a sequence: each action from its time until the next change", () => {
    const spec = health(
      "[{ at: 0s, action: Reset }, { at: 20s, action: None }, { at: 1m, action: Drain and Reset }, { at: 90, action: Reboot }]",
    );
    expect(spec.recoveryActions).toEqual([
      { atS: 0, action: "Reset" },
      { atS: 20, action: "None" },
      { atS: 60, action: "Drain and Reset" },
      { atS: 90, action: "Reboot" },
    ]);
    expect(actionsAt(spec, [0, 19, 20, 59, 60, 89, 90, 1e6])).toEqual([
      "Reset",
      "Reset",
      "None",
      "None",
      "Drain and Reset",
      "Drain and Reset",
      "Reboot",
      "Reboot",
    ]);
  });

  it("a sequence starting later: None until its first change", () => {
    const spec = health("[{ at: 2m, action: Drain P2P }, { at: 3m, action: None }]");
    expect(actionsAt(spec, [0, 119, 120, 180])).toEqual(["None", "None", "Drain P2P", "None"]);
  });

  const ACTIONS = "None, Reset, Reboot, Drain P2P, Drain and Reset";
  // Each refused value and the one problem reported, under the GPU's key path.
  it.each([
    ["[{ at: 1m, action: Reset }, { at: 30s, action: None }]", "[1].at: times must increase (after 60s)"],
    ["[{ at: 1m, action: Reset }, { at: 60s, action: None }]", "[1].at: times must increase (after 60s)"],
    ["{ at: 1m, action: Explode }", `.action: expected one of ${ACTIONS}`],
    ["[{ at: 0s, action: Reset }, { at: 1m, action: Explode }]", `[1].action: expected one of ${ACTIONS}`],
    ["[{ action: Reset }]", '[0].at: expected seconds or a duration like "90s", "5m"'],
    ["[{ at: 0s, action: Reset, until: 1m }]", "[0].until: unknown key (known: at, action)"],
    ["Reset", ": expected { at, action } or a list of { at, action }"],
    ["[]", ": expected at least one { at, action }"],
    ["[Reset]", "[0]: expected a mapping"],
  ])("refuses %s, naming the key", (value, problem) => {
    expect(errors(value)).toEqual([`hosts[0].gpus[0].recovery_action${problem}`]);
  });
});
