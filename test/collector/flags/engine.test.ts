import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_FLAGS_CONFIG, resolveFlagsConfig } from "../../../collector/flags/config.js";
import { FlagEngine } from "../../../collector/flags/engine.js";
import type { FlagEvent } from "../../../collector/flags/types.js";
import { CLOCK_EVENT } from "../../../shared/metrics.js";
import { AgentState, GpuState, type IGpuInfo } from "../../../shared/proto.js";
import { cleanup, frame, type Harness, harness, INTERVAL, MIN, run, sample, T0, UUID } from "./helpers.js";

let h: Harness;
afterEach(() => cleanup(h));

const opened = (kind: string) => h.events.filter((e) => e.type === "opened" && e.flag.kind === kind);
const closed = (kind: string) => h.events.filter((e) => e.type === "closed" && e.flag.kind === kind);

const H100: IGpuInfo = {
  index: 0,
  uuid: UUID,
  name: "NVIDIA H100 80GB HBM3",
  temperature_slowdown_celsius: 87,
  temperature_memory_max_celsius: 95,
};
function inventory(gpus: IGpuInfo[] = [H100]) {
  return { host: "node-1", site: "par1", labels: { customer: "acme" }, gpus };
}

describe("idle", () => {
  it("raises after 15 minutes below 5 %, starting when idleness began, and clears after 1 minute busy", () => {
    h = harness();
    run(h, T0, T0 + 20 * MIN, () => [
      sample({ utilization_gpu_pct: 2, memory_used_mib: 10, compute_processes: 0 }),
    ]);
    expect(opened("idle")).toHaveLength(1);
    const flag = opened("idle")[0]!.flag;
    expect(flag.startMs).toBe(T0);
    expect(flag.updatedMs).toBe(T0 + 15 * MIN);
    expect(flag.reason).toBe("GPU utilization 2 % has been below 5 % for 15m");
    expect(flag.values.utilization_gpu_pct).toBe(2);
    run(h, T0 + 20 * MIN, T0 + 25 * MIN, () => [
      sample({ utilization_gpu_pct: 90, memory_used_mib: 10, compute_processes: 1 }),
    ]);
    expect(closed("idle")).toHaveLength(1);
    expect(closed("idle")[0]!.flag.endMs).toBe(T0 + 20 * MIN);
    expect(h.engine.history({ kinds: ["idle"] })).toHaveLength(1);
  });

  it("one flag per episode: short busy spikes neither split it nor raise one before 15 idle minutes", () => {
    h = harness();
    run(h, T0, T0 + 60 * MIN, (t) => [
      sample({ utilization_gpu_pct: (t - T0) % (10 * MIN) === 0 ? 50 : 0, memory_used_mib: 0 }),
    ]);
    expect(opened("idle")).toHaveLength(0);
    run(h, T0 + 60 * MIN, T0 + 80 * MIN, () => [sample({ utilization_gpu_pct: 0, memory_used_mib: 0 })]);
    run(h, T0 + 80 * MIN, T0 + 140 * MIN, (t) => [
      sample({ utilization_gpu_pct: (t - T0) % (5 * MIN) === 0 ? 50 : 0, memory_used_mib: 0 }),
    ]);
    expect(opened("idle")).toHaveLength(1);
    expect(closed("idle")).toHaveLength(0);
  });

  it("idle-held when memory is allocated, with the numbers in the reason", () => {
    h = harness();
    run(h, T0, T0 + 16 * MIN, () => [
      sample({ utilization_gpu_pct: 0, memory_used_mib: 40_000, compute_processes: 2 }),
    ]);
    expect(opened("idle")).toHaveLength(0);
    const flag = opened("idle-held")[0]!.flag;
    expect(flag.severity).toBe("warning");
    expect(flag.reason).toContain("40000 MiB of memory allocated (> 1024 MiB)");
    expect(flag.reason).toContain("2 compute processes present");
  });

  it("MIG: utilization absent, decided from memory and processes, and says so", () => {
    h = harness();
    run(h, T0, T0 + 16 * MIN, () => [
      sample({ mig_mode: true, memory_used_mib: 20_000, compute_processes: 0 }),
    ]);
    const flag = opened("idle-held")[0]!.flag;
    expect(flag.reason).toMatch(/^MIG mode: utilization is not reported/);
    expect(flag.values.decided_from).toBe("memory_and_processes");
  });

  it("MIG with a compute process is busy, never idle", () => {
    h = harness();
    run(h, T0, T0 + 30 * MIN, () => [
      sample({ mig_mode: true, memory_used_mib: 20_000, compute_processes: 1 }),
    ]);
    expect(h.events).toHaveLength(0);
  });

  it("absent utilization (not MIG) never raises, and freezes an episode in progress", () => {
    h = harness();
    run(h, T0, T0 + 60 * MIN, () => [sample({ memory_used_mib: 0 })]);
    expect(h.events).toHaveLength(0);
    run(h, T0 + 60 * MIN, T0 + 70 * MIN, () => [sample({ utilization_gpu_pct: 0, memory_used_mib: 0 })]);
    run(h, T0 + 70 * MIN, T0 + 80 * MIN, () => [sample({ state: GpuState.GPU_STATE_TIMEOUT })]);
    expect(opened("idle")).toHaveLength(0);
    run(h, T0 + 80 * MIN, T0 + 86 * MIN, () => [sample({ utilization_gpu_pct: 0, memory_used_mib: 0 })]);
    expect(opened("idle")).toHaveLength(1);
    expect(opened("idle")[0]!.flag.startMs).toBe(T0 + 60 * MIN);
  });

  it("per-site and per-label overrides change the thresholds", () => {
    h = harness({
      ...DEFAULT_FLAGS_CONFIG,
      overrides: [{ match: { labels: { customer: "acme" } }, idle: { utilization_pct: 50, duration: "5m" } }],
    });
    run(h, T0, T0 + 6 * MIN, () => [sample({ utilization_gpu_pct: 30, memory_used_mib: 0 })]);
    expect(opened("idle")).toHaveLength(1);
    expect(opened("idle")[0]!.flag.updatedMs).toBe(T0 + 5 * MIN);
  });
});

