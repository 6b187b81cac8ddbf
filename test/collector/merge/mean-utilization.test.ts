// Mean utilization now over several collectors is one mean over every GPU's reading in the merged
// lists (merge/summary.ts), not the first collector's figure; the problems order puts a GPU that
// another host claims first within its severity.
import { describe, expect, test } from "vitest";
import type { GpuView, ReportPart } from "../../../collector/contract/api-contract.js";
import { compareProblems } from "../../../collector/flags/order.js";
import type { Flag } from "../../../collector/flags/types.js";
import { mergeSummary } from "../../../collector/merge/summary.js";

function gpu(host: string, index: number, util: number): GpuView {
  return {
    uuid: `GPU-${host}-${index}`,
    host,
    index,
    model: "H100",
    site: "fra1",
    labels: {},
    state: "ok",
    usage: util >= 5 ? "busy" : "idle",
    timestampMs: 1000,
    values: { utilization_gpu_pct: util },
    flags: [],
    inventory: null,
  };
}

const part = (): ReportPart => ({ fromMs: 0, toMs: 60_000, nowMs: 60_000, gpus: [] });

describe("merged summary: mean utilization now", () => {
  test("every GPU's reading counts once, whichever collector holds it", () => {
    const one = { hosts: [], gpus: [gpu("a", 0, 90)], openFlags: [], part: part() };
    const two = {
      hosts: [],
      gpus: [gpu("b", 0, 10), gpu("b", 1, 10), gpu("b", 2, 10)],
      openFlags: [],
      part: part(),
    };
    const s = mergeSummary([one, two], { fromMs: 0, toMs: 60_000 }, 60_000);
    expect(s.utilization.meanNowPct).toBeCloseTo(30, 9);
    expect(s.utilization.now).toMatchObject({ busy: 4, known: 4 });
  });
});

test("a claim conflict comes before an overheat of the same severity", () => {
  const flag = (id: number, kind: Flag["kind"]) =>
    ({ id, kind, severity: "critical", startMs: 0, host: "a", gpuIndex: 0 }) as Flag;
  expect(
    [flag(1, "overheat"), flag(2, "gpu-claim-conflict")].sort(compareProblems).map((f) => f.kind),
  ).toEqual(["gpu-claim-conflict", "overheat"]);
});
