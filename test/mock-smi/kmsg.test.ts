// `gputel mock-kmsg`: a scenario's `xid:` entries become kernel-log lines in the driver's real
// format, which the real parser (agent/sources/kernel-log/) reads back with the GPUs' mock-smi bus
// ids; due lines first, the rest (--follow) each at its time.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseKernelLogLine } from "../../agent/sources/kernel-log/xid-line.js";
import { run } from "../../mock-smi/kmsg-cli.js";
import { validateScenario } from "../../mock-smi/scenario-schema.js";
import { busIdFor, uuidFor } from "../../mock-smi/scenario-state.js";
import { kernelBusId } from "../../mock-smi/scenario-xid.js";
import { assertBuilt, GPUTEL } from "../helpers/cli.js";

const START = Date.parse("2026-07-14T08:00:00Z");
const SCENARIO = `
start: 2026-07-14T08:00:00Z
hosts:
  - name: kmsg-host
    gpus:
      - model: NVIDIA H100 80GB HBM3
        xid:
          - { at: 2m, code: 13, pid: 31337, name: python3 }
      - model: NVIDIA H100 80GB HBM3
        xid:
          - { at: 30s, code: 79 }
          - { at: 3m, code: 48, message: "An uncorrectable double bit error (DBE) has been detected." }
`;

function scenarioFile(text = SCENARIO): string {
  const file = join(mkdtempSync(join(tmpdir(), "gputel-kmsg-")), "scenario.yaml");
  writeFileSync(file, text);
  return file;
}

async function mockKmsg(args: string[], at: number[], follow = false) {
  let clock = at[0] ?? START;
  const writes: string[] = [];
  let stderr = "";
  const controller = new AbortController();
  const code = await run(args, {
    stdout: (t) => {
      writes.push(t);
      if (follow && writes.length >= 5) controller.abort();
    },
    stderr: (t) => {
      stderr += t;
    },
    now: () => clock,
    // A fake clock: sleeping moves time on.
    sleep: async (ms) => {
      clock += ms;
    },
    signal: controller.signal,
  });
  return { code, lines: writes.join("").split("\n").filter(Boolean), stderr };
}

describe("gputel mock-kmsg", () => {
  it("prints the due lines as kmsg records the kernel-log parser reads back", async () => {
    const file = scenarioFile();
    const { code, lines } = await mockKmsg(["--scenario", file], [START + 150_000]);
    expect(code).toBe(0);
    // 30 s: GPU 1's header + Xid 79; 2 m: GPU 0's header + Xid 13; the 3 m Xid 48 is not due yet.
    expect(lines).toHaveLength(4);
    const events = lines.map((l) => parseKernelLogLine(l));
    expect(events.map((e) => e?.kind ?? null)).toEqual([null, "xid", null, "xid"]);
    expect(lines[0]).toBe(`4,1000,150000000,-;NVRM: GPU at PCI:0000:2a:00: ${uuidFor("kmsg-host", 1)}`);
    expect(events[1]).toMatchObject({
      xid: 79,
      pciBusId: kernelBusId(busIdFor(1)),
      pid: null,
      message: "GPU has fallen off the bus.",
      kmsg: { seq: 1001, priority: 4 },
      monotonicUs: 150_000_000,
    });
    expect(events[3]).toMatchObject({ xid: 13, pciBusId: "0000:18:00", pid: 31337, processName: "python3" });
  });

  it("follows: prints each later line when its time comes", async () => {
    const file = scenarioFile();
    const { lines } = await mockKmsg(["--scenario", file, "--format", "journal", "--follow"], [START], true);
    expect(lines).toHaveLength(5);
    const last = parseKernelLogLine(lines[4] ?? "", { year: 2026 });
    expect(last).toMatchObject({
      xid: 48,
      pciBusId: "0000:2a:00",
      message: "An uncorrectable double bit error (DBE) has been detected.",
    });
    expect(lines[4]).toMatch(
      /^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} kmsg-host kernel: NVRM: Xid \(PCI:0000:2a:00\): 48, /,
    );
  });

  it("reports every bad xid entry with its key path", () => {
    const result = validateScenario({
      gpus: [
        {
          model: "NVIDIA H100 80GB HBM3",
          xid: [
            { at: "soon", code: 0 },
            { code: 13, name: "a,b", extra: 1 },
          ],
        },
      ],
    });
    expect("errors" in result && result.errors).toEqual([
      'gpus[0].xid[0].at: expected seconds or a duration like "90s", "5m"',
      "gpus[0].xid[0].code: expected a number from 1 to 65535",
      "gpus[0].xid[1].extra: unknown key (known: at, code, pid, name, message)",
      'gpus[0].xid[1].at: expected seconds or a duration like "90s", "5m"',
      "gpus[0].xid[1].name: a process comm has at most 15 characters and no comma",
    ]);
  });

  it("runs as bin/gputel with usage and configuration errors as the other commands", async () => {
    assertBuilt();
    const gputel = async (args: string[]) => {
      try {
        const { stdout } = await promisify(execFile)(process.execPath, [GPUTEL, "mock-kmsg", ...args]);
        return { code: 0, stdout, stderr: "" };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return e;
      }
    };
    const file = scenarioFile(SCENARIO.replace("start: 2026-07-14T08:00:00Z", "start: 2020-01-01T00:00:00Z"));
    const all = await gputel(["--scenario", file]);
    expect(all.code).toBe(0);
    expect(
      all.stdout
        .trimEnd()
        .split("\n")
        .map((l) => parseKernelLogLine(l)?.kind === "xid"),
    ).toEqual([false, true, false, true, true]);
    expect((await gputel(["--help"])).stdout).toMatch(/Usage: gputel mock-kmsg/);
    expect((await gputel([])).code).toBe(64);
    expect((await gputel(["--scenario", file, "--format", "xml"])).code).toBe(64);
    const bad = await gputel([
      "--scenario",
      scenarioFile("gpus: [{ model: NVIDIA H100 80GB HBM3, xid: 5 }]"),
    ]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/gpus\[0\]\.xid: expected a list/);
  });
});
