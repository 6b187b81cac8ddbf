// `gputel mock-smi -- pmon`: the real tool's layout byte for byte (checked against the captures'
// pmon rows), values from the scenario, `-c`/`-d`/`-s`/`-i`, and replay answering verbatim.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePmon } from "../../agent/holders/pmon.js";
import { parseCapture } from "../../mock-smi/capture.js";
import { pmonHeader, pmonRow } from "../../mock-smi/pmon-format.js";
import { parseSmiArgs } from "../../mock-smi/smi-args.js";
import { CAPTURE_DIR, CAPTURES, mockSmi, readCapture } from "./helpers.js";

const pmonSection = (file: string, phase: string) =>
  parseCapture(readCapture(file)).sections.find((s) => s.phase === phase && s.name.startsWith("pmon"))
    ?.output ?? "";

describe("pmon layout matches the captures", () => {
  it.each(CAPTURES)("%s: header and every row re-printed identically", (file) => {
    for (const phase of ["idle", "load"]) {
      const lines = pmonSection(file, phase).replace(/\n+$/, "").split("\n");
      expect(`${lines[0]}\n${lines[1]}\n`).toBe(pmonHeader(["u"]));
      const parsed = parsePmon(lines.join("\n"));
      if (!parsed.ok) throw new Error(parsed.error);
      const printed = parsed.samples.flatMap((s) => [
        ...s.rows.map((r) =>
          pmonRow({ gpuIndex: r.gpuIndex, pid: r.pid, type: r.type, name: r.name, values: r.values }, ["u"]),
        ),
        ...s.idleGpus.map((g) => pmonRow({ gpuIndex: g, values: {} }, ["u"])),
      ]);
      expect(printed.join("")).toBe(`${lines.slice(2).join("\n")}\n`);
    }
  });

  it("-s um puts fb and ccpm first", () => {
    expect(pmonHeader(["m", "u"])).toBe(
      "# gpu         pid   type     fb   ccpm     sm    mem    enc    dec    jpg    ofa    command \n" +
        "# Idx           #    C/G     MB     MB      %      %      %      %      %      %    name \n",
    );
  });
});

describe("pmon arguments", () => {
  it.each([
    [["pmon"], { kind: "pmon", ids: undefined, select: undefined, count: undefined, delayS: 1 }],
    [["pmon", "-c", "1", "-s", "um"], { kind: "pmon", ids: undefined, select: "um", count: 1, delayS: 1 }],
    [
      ["pmon", "-i", "0,1", "-d", "5"],
      { kind: "pmon", ids: ["0", "1"], select: undefined, count: undefined, delayS: 5 },
    ],
  ])("%j", (args, expected) => {
    expect(parseSmiArgs(args)).toEqual(expected);
  });

  it.each([[["pmon", "-d", "11"]], [["pmon", "-c", "0"]], [["pmon", "-x"]], [["pmon", "-c"]]])(
    "%j is not emulated",
    (args) => {
      expect(parseSmiArgs(args).kind).toBe("other");
    },
  );
});

const SCENARIO = `
hosts:
  - name: pmon-host
    gpus:
      - model: NVIDIA H100 80GB HBM3
        utilization: { constant: 80 }
        processes:
          - { pid: 4121, name: /usr/bin/python3, used_memory: 40000 }
          - { pid: 4122, name: trainer, used_memory: 1000 }
          - { pid: 900, name: Xorg, used_memory: 20, type: G }
      - model: NVIDIA H100 80GB HBM3
`;

describe("pmon in scenario mode", () => {
  const dir = mkdtempSync(join(tmpdir(), "gputel-pmon-"));
  const file = join(dir, "s.yaml");
  writeFileSync(file, SCENARIO);

  it("-c 1 -s um: one interval, SM shared by the compute processes, fb = their memory, idle GPU row", async () => {
    const r = await mockSmi(["--scenario", file, "--", "pmon", "-c", "1", "-s", "um"]);
    expect(r.code).toBe(0);
    expect(r.writes).toHaveLength(1);
    const parsed = parsePmon(r.stdout);
    expect(parsed.ok && parsed.samples).toEqual([
      {
        rows: [
          {
            gpuIndex: 0,
            pid: 4121,
            type: "C",
            name: "python3",
            values: { sm: 40, mem: 16, fb: 40000, ccpm: 0 },
            notSampled: ["enc", "dec", "jpg", "ofa"],
          },
          {
            gpuIndex: 0,
            pid: 4122,
            type: "C",
            name: "trainer",
            values: { sm: 40, mem: 16, fb: 1000, ccpm: 0 },
            notSampled: ["enc", "dec", "jpg", "ofa"],
          },
          {
            gpuIndex: 0,
            pid: 900,
            type: "G",
            name: "Xorg",
            values: { fb: 20, ccpm: 0 },
            notSampled: ["sm", "mem", "enc", "dec", "jpg", "ofa"],
          },
        ],
        idleGpus: [1],
      },
    ]);
  });

  it("long-lived: the header once, an interval every -d seconds until killed", async () => {
    let clock = Date.parse("2026-12-04T10:00:00Z");
    const sleeps: number[] = [];
    const controller = new AbortController();
    const r = await mockSmi(["--scenario", file, "--", "pmon", "-s", "um", "-i", "1", "-d", "2"], {
      now: () => clock,
      signal: controller.signal,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      onWrite: (writes) => writes.length >= 3 && controller.abort(),
    });
    expect(r.writes).toHaveLength(3);
    // Fixed cadence: every wait is one -d interval (the last one is cut short by the kill).
    expect(new Set(sleeps)).toEqual(new Set([2000]));
    expect(r.stdout.match(/^# gpu/gm)).toHaveLength(1);
    const parsed = parsePmon(r.stdout);
    expect(parsed.ok && parsed.samples.map((s) => s.idleGpus)).toEqual([[1], [1], [1]]);
  });

  it("a scenario process type other than C, G or C+G is refused with its key path", async () => {
    writeFileSync(join(dir, "bad.yaml"), SCENARIO.replace("type: G", "type: X"));
    const r = await mockSmi(["--scenario", join(dir, "bad.yaml"), "--", "pmon", "-c", "1"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("hosts[0].gpus[0].processes[2].type: expected C, G or C+G, not 'X'");
  });
});

describe("pmon in replay mode", () => {
  it("answers the capture's own `pmon -c 5` verbatim", async () => {
    const file = "linux-x86_64__nvidia-l40s__595.80.txt";
    const r = await mockSmi([
      "--replay",
      join(CAPTURE_DIR, file),
      "--phase",
      "load",
      "--",
      "pmon",
      "-c",
      "5",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(pmonSection(file, "load"));
  });
});
