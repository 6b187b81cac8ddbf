// The slow health polls on real outputs: `nvlink -s` from every capture (H100 links up; consumer
// cards and MIG mode "not supported": absent, never 0), `-q -x` from the v13 fixtures (recovery
// action None = 0, PCIe replays), freshness (NOT_QUERIED before the first poll, ERROR once stale),
// a failing poll, and each poll in its own lane; `nvlink -e` (the H100 copy in extra/) summed into
// nvlink_errors, run after `nvlink -s` in the same lane; `-q -x` readings found by bus id, as the
// document leaves out a GPU that fell off the bus.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HealthPoller } from "../../../agent/sources/nvidia-smi/health-poller.js";
import type { OneShotResult } from "../../../agent/sources/supervisor/child-process.js";
import { silentLogger } from "../../../shared/logger.js";
import { METRIC_BY_ID, RECOVERY_ACTION } from "../../../shared/metrics.js";
import { AbsentReason, GpuState, type IGpuSample } from "../../../shared/proto.js";
import { mockSmi } from "../../mock-smi/helpers.js";
import { FIXTURES, readCapture, section } from "./capture.js";

const U = AbsentReason.ABSENT_REASON_UNSUPPORTED;

function ok(stdout: string, code = 0): OneShotResult {
  return { stdout, stderr: "", code, signal: null, timedOut: false } as OneShotResult;
}

function nvlinkOf(capture: string): string {
  return section(readCapture(capture), "capabilities", "nvlink -s").output;
}

function poller(outputs: Record<string, OneShotResult>, clock = { t: 0 }) {
  const kinds: string[] = [];
  const polls = new HealthPoller({
    command: ["nvidia-smi"],
    healthIntervalMs: 60_000,
    nvlinkIntervalMs: 300_000,
    timeoutMs: 30_000,
    run: async (argv, _timeout, kind) => {
      const args = argv.slice(1).join(" ");
      kinds.push(`${kind}:${args}`);
      return outputs[args] ?? outputs[kind] ?? ok("", 1);
    },
    log: silentLogger(),
    now: () => clock.t,
  });
  return { polls, kinds, clock };
}

/** GPU 0, on the bus of the `-q -x` fixture's GPU (rtx-3080-v13.xml): `-q -x` readings go by bus id. */
function sample(): IGpuSample {
  return {
    index: 0,
    uuid: "GPU-0",
    pci_bus_id: "00000000:0C:00.0",
    state: GpuState.GPU_STATE_OK,
    absent: [],
  };
}

function absentOf(gpu: IGpuSample): Record<string, number> {
  return Object.fromEntries(
    (gpu.absent ?? []).map((a) => [METRIC_BY_ID.get(a.metric ?? 0)?.key, a.reason ?? 0]),
  );
}

