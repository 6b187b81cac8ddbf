// Fault tests with real child processes: fake nvidia-smi scripts (fake-smi.ts) that hang, crash,
// lose a GPU, print garbage, have no driver, or do not exist. Short intervals; no sleeps, only
// waits on conditions with deadlines. Throughout, at most one stream child may be alive.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { NvidiaSmiSource } from "../../../agent/sources/nvidia-smi/runner.js";
import type { SourceSample } from "../../../agent/sources/source.js";
import { createLogger } from "../../../shared/logger.js";
import { AbsentReason, GpuState, Metric } from "../../../shared/proto.js";
import {
  DRIVER_LINE,
  type FakeSmi,
  groupMembers,
  LOST_LINE,
  REJECTED_FIELD,
  type StreamMode,
  streamChildren,
  waitFor,
  writeFakeSmi,
} from "./fake-smi.js";

interface Harness {
  source: NvidiaSmiSource;
  samples: SourceSample[];
  logs: Record<string, unknown>[];
  maxStreams: () => number;
  stop: () => Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startSource(command: string[], watchPath?: string, identitiesPath?: string): Promise<Harness> {
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const source = new NvidiaSmiSource({
    command,
    intervalMs: 100,
    computeAppsIntervalMs: 300,
    inventoryTimeoutMs: 2000,
    logger: createLogger({ host: "test" }, { level: "debug", destination }),
    firstSampleTimeoutMs: 1000,
    oneShotTimeoutMs: 2000,
    backoffMinMs: 50,
    backoffMaxMs: 400,
    stuckAfterMs: 2000,
    ...(identitiesPath !== undefined ? { identitiesPath } : {}),
  });
  const samples: SourceSample[] = [];
  let max = 0;
  // Poll the process table, independently of the source's own bookkeeping.
  const poll = setInterval(() => {
    if (watchPath) max = Math.max(max, streamChildren(watchPath).length);
    max = Math.max(max, source.childPids().stream === undefined ? 0 : 1);
  }, 5);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    clearInterval(poll);
    await source.stop();
  };
  cleanups.push(stop);
  await source.start((s) => samples.push(s));
  return { source, samples, logs, maxStreams: () => max, stop };
}

function fake(mode: StreamMode, gpus = 3): FakeSmi {
  const f = writeFakeSmi(mode, gpus);
  cleanups.push(() => f.cleanup());
  return f;
}

/** A first run with three healthy GPUs, stopped once it has saved them; its state directory. */
async function savedByAFirstRun(): Promise<{ dir: string; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-identities-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "nvidia-smi-gpus.json");
  const first = fake("normal");
  const before = await startSource([first.path], first.path, path);
  await waitFor(() => existsSync(path), 10_000, "the saved GPUs");
  await before.stop();
  return { dir, path };
}

const okSamples = (h: Harness) =>
  h.samples.filter((s) => s.gpus.length > 0 && s.gpus.every((g) => g.state === GpuState.GPU_STATE_OK));

describe("NvidiaSmiSource with a well-behaved nvidia-smi", () => {
  it("streams one sample per iteration from one long-lived child, with compute processes", async () => {
    const f = fake("normal");
    const h = await startSource([f.path], f.path);
    await waitFor(() => okSamples(h).length >= 5, 10_000, "5 samples");
    const pid = h.source.childPids().stream;
    expect(pid).toBeDefined();
    await waitFor(() => okSamples(h).length >= 10, 10_000, "10 samples");
    expect(h.source.childPids().stream).toBe(pid); // no process per sample
    const last = okSamples(h).at(-1)!;
    expect(last.gpus.map((g) => g.index)).toEqual([0, 1, 2]);
    expect(last.gpus[0]).toMatchObject({
      uuid: "GPU-0",
      utilization_gpu_pct: 42,
      power_draw_watts: 69.85,
      compute_processes: 1,
      compute_memory_mib: 500,
    });
    expect(last.gpus[1]).toMatchObject({ compute_processes: 0, compute_memory_mib: 0 });
    expect(last.sourceError).toBeUndefined();
    expect(h.maxStreams()).toBe(1);
    await h.stop();
    expect(streamChildren(f.path)).toEqual([]);
    expect(h.source.stats()).toMatchObject({ timeouts: 0, exits: 0, garbageLines: 0 });
  });

  it("inventory() rejects with GPUTEL_E_INVENTORY when -q -x is not understood", async () => {
    const f = fake("normal");
    const h = await startSource([f.path], f.path);
    await expect(h.source.inventory()).rejects.toMatchObject({ code: "GPUTEL_E_INVENTORY" });
  });
});