describe("overheat", () => {
  it("raises after 2 minutes within 5 °C of the model's slowdown, clears 3 °C lower after 2 minutes", () => {
    h = harness();
    h.engine.onInventory(inventory(), T0);
    run(h, T0, T0 + 5 * MIN, () => [sample({ utilization_gpu_pct: 100, temperature_gpu_celsius: 84 })]);
    const flag = opened("overheat")[0]!.flag;
    expect(flag.updatedMs).toBe(T0 + 2 * MIN);
    expect(flag.reason).toBe(
      "GPU temperature 84 °C is within 5 °C of the NVIDIA H100 80GB HBM3's slowdown temperature 87 °C for 2m",
    );
    // 80 °C is in the band (raise point 82, clear at 79): never clears.
    run(h, T0 + 5 * MIN, T0 + 15 * MIN, () => [
      sample({ utilization_gpu_pct: 100, temperature_gpu_celsius: 80 }),
    ]);
    expect(closed("overheat")).toHaveLength(0);
    run(h, T0 + 15 * MIN, T0 + 18 * MIN, () => [
      sample({ utilization_gpu_pct: 100, temperature_gpu_celsius: 79 }),
    ]);
    expect(closed("overheat")).toHaveLength(1);
    expect(closed("overheat")[0]!.flag.endMs).toBe(T0 + 15 * MIN);
  });

  it("never flaps on noise around the raise point", () => {
    h = harness();
    h.engine.onInventory(inventory(), T0);
    run(h, T0, T0 + 60 * MIN, (t) => [
      sample({ temperature_gpu_celsius: ((t - T0) / INTERVAL) % 2 === 0 ? 83 : 80 }),
    ]);
    expect(opened("overheat").length).toBeLessThanOrEqual(1);
    expect(closed("overheat")).toHaveLength(0);
  });

  it("uses T.Limit headroom when the inventory has no slowdown temperature", () => {
    h = harness();
    run(h, T0, T0 + 3 * MIN, () => [
      sample({ temperature_gpu_celsius: 85, temperature_gpu_tlimit_celsius: 4 }),
    ]);
    expect(opened("overheat")[0]!.flag.reason).toContain(
      "4 °C below the GPU's slowdown temperature (T.Limit)",
    );
  });

  it("falls back to the configured ceilings without a slowdown temperature, T.Limit or memory maximum", () => {
    h = harness();
    run(h, T0, T0 + 3 * MIN, () => [sample({ temperature_gpu_celsius: 84, temperature_memory_celsius: 89 })]);
    expect(h.events).toHaveLength(0);
    run(h, T0 + 3 * MIN, T0 + 6 * MIN, () => [sample({ temperature_gpu_celsius: 85 })]);
    const gpu = opened("overheat")[0]!.flag;
    expect(gpu.reason).toBe(
      "GPU temperature 85 °C reached the configured ceiling 85 °C (the GPU reports no slowdown temperature) for 2m",
    );
    expect(gpu.values).toMatchObject({ triggers: "gpu", temperature_gpu_celsius: 85, ceiling_celsius: 85 });
    cleanup(h);
    h = harness();
    run(h, T0, T0 + 3 * MIN, () => [sample({ temperature_gpu_celsius: 60, temperature_memory_celsius: 90 })]);
    const memory = opened("overheat")[0]!.flag;
    expect(memory.reason).toBe("Memory temperature 90 °C reached the configured ceiling 90 °C for 2m");
    expect(memory.values).toMatchObject({ triggers: "memory", memory_ceiling_celsius: 90 });
  });

  it("HBM temperature near its max, and thermal slowdown bits, raise it; absent temperature never does", () => {
    h = harness();
    h.engine.onInventory(inventory(), T0);
    run(h, T0, T0 + 30 * MIN, () => [sample({})]);
    expect(h.events).toHaveLength(0);
    run(h, T0 + 30 * MIN, T0 + 33 * MIN, () => [
      sample({ temperature_gpu_celsius: 60, temperature_memory_celsius: 92 }),
    ]);
    expect(opened("overheat")[0]!.flag.reason).toContain("Memory (HBM) temperature 92 °C is within 5 °C");
    cleanup(h);
    h = harness();
    run(h, T0, T0 + 3 * MIN, () => [
      sample({ temperature_gpu_celsius: 60, clock_event_reasons: CLOCK_EVENT.HW_THERMAL_SLOWDOWN }),
    ]);
    expect(opened("overheat")[0]!.flag.severity).toBe("critical");
  });

  it("a hot GPU whose temperature goes absent stays flagged (unknown is not cool)", () => {
    h = harness();
    h.engine.onInventory(inventory(), T0);
    run(h, T0, T0 + 3 * MIN, () => [sample({ temperature_gpu_celsius: 86 })]);
    run(h, T0 + 3 * MIN, T0 + 30 * MIN, () => [sample({ clock_event_reasons: 0 })]);
    expect(opened("overheat")).toHaveLength(1);
    expect(closed("overheat")).toHaveLength(0);
  });
});

