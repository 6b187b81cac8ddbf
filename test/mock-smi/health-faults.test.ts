// Scenario health faults, read back through the agent's own pure readers: the recovery action in
// `-q -x` (one change, or a sequence of them), a PCIe link downgraded below its maximum in
// --query-gpu and -q -x, NVLink links taken down in `nvlink -s`, CRC errors growing in
// `nvlink -e`; consumer cards and MIG GPUs say NVLink is not supported, as the captures do.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readHealth } from "../../agent/sources/nvidia-smi/health-xml.js";
import {
  nvlinkErrorSum,
  nvlinkStatusSummary,
  parseNvlinkErrors,
  parseNvlinkStatus,
} from "../../agent/sources/nvidia-smi/nvlink.js";
import { convertSmiXml } from "../../agent/sources/nvidia-smi/xml-query.js";
import { mockSmi } from "./helpers.js";

const START = Date.parse("2026-07-14T08:00:00Z");
const SCENARIO = `
start: 2026-07-14T08:00:00Z
driver_version: "590.48.01"
hosts:
  - name: health-host
    gpus:
      - model: NVIDIA H100 80GB HBM3
        recovery_action: { at: 1m, action: Reset }
        pcie_downgrade: { at: 1m, gen: 3, width: 8 }
        nvlink_down: { at: 1m, links: 2 }
        nvlink_errors: { at: 1m, per_minute: 6 }
      - model: NVIDIA A100-SXM4-80GB
        mig: [3g.40gb]
      - model: NVIDIA GeForce RTX 4080 SUPER
`;

function scenario(): string {
  const file = join(mkdtempSync(join(tmpdir(), "gputel-health-")), "scenario.yaml");
  writeFileSync(file, SCENARIO);
  return file;
}

describe("mock-smi health faults", () => {
  it("before and after the faults' time: recovery action, PCIe link, NVLink", async () => {
    const file = scenario();
    const run = (args: string[], atS: number) =>
      mockSmi(["--scenario", file, "--", ...args], { now: () => START + atS * 1000 });

    for (const [atS, action, gen, width, down] of [
      [30, "none", 5, 16, 0],
      [90, "reset", 3, 8, 2],
    ] as const) {
      const xml = await run(["-q", "-x"], atS);
      const { doc, schema } = await convertSmiXml(xml.stdout);
      const [h100] = readHealth(doc, schema);
      expect(h100?.recoveryAction).toBe(action);
      expect(h100?.pcieReplayCounter).toBe(0);
      expect(h100?.pcieLink).toMatchObject({ genCurrent: gen, genMax: 5, widthCurrent: width, widthMax: 16 });

      const csv = await run(
        [
          "--query-gpu=pcie.link.gen.gpucurrent,pcie.link.gen.max,pcie.link.width.current,pcie.link.width.max",
          "--format=csv,noheader,nounits",
          "-i",
          "0",
        ],
        atS,
      );
      expect(csv.stdout.trim()).toBe(`${gen}, 5, ${width}, 16`);

      const nvlink = parseNvlinkStatus((await run(["nvlink", "-s"], atS)).stdout);
      expect(nvlink.unparsed).toEqual([]);
      const [first, mig, consumer] = nvlink.gpus;
      expect(first && nvlinkStatusSummary(first)).toEqual({ up: 18 - down, inactive: down, belowFastest: 0 });
      expect(mig?.support).toBe("mig");
      expect(consumer?.support).toBe("not-supported");
    }
  });

  it("nvlink -e: the real layout, zero counters, then link 0's CRC errors growing from the fault's time", async () => {
    const file = scenario();
    const run = (atS: number) =>
      mockSmi(["--scenario", file, "--", "nvlink", "-e"], { now: () => START + atS * 1000 });
    const before = await run(30);
    expect(before.code).toBe(0);
    const lines = before.stdout.split("\n");
    expect(lines[0]).toMatch(/^GPU 0: NVIDIA H100 80GB HBM3 \(UUID: GPU-[0-9a-f-]+\)$/);
    expect(lines.slice(1, 4)).toEqual([
      "\t Link 0: Replay Errors: 0",
      "\t Link 0: Recovery Errors: 0",
      "\t Link 0: CRC Errors: 0",
    ]);
    const parsed = parseNvlinkErrors(before.stdout);
    expect(parsed.unparsed).toEqual([]);
    const [h100, mig, consumer] = parsed.gpus;
    expect(h100?.links).toHaveLength(18);
    expect(h100 && nvlinkErrorSum(h100)).toBe(0);
    expect(mig?.support).toBe("mig");
    expect(consumer?.support).toBe("not-supported");

    const after = parseNvlinkErrors((await run(60 + 150)).stdout).gpus[0];
    expect(after && nvlinkErrorSum(after)).toBe(15);
  });

  it("a recovery action sequence: -q -x says Reset after the Xid until the GPU's reset, then None", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "gputel-health-")), "sequence.yaml");
    writeFileSync(
      file,
      [
        "start: 2026-07-14T08:00:00Z",
        "hosts:",
        "  - name: h",
        "    gpus:",
        "      - model: NVIDIA H100 80GB HBM3",
        "        recovery_action:",
        "          - { at: 1m, action: Reset }",
        "          - { at: 3m, action: None }",
        "",
      ].join("\n"),
    );
    const actionAt = async (atS: number) => {
      const xml = await mockSmi(["--scenario", file, "--", "-q", "-x"], { now: () => START + atS * 1000 });
      const { doc, schema } = await convertSmiXml(xml.stdout);
      return readHealth(doc, schema)[0]?.recoveryAction;
    };
    expect([await actionAt(30), await actionAt(90), await actionAt(200)]).toEqual(["none", "reset", "none"]);
  });

  it("refuses an unknown recovery action, naming the key", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "gputel-health-")), "bad.yaml");
    writeFileSync(
      file,
      "hosts:\n  - name: h\n    gpus:\n      - model: NVIDIA H100 80GB HBM3\n        recovery_action: { at: 1m, action: Explode }\n",
    );
    const out = await mockSmi(["--scenario", file, "--", "-L"]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("recovery_action.action");
  });
});