describe("NvidiaSmiSource faults", () => {
  it("hang: no complete sample within 3 intervals → killed, every GPU TIMEOUT without values, restarted", async () => {
    const f = fake("hang");
    const h = await startSource([f.path], f.path);
    await waitFor(() => okSamples(h).length >= 2, 10_000, "first samples");
    const firstPid = h.source.childPids().stream!;
    await waitFor(
      () => h.samples.some((s) => s.gpus[0]?.state === GpuState.GPU_STATE_TIMEOUT),
      10_000,
      "a TIMEOUT sample",
    );
    const timeout = h.samples.find((s) => s.gpus[0]?.state === GpuState.GPU_STATE_TIMEOUT)!;
    expect(timeout.gpus).toHaveLength(3);
    for (const gpu of timeout.gpus) {
      expect(gpu.state).toBe(GpuState.GPU_STATE_TIMEOUT);
      expect(gpu.utilization_gpu_pct).toBeUndefined(); // never the old values
      expect(gpu.power_draw_watts).toBeUndefined();
    }
    // The kill reached the whole group, the `sleep` the script was in included.
    await waitFor(() => groupMembers(firstPid).length === 0, 5000, "the hung group to die");
    await waitFor(
      () => h.source.stats().restarts >= 1 && okSamples(h).length >= 4,
      10_000,
      "a restarted child's samples",
    );
    expect(h.source.childPids().stream).not.toBe(firstPid);
    expect(h.source.stats().timeouts).toBeGreaterThanOrEqual(1);
    expect(h.maxStreams()).toBe(1);
    expect(h.logs.filter((l) => l.code === "GPUTEL_E_NVSMI_TIMEOUT").length).toBe(1);
  });

  it("crash: the child exits mid-stream → ERROR samples, restart with backoff", async () => {
    const f = fake("crash");
    const h = await startSource([f.path], f.path);
    await waitFor(() => h.source.stats().exits >= 2, 10_000, "two exits");
    const errors = h.samples.filter(
      (s) => s.gpus.length === 3 && s.gpus.every((g) => g.state === GpuState.GPU_STATE_ERROR),
    );
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]!.gpus[0]!.state_detail).toMatch(/exited with code 1/);
    expect(errors[0]!.gpus[0]!.utilization_gpu_pct).toBeUndefined();
    // The partial last iteration (only GPU 0 printed) keeps its real values, the rest are ERROR.
    expect(
      h.samples.some(
        (s) => s.gpus[0]?.state === GpuState.GPU_STATE_OK && s.gpus[1]?.state === GpuState.GPU_STATE_ERROR,
      ),
    ).toBe(true);
    expect(h.source.stats().restarts).toBeGreaterThanOrEqual(1);
    expect(h.maxStreams()).toBe(1);
  });

  it("lost GPU: that GPU LOST with the line kept, the others keep reporting, confirmed with -i", async () => {
    const f = fake("lost");
    const h = await startSource([f.path], f.path);
    await waitFor(
      () => h.samples.filter((s) => s.gpus[1]?.state === GpuState.GPU_STATE_LOST).length >= 5,
      10_000,
      "LOST samples",
    );
    const sample = h.samples.filter((s) => s.gpus[1]?.state === GpuState.GPU_STATE_LOST).at(-1)!;
    expect(sample.gpus[1]).toMatchObject({ index: 1, uuid: "GPU-1", state_detail: LOST_LINE });
    expect(sample.gpus[1]!.utilization_gpu_pct).toBeUndefined();
    expect(sample.gpus[0]).toMatchObject({ state: GpuState.GPU_STATE_OK, utilization_gpu_pct: 42 });
    expect(sample.gpus[2]).toMatchObject({ state: GpuState.GPU_STATE_OK, utilization_gpu_pct: 42 });
    await waitFor(
      () => h.logs.some((l) => l.msg === "GPU confirmed lost when queried alone" && l.gpu === 1),
      10_000,
      "the -i probe",
    );
    expect(h.maxStreams()).toBe(1);
  });

  it("a GPU lost before start keeps the UUID and bus id an earlier run saved (matched by bus id)", async () => {
    const { dir, path } = await savedByAFirstRun();
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      gpus: [0, 1, 2].map((i) => ({
        index: i,
        uuid: `GPU-${i}`,
        pci_bus_id: `00000000:${(0x34 + i).toString(16)}:00.0`,
      })),
    });
    // Now GPU 1 is off the bus from the start: -L prints only "…GPU1: 0000:35:00.0: Unknown Error".
    const lostLine = (h: Harness) => h.samples.find((s) => s.gpus[1]?.state === GpuState.GPU_STATE_LOST);
    const f = fake("lost-listed");
    const h = await startSource([f.path], f.path, path);
    await waitFor(() => lostLine(h) !== undefined, 10_000, "a LOST sample");
    expect(lostLine(h)?.gpus[1]).toMatchObject({ index: 1, uuid: "GPU-1", pci_bus_id: "00000000:35:00.0" });
    // The others are read in that same first iteration, not reported missing.
    expect(lostLine(h)?.gpus.map((g) => g.state)).toEqual([
      GpuState.GPU_STATE_OK,
      GpuState.GPU_STATE_LOST,
      GpuState.GPU_STATE_OK,
    ]);
    await h.stop();
    // The GPU saved, not read this time, stays saved.
    expect(JSON.parse(readFileSync(path, "utf8")).gpus).toHaveLength(3);
    // Without the file the same GPU has no UUID to report.
    const fresh = await startSource([f.path], f.path, join(dir, "other.json"));
    await waitFor(() => lostLine(fresh) !== undefined, 10_000, "a LOST sample");
    expect(lostLine(fresh)?.gpus[1]).toMatchObject({ index: 1, uuid: "" });
  });

  it("saved GPUs that cannot be written: one warning naming the file, and sampling goes on", async () => {
    const f = fake("normal");
    const path = join(tmpdir(), "gputel-no-such-dir-", String(process.pid), "nvidia-smi-gpus.json");
    const h = await startSource([f.path], f.path, path);
    await waitFor(() => okSamples(h).length >= 5, 10_000, "samples");
    const warnings = h.logs.filter((l) => String(l.msg).startsWith("GPU identities not saved"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ path });
    expect(existsSync(path)).toBe(false);
  });

  it("a GPU lost before start that -L names by bus id alone is reported lost under its saved index and UUID", async () => {
    const { dir, path } = await savedByAFirstRun();
    // "…for GPU0000:35:00.0: Unknown Error": no index; the saved bus id says it is GPU 1.
    const f = fake("lost-listed-bus");
    const h = await startSource([f.path], f.path, path);
    const lost = () => h.samples.find((s) => s.gpus.some((g) => g.state === GpuState.GPU_STATE_LOST));
    await waitFor(() => lost() !== undefined, 10_000, "a LOST sample");
    expect(lost()?.gpus.map((g) => [g.index, g.uuid, g.state])).toEqual([
      [0, "GPU-0", GpuState.GPU_STATE_OK],
      [1, "GPU-1", GpuState.GPU_STATE_LOST],
      [2, "GPU-2", GpuState.GPU_STATE_OK],
    ]);
    await h.stop();
    // Without the file nothing places that line: the two GPUs -L lists, and no lost one.
    const fresh = await startSource([f.path], f.path, join(dir, "other.json"));
    await waitFor(() => okSamples(fresh).length >= 3, 10_000, "samples");
    expect(
      okSamples(fresh)
        .at(-1)
        ?.gpus.map((g) => g.index),
    ).toEqual([0, 2]);
  });

  it("missing binary (ENOENT): one clear error, samples with sourceError, retried with backoff", async () => {
    const h = await startSource(["/nonexistent/gputel-test/nvidia-smi"]);
    expect(h.samples[0]?.sourceError).toMatch(/ENOENT/);
    await waitFor(() => h.source.stats().restarts >= 3, 10_000, "three retries");
    const errors = h.logs.filter((l) => l.code === "GPUTEL_E_NVSMI_MISSING");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.level).toBe("error");
    expect(h.samples.every((s) => s.sourceError && s.gpus.length === 0)).toBe(true);
  });

  it("driver not loaded: one GPUTEL_E_NVSMI_DRIVER error, the message as sourceError, no crash loop", async () => {
    const f = fake("driver");
    const h = await startSource([f.path], f.path);
    expect(h.samples[0]?.sourceError).toBe(DRIVER_LINE);
    await waitFor(() => h.source.stats().restarts >= 3, 10_000, "three retries");
    expect(h.logs.filter((l) => l.code === "GPUTEL_E_NVSMI_DRIVER")).toHaveLength(1);
    expect(h.maxStreams()).toBe(0);
  });

  it("a field the driver refuses to query: dropped (absent, NOT_QUERIED) and the stream re-run without it", async () => {
    const f = fake("rejects-field");
    const h = await startSource([f.path], f.path);
    await waitFor(() => okSamples(h).length >= 3, 10_000, "samples without the refused field");
    const last = okSamples(h).at(-1)!;
    expect(last.gpus[0]).toMatchObject({ utilization_gpu_pct: 42, power_draw_watts: 69.85 });
    expect(last.gpus[0]?.temperature_gpu_tlimit_celsius).toBeUndefined();
    expect(last.gpus[0]?.absent).toContainEqual({
      metric: Metric.METRIC_TEMPERATURE_GPU_TLIMIT,
      reason: AbsentReason.ABSENT_REASON_NOT_QUERIED,
    });
    expect(h.logs.filter((l) => l.field === REJECTED_FIELD)).toHaveLength(1);
    expect(h.maxStreams()).toBe(1);
  });

  it("garbage output: counted and logged once, samples keep flowing", async () => {
    const f = fake("garbage");
    const h = await startSource([f.path], f.path);
    await waitFor(
      () => okSamples(h).length >= 5 && h.source.stats().garbageLines >= 5,
      10_000,
      "samples and garbage",
    );
    expect(h.logs.filter((l) => l.code === "GPUTEL_E_NVSMI_OUTPUT")).toHaveLength(1);
    expect(h.source.stats().exits).toBe(0);
    expect(h.maxStreams()).toBe(1);
  });
});