describe("throttled", () => {
  it("raises after 2 minutes of power capping and records GPU-minutes lost", () => {
    h = harness();
    run(h, T0, T0 + 10 * MIN, () => [sample({ clock_event_reasons: CLOCK_EVENT.SW_POWER_CAP })]);
    expect(opened("throttled")[0]!.flag.updatedMs).toBe(T0 + 2 * MIN);
    run(h, T0 + 10 * MIN, T0 + 12 * MIN, () => [sample({ clock_event_reasons: 0 })]);
    const flag = closed("throttled")[0]!.flag;
    expect(flag.values.throttled_ms).toBe(10 * MIN - INTERVAL);
    expect(flag.values.gpu_minutes_lost).toBeCloseTo(10 - INTERVAL / MIN, 2);
    expect(h.events.some((e) => e.type === "updated" && e.flag.kind === "throttled")).toBe(true);
  });
});

describe("stale, offline, lost, error", () => {
  it("stale after 3 intervals without a frame (tick), closed when a frame arrives", () => {
    h = harness();
    run(h, T0, T0 + MIN, () => [sample({ utilization_gpu_pct: 50 })]);
    const last = T0 + MIN - INTERVAL;
    h.engine.tick(last + 3 * INTERVAL);
    expect(opened("stale")).toHaveLength(0);
    h.engine.tick(last + 3 * INTERVAL + 1);
    h.engine.tick(last + 10 * INTERVAL);
    expect(opened("stale")).toHaveLength(1);
    expect(opened("stale")[0]!.flag.gpuUuid).toBeNull();
    h.engine.onFrames([frame(last + INTERVAL, [sample({ utilization_gpu_pct: 50 })])], last + 11 * INTERVAL);
    expect(closed("stale")).toHaveLength(1);
  });

  it("a replayed backlog does not raise stale retroactively and late frames are skipped", () => {
    h = harness();
    run(h, T0, T0 + MIN, () => [sample({ utilization_gpu_pct: 50 })]);
    const backlog = [];
    for (let t = T0 + MIN; t < T0 + 30 * MIN; t += INTERVAL)
      backlog.push(frame(t, [sample({ utilization_gpu_pct: 50 })]));
    h.engine.onFrames(backlog, T0 + 30 * MIN);
    h.engine.tick(T0 + 30 * MIN);
    expect(opened("stale")).toHaveLength(0);
    h.engine.onFrames([frame(T0 + 2 * MIN, [sample({ utilization_gpu_pct: 0 })])], T0 + 30 * MIN);
    expect(h.engine.stats().lateSamples).toBe(1);
  });

  it("a backlog replayed after an outage raises flags at the times they happened", () => {
    h = harness();
    h.engine.onInventory(inventory(), T0);
    run(h, T0, T0 + MIN, () => [sample({ temperature_gpu_celsius: 60 })]);
    h.engine.tick(T0 + 10 * MIN);
    expect(opened("stale")).toHaveLength(1);
    const backlog = [];
    for (let t = T0 + MIN; t < T0 + 10 * MIN; t += INTERVAL) {
      backlog.push(frame(t, [sample({ temperature_gpu_celsius: t >= T0 + 3 * MIN ? 85 : 60 })]));
    }
    h.engine.onFrames(backlog, T0 + 10 * MIN + 5000);
    expect(closed("stale")[0]!.flag.endMs).toBe(T0 + 10 * MIN + 5000);
    const heat = opened("overheat")[0]!.flag;
    expect(heat.startMs).toBe(T0 + 3 * MIN);
    expect(heat.updatedMs).toBe(T0 + 10 * MIN + 5000);
  });

  it("offline on the last will, closed when the agent is back online", () => {
    h = harness();
    run(h, T0, T0 + MIN, () => [sample({ utilization_gpu_pct: 50 })]);
    h.engine.onStatus(
      {
        host: "node-1",
        state: AgentState.AGENT_STATE_OFFLINE,
        reason: "connection lost",
        timestamp_ms: T0 + MIN,
      },
      T0 + MIN,
    );
    h.engine.tick(T0 + 10 * MIN);
    expect(opened("offline")[0]!.flag.reason).toBe(
      "Agent on node-1 went offline: connection lost (MQTT last will)",
    );
    expect(opened("stale")).toHaveLength(0);
    h.engine.onStatus(
      { host: "node-1", state: AgentState.AGENT_STATE_ONLINE, timestamp_ms: T0 + 11 * MIN },
      T0 + 11 * MIN,
    );
    expect(closed("offline")).toHaveLength(1);
  });

  it("lost: state LOST at once; missing from the report after 3 intervals", () => {
    h = harness();
    const other = { ...sample({ utilization_gpu_pct: 50 }), uuid: "GPU-2", index: 1 };
    run(h, T0, T0 + MIN, () => [sample({ utilization_gpu_pct: 50 }), other]);
    run(h, T0 + MIN, T0 + 2 * MIN, () => [
      sample({ state: GpuState.GPU_STATE_LOST, state_detail: "GPU is lost" }),
      other,
    ]);
    expect(opened("lost")[0]!.flag.startMs).toBe(T0 + MIN);
    run(h, T0 + 2 * MIN, T0 + 3 * MIN, () => [sample({ utilization_gpu_pct: 50 })]);
    const missing = opened("lost").filter((e) => e.flag.gpuUuid === "GPU-2");
    expect(missing).toHaveLength(1);
    expect(missing[0]!.flag.startMs).toBe(T0 + 2 * MIN);
    expect(missing[0]!.flag.updatedMs).toBe(T0 + 2 * MIN + 3 * INTERVAL);
    expect(closed("lost").map((e) => e.flag.gpuUuid)).toEqual([UUID]);
  });

  it("lost supersedes an error raised because the GPU could not be read; an ECC error stays", () => {
    h = harness();
    const other = { ...sample({ utilization_gpu_pct: 50 }), uuid: "GPU-2", index: 1 };
    // The iteration in which both GPUs fell off the bus stalled: every GPU reads TIMEOUT first.
    run(h, T0, T0 + MIN, () => [
      sample({ state: GpuState.GPU_STATE_TIMEOUT }),
      { ...other, state: GpuState.GPU_STATE_TIMEOUT, ecc_uncorrected_volatile: 0 },
    ]);
    run(h, T0 + MIN, T0 + 2 * MIN, () => [
      sample({ state: GpuState.GPU_STATE_TIMEOUT }),
      { ...other, state: GpuState.GPU_STATE_TIMEOUT, ecc_uncorrected_volatile: 2 },
    ]);
    expect(
      opened("error")
        .map((e) => e.flag.gpuUuid)
        .sort(),
    ).toEqual([UUID, "GPU-2"].sort());
    // One vanishes from the reports; the other reads LOST.
    run(h, T0 + 2 * MIN, T0 + 3 * MIN, () => [{ ...other, state: GpuState.GPU_STATE_LOST }]);
    expect(
      opened("lost")
        .map((e) => e.flag.gpuUuid)
        .sort(),
    ).toEqual([UUID, "GPU-2"].sort());
    // The timeout-only error closes when lost opens (after 3 missing intervals); the one with
    // rising ECC stays.
    expect(closed("error").map((e) => [e.flag.gpuUuid, e.flag.endMs])).toEqual([
      [UUID, T0 + 2 * MIN + 3 * INTERVAL],
    ]);
    expect(h.engine.openFlags({ kinds: ["error"] }).map((f) => f.gpuUuid)).toEqual(["GPU-2"]);
  });

  it("error: timeout state, rising uncorrectable ECC, failed row remap", () => {
    h = harness();
    run(h, T0, T0 + MIN, () => [sample({ state: GpuState.GPU_STATE_TIMEOUT })]);
    expect(opened("error")).toHaveLength(1);
    run(h, T0 + MIN, T0 + 2 * MIN, () => [sample({ ecc_uncorrected_volatile: 0 })]);
    expect(closed("error")).toHaveLength(1);
    run(h, T0 + 2 * MIN, T0 + 3 * MIN, (t) => [
      sample({ ecc_uncorrected_volatile: t >= T0 + 2.5 * MIN ? 3 : 0 }),
    ]);
    expect(opened("error")[1]!.flag.reason).toBe(
      "Uncorrectable ECC errors rising (0 → 3 since the driver loaded)",
    );
    expect(opened("error")[1]!.flag.severity).toBe("critical");
    run(h, T0 + 3 * MIN, T0 + 4 * MIN, () => [sample({})]);
    expect(closed("error")).toHaveLength(1);
  });
});