describe("health polls", () => {
  it("H100: every NVLink up at full speed reads 0 down, 0 below speed; each poll in its own lane", async () => {
    const xml = readFileSync(join(FIXTURES, "xml/rtx-3080-v13.xml"), "utf8");
    const { polls, kinds } = poller({
      nvlink: ok(nvlinkOf("linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt")),
      "health-xml": ok(xml),
      "nvlink -e": ok(readFileSync(join(FIXTURES, "extra/nvlink_e_mlengineering_h100.txt"), "utf8")),
    });
    await Promise.all([polls.poll("nvlink"), polls.poll("health-xml"), polls.poll("nvlink-errors")]);
    expect(kinds.sort()).toEqual(["health-xml:-q -x", "nvlink:nvlink -e", "nvlink:nvlink -s"]);
    const gpu = sample();
    polls.apply([gpu]);
    expect(gpu).toMatchObject({
      nvlink_links_down: 0,
      nvlink_links_below_speed: 0,
      gpu_recovery_action: 0,
      pcie_replay_count: 0,
    });
    expect(gpu.absent).toEqual([]);
  });

  it.each([
    ["linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05.txt", "all links inActive"],
    ["linux-x86_64__nvidia-geforce-rtx-4080-super__595.71.05.txt", "no NVLink"],
    ["linux-x86_64__nvidia-l40s__595.80.txt", "no NVLink"],
    ["linux-x86_64__nvidia-h100-mig__590.48.01.txt", "MIG mode"],
  ])("%s (%s): NVLink absent as unsupported, never 0", async (capture) => {
    const { polls } = poller({ nvlink: ok(nvlinkOf(capture), 3) });
    await polls.poll("nvlink");
    const gpu = sample();
    polls.apply([gpu]);
    expect(gpu.nvlink_links_down ?? undefined).toBeUndefined();
    expect(absentOf(gpu)).toMatchObject({ nvlink_links_down: U, nvlink_links_below_speed: U });
  });

  it("a link down and a link trained below the others' speed are counted", async () => {
    const text = [
      "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)",
      "\t Link 0: 26.562 GB/s",
      "\t Link 1: <inactive>",
      "\t Link 2: 13.281 GB/s",
    ].join("\n");
    const { polls } = poller({ nvlink: ok(text) });
    await polls.poll("nvlink");
    const gpu = sample();
    polls.apply([gpu]);
    expect(gpu).toMatchObject({ nvlink_links_down: 1, nvlink_links_below_speed: 1 });
  });

  it("before the first poll: NOT_QUERIED; stale past 3 periods or failing: ERROR", async () => {
    const { polls, clock } = poller({
      nvlink: ok(nvlinkOf("linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt")),
    });
    const before = sample();
    polls.apply([before]);
    expect(absentOf(before)).toEqual({
      gpu_recovery_action: AbsentReason.ABSENT_REASON_NOT_QUERIED,
      pcie_replay_count: AbsentReason.ABSENT_REASON_NOT_QUERIED,
      nvlink_links_down: AbsentReason.ABSENT_REASON_NOT_QUERIED,
      nvlink_links_below_speed: AbsentReason.ABSENT_REASON_NOT_QUERIED,
      nvlink_errors: AbsentReason.ABSENT_REASON_NOT_QUERIED,
    });
    await polls.poll("nvlink");
    await polls.poll("health-xml"); // fails: no output
    clock.t = 3 * 300_000 + 1;
    const stale = sample();
    polls.apply([stale]);
    expect(absentOf(stale)).toMatchObject({
      nvlink_links_down: AbsentReason.ABSENT_REASON_ERROR,
      gpu_recovery_action: AbsentReason.ABSENT_REASON_NOT_QUERIED,
    });
  });
});

describe("-q -x with a GPU fallen off the bus", () => {
  it("gives each GPU its own readings: the document skips the lost GPU, so a position is not an index", async () => {
    // nvidia-smi leaves a lost GPU out of the document (fixtures/nvidia-smi/errors.md: the
    // "Unable to determine the device handle" line, then the other GPUs' output).
    const dir = mkdtempSync(join(tmpdir(), "gputel-health-lost-"));
    const scenario = join(dir, "scenario.yaml");
    writeFileSync(
      scenario,
      [
        "start: 2026-07-14T08:00:00Z",
        'driver_version: "590.48.01"',
        "hosts:",
        "  - name: lost-host",
        "    gpus:",
        "      - { model: NVIDIA H100 80GB HBM3 }",
        "      - { model: NVIDIA H100 80GB HBM3, lost_at: 10s }",
        "      - { model: NVIDIA H100 80GB HBM3, recovery_action: { at: 10s, action: Reset } }",
        "      - { model: NVIDIA H100 80GB HBM3 }",
        "",
      ].join("\n"),
    );
    const now = () => Date.parse("2026-07-14T08:00:30Z");
    const smi = (args: string[]) => mockSmi(["--scenario", scenario, "--", ...args], { now });
    const xml = await smi(["-q", "-x"]);
    const buses = await smi(["--query-gpu=index,pci.bus_id", "--format=csv,noheader"]);
    rmSync(dir, { recursive: true, force: true });
    // The lost GPU's row is an "Unable to determine the device handle" line: no sample.
    const gpus: IGpuSample[] = [...buses.stdout.matchAll(/^(\d+), (\S+:\S+)$/gm)].map(([, index, bus]) => ({
      index: Number(index),
      uuid: `GPU-${index}`,
      pci_bus_id: bus ?? "",
      state: GpuState.GPU_STATE_OK,
      absent: [],
    }));
    expect(gpus.map((g) => g.index)).toEqual([0, 2, 3]);
    const { polls } = poller({ "health-xml": ok(xml.stdout) });
    await polls.poll("health-xml");
    polls.apply(gpus);
    expect(gpus.map((g) => [g.index, g.gpu_recovery_action])).toEqual([
      [0, RECOVERY_ACTION.NONE],
      [2, RECOVERY_ACTION.GPU_RESET],
      [3, RECOVERY_ACTION.NONE],
    ]);
  });
});