describe("restart", () => {
  it("an open flag stays open and is not re-raised; its episode continues", () => {
    h = harness();
    run(h, T0, T0 + 20 * MIN, () => [sample({ utilization_gpu_pct: 0, memory_used_mib: 0 })]);
    expect(opened("idle")).toHaveLength(1);
    h = h.reopen();
    expect(h.engine.openFlags({ kinds: ["idle"] })).toHaveLength(1);
    run(h, T0 + 20 * MIN, T0 + 40 * MIN, () => [sample({ utilization_gpu_pct: 0, memory_used_mib: 0 })]);
    expect(h.events).toHaveLength(0);
    run(h, T0 + 40 * MIN, T0 + 42 * MIN, () => [sample({ utilization_gpu_pct: 80, memory_used_mib: 0 })]);
    expect(closed("idle")).toHaveLength(1);
    expect(h.engine.history({ kinds: ["idle"] })).toHaveLength(1);
  });
});

describe("stale after a collector restart (issue 18)", () => {
  it("is judged from when the collector could receive again, not from its start", () => {
    h = harness();
    run(h, T0, T0 + MIN, () => [sample({ utilization_gpu_pct: 50 })]);
    h.engine.stop();
    // The collector is down for a while, and its next start takes 25 s before frames can arrive.
    const started = T0 + 10 * MIN;
    h.clock.now = started;
    const restarted = new FlagEngine({
      store: h.store,
      config: resolveFlagsConfig(DEFAULT_FLAGS_CONFIG),
      now: () => h.clock.now,
    });
    const events: FlagEvent[] = [];
    restarted.subscribe((e) => events.push(e));
    restarted.start();
    const receiving = started + 25_000;
    restarted.receiving(receiving);
    // The agent reconnects 28 s after the broker listens (its backoff): within 3 intervals of it.
    for (let t = started; t <= receiving + 28_000; t += 1000) restarted.tick(t);
    expect(events.filter((e) => e.type === "opened" && e.flag.kind === "stale")).toHaveLength(0);
    restarted.onFrames(
      [frame(receiving + 28_000, [sample({ utilization_gpu_pct: 50 })])],
      receiving + 28_000,
    );
    // A host that stays silent is still stale after 3 intervals of its last arrival.
    for (let t = receiving + 28_000; t <= receiving + 28_000 + 3 * INTERVAL + 1000; t += 1000)
      restarted.tick(t);
    const stale = events.filter((e) => e.type === "opened" && e.flag.kind === "stale");
    expect(stale).toHaveLength(1);
    restarted.stop();
  });
});

describe("stale with frames shared among collectors (broker.share_group)", () => {
  const online = (host: string, at: number) =>
    h.engine.onStatus(
      { host, state: AgentState.AGENT_STATE_ONLINE, timestamp_ms: at, interval_ms: INTERVAL },
      at,
    );
  const staleHosts = () => opened("stale").map((e) => e.flag.host);

  it("judges only the hosts whose frames arrive here; one whose frames stop here is stale", () => {
    h = harness(DEFAULT_FLAGS_CONFIG, undefined, { sharedFrames: true });
    // Both statuses reach every member; node-2's frames go to the other collector.
    online("node-1", T0);
    online("node-2", T0);
    run(h, T0, T0 + MIN, () => [sample({ utilization_gpu_pct: 50 })]);
    for (let t = T0; t <= T0 + MIN + 2 * INTERVAL; t += 1000) h.engine.tick(t);
    expect(staleHosts()).toEqual([]);
    // node-1's frames stop: it is this collector's, so stale here.
    h.engine.tick(T0 + MIN - INTERVAL + 3 * INTERVAL + 1);
    h.engine.tick(T0 + 30 * MIN);
    expect(staleHosts()).toEqual(["node-1"]);
  });

  it("round robin: every other frame here keeps a host fresh; when all stop it is stale", () => {
    h = harness(DEFAULT_FLAGS_CONFIG, undefined, { sharedFrames: true });
    online("node-1", T0);
    for (let t = T0; t < T0 + 5 * MIN; t += 2 * INTERVAL) {
      h.engine.onFrames([frame(t, [sample({ utilization_gpu_pct: 50 })])], t);
      h.engine.tick(t + INTERVAL);
    }
    expect(staleHosts()).toEqual([]);
    h.engine.tick(T0 + 5 * MIN + 2 * INTERVAL);
    expect(staleHosts()).toEqual(["node-1"]);
  });

  it("after offline, a host is judged here again only once its frames arrive here", () => {
    h = harness(DEFAULT_FLAGS_CONFIG, undefined, { sharedFrames: true });
    run(h, T0, T0 + MIN, () => [sample({ utilization_gpu_pct: 50 })]);
    const off = T0 + MIN;
    h.engine.onStatus(
      { host: "node-1", state: AgentState.AGENT_STATE_OFFLINE, reason: "connection lost", timestamp_ms: off },
      off,
    );
    // Back online, its frames now going to another member (the group changed meanwhile).
    online("node-1", off + MIN);
    h.engine.tick(off + 30 * MIN);
    expect(staleHosts()).toEqual([]);
    h.engine.onFrames([frame(off + 31 * MIN, [sample({ utilization_gpu_pct: 50 })])], off + 31 * MIN);
    h.engine.tick(off + 31 * MIN + 3 * INTERVAL + 1);
    expect(staleHosts()).toEqual(["node-1"]);
  });

  it("a restart keeps the hosts whose frames came here, judged from when it can receive again", () => {
    h = harness(DEFAULT_FLAGS_CONFIG, undefined, { sharedFrames: true });
    online("node-2", T0);
    run(h, T0, T0 + MIN, () => [sample({ utilization_gpu_pct: 50 })]);
    h = h.reopen();
    const receiving = T0 + 10 * MIN;
    h.engine.receiving(receiving);
    h.engine.tick(receiving + 3 * INTERVAL);
    expect(staleHosts()).toEqual([]);
    h.engine.tick(receiving + 3 * INTERVAL + 1);
    expect(staleHosts()).toEqual(["node-1"]);
  });

  it("without shared frames a host with only a status is judged; that stale flag closes once shared", () => {
    h = harness();
    online("node-2", T0);
    h.engine.tick(T0 + 3 * INTERVAL + 1);
    expect(staleHosts()).toEqual(["node-2"]);
    h.close();
    h = harness(DEFAULT_FLAGS_CONFIG, h.dir, { sharedFrames: true });
    h.engine.tick(T0 + 5 * INTERVAL);
    expect(closed("stale").map((e) => e.flag.host)).toEqual(["node-2"]);
    expect(h.engine.openFlags({ kinds: ["stale"] })).toEqual([]);
  });
});