describe("nvlink -e poll", () => {
  const h100Errors = () => readFileSync(join(FIXTURES, "extra/nvlink_e_mlengineering_h100.txt"), "utf8");

  it("H100 copy: every counter 0 reads nvlink_errors 0, in the nvlink lane after nvlink -s", async () => {
    const { polls, kinds } = poller({
      "nvlink -s": ok(nvlinkOf("linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt")),
      "nvlink -e": ok(h100Errors()),
    });
    await Promise.all([polls.poll("nvlink"), polls.poll("nvlink-errors")]);
    expect(kinds).toEqual(["nvlink:nvlink -s", "nvlink:nvlink -e"]);
    const gpu = sample();
    polls.apply([gpu]);
    expect(gpu).toMatchObject({ nvlink_links_down: 0, nvlink_links_below_speed: 0, nvlink_errors: 0 });
    expect(absentOf(gpu)).not.toHaveProperty("nvlink_errors");
  });

  it("sums replay, recovery and CRC errors over the links; N/A and rate counters are not summed", async () => {
    const text = h100Errors()
      .replace("Link 0: Replay Errors: 0", "Link 0: Replay Errors: 7")
      .replace("Link 1: CRC Errors: 0", "Link 1: CRC Errors: 12")
      .replace("Link 17: Recovery Errors: 0", "Link 17: Recovery Errors: 1")
      .replace("Link 17: CRC Errors: 0", "Link 17: CRC Errors: N/A\n         Link 17: Effective Errors: 40");
    const { polls } = poller({ "nvlink -e": ok(text) });
    await polls.poll("nvlink-errors");
    const gpu = sample();
    polls.apply([gpu]);
    expect(gpu.nvlink_errors).toBe(20);
  });

  it.each([
    ["linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05.txt"],
    ["linux-x86_64__nvidia-geforce-rtx-4080-super__595.71.05.txt"],
    ["linux-x86_64__nvidia-h100-mig__590.48.01.txt"],
  ])(
    "%s: the capture's no-NVLink answer (as nvlink -e prints it too) is unsupported, not 0",
    async (capture) => {
      // The captures hold `nvlink -s` only; `-e` prints the same per-GPU line where links are not queryable.
      const { polls } = poller({ "nvlink -e": ok(nvlinkOf(capture), 3) });
      await polls.poll("nvlink-errors");
      const gpu = sample();
      polls.apply([gpu]);
      expect(gpu.nvlink_errors ?? undefined).toBeUndefined();
      expect(absentOf(gpu)).toMatchObject({ nvlink_errors: U });
    },
  );

  it("a failing nvlink -e leaves nvlink -s readings alone", async () => {
    const { polls } = poller({
      "nvlink -s": ok(nvlinkOf("linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt")),
      "nvlink -e": { ...ok(""), timedOut: true },
    });
    await polls.poll("nvlink");
    await polls.poll("nvlink-errors");
    const gpu = sample();
    polls.apply([gpu]);
    expect(gpu).toMatchObject({ nvlink_links_down: 0 });
    expect(absentOf(gpu)).toMatchObject({ nvlink_errors: AbsentReason.ABSENT_REASON_NOT_QUERIED });
  });
});
