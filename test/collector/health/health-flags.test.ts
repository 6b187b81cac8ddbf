// xid, reset-required, pcie-degraded and nvlink-degraded on a fake clock: reset-required opens on
// evidence and closes only on evidence — never by a timer, never by missing data.
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_FLAGS_CONFIG } from "../../../collector/flags/config.js";
import { XID_QUIET_MS } from "../../../collector/flags/rules/xid.js";
import type { Flag, NewFlag } from "../../../collector/flags/types.js";
import { FlagStore } from "../../../collector/store/flag-store.js";
import { AgentState, GpuState } from "../../../shared/proto.js";
import { xidEvent } from "./events.js";
import { type FlagHarness, flagHarness, HOST, INTERVAL, MIN, T0, UUID } from "./flag-harness.js";

let h: FlagHarness | undefined;
afterEach(() => h?.cleanup());

const PCIE_SUSTAIN_MS = 5 * MIN;
const at = (seq: number, code: number, over = {}) =>
  xidEvent(seq, code, { time_ms: T0 + seq * 1000, ...over });

describe("xid flag", () => {
  it("marks an application-level Xid as the workload's fault, names its process, needs no reset", () => {
    h = flagHarness();
    h.xid([at(1, 13)]);
    const flag = h.open("xid");
    expect(flag).toMatchObject({ severity: "warning", gpuUuid: UUID, startMs: T0 + 1000 });
    expect(flag?.values).toMatchObject({ code: 13, fault: "workload", process: "python3", pid: 4242 });
    expect(flag?.reason).toContain("the workload's fault (process python3, pid 4242)");
    expect(h.open("reset-required")).toBeUndefined();
  });

  it("counts repeats, escalates on a more severe Xid, and closes after a quiet spell", () => {
    h = flagHarness();
    h.xid([at(1, 13), at(2, 13)]);
    expect(h.open("xid")?.values.count).toBe(2);
    h.xid([at(3, 79)]);
    const flag = h.open("xid");
    expect(flag).toMatchObject({ severity: "critical", values: { code: 79, fault: "hardware" } });
    expect(h.history("xid").filter((f) => f.endMs !== null)).toHaveLength(1);
    h.engine.tick(h.clock.now + XID_QUIET_MS - 1);
    expect(h.open("xid")).toBeDefined();
    h.engine.tick(h.clock.now + XID_QUIET_MS);
    expect(h.open("xid")).toBeUndefined();
  });
});

describe("reset-required", () => {
  it("opens on an NVLink5 Xid whose XID 144-150 decode row says RESET_GPU, and the reason says so", () => {
    h = flagHarness();
    // The detail of a line quoted in leptonai/gpud PR 1174 (test/fixtures/kernel-log/).
    const message =
      "NETIR_LINK_EVT Fatal XC0 i0 Link 00 (0x025001c6 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000)";
    h.xid([at(1, 149, { message, pid: null, process_name: "" })]);
    expect(h.open("xid")).toMatchObject({ severity: "critical", values: { code: 149, action: "reset-gpu" } });
    expect(h.open("xid")?.reason).toContain(
      "NVIDIA's XID 144-150 decode: NETIR_LINK_EVT/NETIR_LINK_DOWN, intrinfo 0x025001c6 (sub-code 37), error status 0x00000000 → RESET_GPU",
    );
    expect(h.open("reset-required")).toMatchObject({ severity: "critical", startMs: T0 + 1000 });
  });

  it("opens on Xid 79 and survives silence, absent values, restarts and the same agent boot", () => {
    h = flagHarness();
    h.frame(T0, {}, { host_sample: { uptime_seconds: 1000 } });
    h.xid([at(5, 79)]);
    expect(h.open("reset-required")).toMatchObject({ severity: "critical", startMs: T0 + 5000 });
    h.engine.tick(T0 + 30 * 24 * 3600_000); // a month of silence: no timer closes it
    h.frame(T0 + 40 * MIN, { state: GpuState.GPU_STATE_LOST }); // no uptime, GPU lost
    h.frame(T0 + 50 * MIN, {}, { host_sample: { uptime_seconds: 4000 } }); // same agent boot
    h = h.restart();
    expect(h.open("reset-required")).toBeDefined();
    // A new agent boot, but the host booted before the Xid (only the agent restarted).
    h.frame(T0 + 60 * MIN, {}, { boot_id: "agent-2", host_sample: { uptime_seconds: 3600 } });
    expect(h.open("reset-required")).toBeDefined();
    // A new agent boot on a host booted after the Xid, GPU healthy: closed.
    h.frame(T0 + 70 * MIN, {}, { boot_id: "agent-3", host_sample: { uptime_seconds: 300 } });
    expect(h.open("reset-required")).toBeUndefined();
    const closed = h.history("reset-required")[0];
    expect(closed?.endMs).toBe(T0 + 70 * MIN);
    expect(closed?.reason).toContain("GPU healthy after the host rebooted");
  });

  it("follows the GPU recovery action: opens on reset, holds through absent values, closes on none", () => {
    h = flagHarness();
    h.frame(T0, { gpu_recovery_action: 0 });
    expect(h.open("reset-required")).toBeUndefined();
    h.frame(T0 + INTERVAL, { gpu_recovery_action: 1 });
    expect(h.open("reset-required")?.reason).toContain("GPU recovery action: GPU reset");
    h.frame(T0 + 2 * INTERVAL, { gpu_recovery_action: null });
    h.frame(T0 + 3 * INTERVAL, { state: GpuState.GPU_STATE_TIMEOUT });
    expect(h.open("reset-required")).toBeDefined();
    h.frame(T0 + 4 * INTERVAL, { gpu_recovery_action: 0 });
    expect(h.open("reset-required")).toBeUndefined();
    const resets = h.delivered.filter((e) => e.flag.kind === "reset-required");
    expect(resets.map((e) => [e.type, e.flag.kind])).toEqual([
      ["opened", "reset-required"],
      ["closed", "reset-required"],
    ]);
  });

  it("follows remapped rows pending; every cause must clear", () => {
    h = flagHarness();
    h.frame(T0, { remapped_rows_pending: true, gpu_recovery_action: 1 });
    expect(h.open("reset-required")?.values.causes).toBe("recovery,remap");
    h.frame(T0 + INTERVAL, { remapped_rows_pending: false });
    expect(h.open("reset-required")?.values.causes).toBe("recovery");
    h.frame(T0 + 2 * INTERVAL, { gpu_recovery_action: 0 });
    expect(h.open("reset-required")).toBeUndefined();
  });

  it("closes on an operator's acknowledgement, which is recorded", () => {
    h = flagHarness();
    h.xid([at(1, 79)]);
    const flag = h.open("reset-required");
    expect(flag).toBeDefined();
    const result = h.engine.acknowledge(flag?.id ?? 0, "reset by hand, dcgmi diag passed", T0 + 5 * MIN);
    expect(result?.flag.endMs).toBe(T0 + 5 * MIN);
    expect(h.open("reset-required")).toBeUndefined();
    expect(h.store.flagStore().acksOf(UUID, T0, T0 + 3600_000)).toMatchObject([
      { flagId: flag?.id, kind: "reset-required", note: "reset by hand, dcgmi diag passed" },
    ]);
    expect(h.engine.acknowledge(987654, "x")).toBeUndefined();
  });
});

describe("pcie-degraded and nvlink-degraded", () => {
  const link = (gen: number, util: number) => ({
    pcie_link_gen: gen,
    pcie_link_gen_max: 5,
    pcie_link_width: 16,
    pcie_link_width_max: 16,
    utilization_gpu_pct: util,
  });

  it("raises a link below its maximum only under load and sustained; idle freezes it", () => {
    expect(DEFAULT_FLAGS_CONFIG.pcie).toEqual({ load_pct: 30, raise_after: "5m", clear_after: "5m" });
    h = flagHarness();
    let t = T0;
    for (; t <= T0 + PCIE_SUSTAIN_MS / 2; t += INTERVAL) h.frame(t, link(3, 90));
    for (; t <= T0 + 60 * MIN; t += INTERVAL) h.frame(t, link(1, 0)); // idle: power saving, not judged
    expect(h.open("pcie-degraded")).toBeUndefined();
    for (const end = t + PCIE_SUSTAIN_MS; t <= end; t += INTERVAL) h.frame(t, link(3, 90));
    expect(h.open("pcie-degraded")?.reason).toContain("Gen3 x16 under load, below the GPU's Gen5 x16");
    for (const end = t + PCIE_SUSTAIN_MS; t <= end; t += INTERVAL) h.frame(t, link(5, 90));
    expect(h.open("pcie-degraded")).toBeUndefined();
  });

  it("raises and clears NVLink on the poll that shows it; absent values change nothing", () => {
    h = flagHarness();
    h.frame(T0, { nvlink_links_down: 0, nvlink_links_below_speed: 0 });
    h.frame(T0 + INTERVAL, { nvlink_links_down: 2, nvlink_links_below_speed: 0 });
    expect(h.open("nvlink-degraded")).toMatchObject({ severity: "critical" });
    h.frame(T0 + 2 * INTERVAL, {});
    expect(h.open("nvlink-degraded")).toBeDefined();
    h.frame(T0 + 3 * INTERVAL, { nvlink_links_down: 0, nvlink_links_below_speed: 0 });
    expect(h.open("nvlink-degraded")).toBeUndefined();
  });

  it("NVLink error counters: a rise opens it, steady for flags.nvlink.clear_after closes it; a standing count or a reset does not", () => {
    expect(DEFAULT_FLAGS_CONFIG.nvlink).toEqual({ min_errors: 1, clear_after: "15m" });
    h = flagHarness();
    const links = { nvlink_links_down: 0, nvlink_links_below_speed: 0 };
    let t = T0;
    const poll = (errors: number | undefined, until: number) => {
      for (; t < until; t += INTERVAL)
        h?.frame(t, errors === undefined ? {} : { ...links, nvlink_errors: errors });
    };
    poll(40, T0 + 5 * MIN); // 40 errors from before the collector knew the GPU: not judged
    poll(0, T0 + 10 * MIN); // the driver reloaded: counters reset, not a rise
    expect(h.history("nvlink-degraded")).toEqual([]);
    const rose = t;
    poll(12, rose + 5 * MIN);
    expect(h.open("nvlink-degraded")).toMatchObject({
      severity: "warning",
      startMs: rose,
      values: { nvlink_errors: 12, nvlink_links_down: 0 },
    });
    expect(h.open("nvlink-degraded")?.reason).toBe(
      "NVLink: 12 replay/recovery/CRC error(s) since the previous reading",
    );
    poll(undefined, rose + 30 * MIN); // no readings: frozen, not cleared by missing data
    expect(h.open("nvlink-degraded")).toBeDefined();
    poll(12, rose + 15 * MIN + 30 * MIN);
    expect(h.open("nvlink-degraded")).toBeUndefined();
    expect(h.history("nvlink-degraded")[0]?.endMs).toBe(rose + 30 * MIN);
  });
});

describe("in a share group (broker.share_group): a GPU's event flags are its frames' holder's", () => {
  it("a member without the GPU's frames raises neither xid nor reset-required; an unmapped Xid it does", () => {
    h = flagHarness(undefined, { sharedFrames: true });
    h.xid([at(1, 79)]);
    // The events reach every member; counted here too, a lease's flags would be added twice.
    expect(h.history("xid")).toEqual([]);
    expect(h.history("reset-required")).toEqual([]);
    // An Xid the agent could not map to a GPU is the host's: every member raises it, no lease counts it.
    h.xid([at(2, 79, { gpu_uuid: "", gpu_index: null })]);
    expect(h.open("xid")).toMatchObject({ gpuUuid: null, startMs: T0 + 2000 });
  });

  it("the holder raises both, and still once the host's frames stopped: it is the last to hold them", () => {
    h = flagHarness(undefined, { sharedFrames: true, gpuMoveHoldMs: 10 * MIN });
    h.frame(T0, {});
    h.xid([at(1, 79)]);
    expect(h.open("xid")).toMatchObject({ gpuUuid: UUID, startMs: T0 + 1000 });
    expect(h.open("reset-required")).toMatchObject({ gpuUuid: UUID, startMs: T0 + 1000 });
    h.engine.acknowledge(h.open("xid")?.id ?? 0, "seen", T0 + 2 * MIN);
    h.engine.acknowledge(h.open("reset-required")?.id ?? 0, "reset", T0 + 2 * MIN);
    // No frame here since T0, past gpu_move_hold: the host's frames stopped (this member calls it
    // stale), and no other member has them either. Until 2026-12-07 the Xid was flagged nowhere.
    h.clock.now = T0 + 20 * MIN;
    h.engine.tick(h.clock.now);
    expect(h.open("stale")).toBeDefined();
    h.xid([at(3, 79, { time_ms: h.clock.now })]);
    expect(h.open("xid")).toMatchObject({ gpuUuid: UUID, startMs: h.clock.now });
    expect(h.open("reset-required")).toMatchObject({ gpuUuid: UUID, startMs: h.clock.now });
  });

  it("the member that held the frames when the host went offline raises the Xids that come before its next frame", () => {
    h = flagHarness(undefined, { sharedFrames: true, gpuMoveHoldMs: 10 * MIN });
    h.frame(T0, {});
    h.engine.onStatus(
      { host: HOST, state: AgentState.AGENT_STATE_OFFLINE, timestamp_ms: T0 + MIN },
      T0 + MIN,
    );
    h.clock.now = T0 + 30 * MIN;
    h.engine.onStatus(
      { host: HOST, state: AgentState.AGENT_STATE_ONLINE, timestamp_ms: h.clock.now, interval_ms: INTERVAL },
      h.clock.now,
    );
    // The agent's spool: an Xid logged while it was away, processed before its first frame. Every
    // member's frames-here mark went with the offline status; this one held them last.
    h.xid([at(2, 79, { time_ms: T0 + 20 * MIN })]);
    expect(h.open("xid")).toMatchObject({ gpuUuid: UUID, startMs: T0 + 20 * MIN });
    expect(h.open("reset-required")).toMatchObject({ gpuUuid: UUID, startMs: T0 + 20 * MIN });
  });

  it("the member a new host's first frame reaches raises the Xids its agent sent before it", () => {
    h = flagHarness(undefined, { sharedFrames: true, gpuMoveHoldMs: 10 * MIN });
    // An agent's first start replays its kernel log from the boot: no member has its frames yet.
    h.xid([at(1, 79)]);
    expect(h.history("xid")).toEqual([]);
    h.clock.now = T0 + 5 * MIN;
    h.frame(h.clock.now, { gpu_recovery_action: 1 });
    expect(h.open("xid")).toMatchObject({ gpuUuid: UUID, startMs: T0 + 1000 });
    expect(h.open("reset-required")).toMatchObject({ gpuUuid: UUID, startMs: T0 + 1000 });
  });

  it("a restart within gpu_move_hold keeps the parked Xids: the first frame after it raises them", () => {
    h = flagHarness(undefined, { sharedFrames: true, gpuMoveHoldMs: 10 * MIN });
    h.xid([at(1, 79)]);
    // The collector stops and starts again (the same database file) before the host's first frame.
    // Until 2026-12-08 the parked Xid went with the process: GPU fallen off the bus, flagged nowhere.
    h = h.restart();
    h.clock.now = T0 + 5 * MIN;
    h.frame(h.clock.now, { gpu_recovery_action: 1 });
    expect(h.open("xid")).toMatchObject({ gpuUuid: UUID, startMs: T0 + 1000, values: { count: 1 } });
    expect(h.open("reset-required")).toMatchObject({ gpuUuid: UUID, startMs: T0 + 1000 });
    // Raised once: the next restart and frame raise it no more.
    h = h.restart();
    h.clock.now = T0 + 6 * MIN;
    h.frame(h.clock.now, { gpu_recovery_action: 1 });
    expect(h.history("xid")).toHaveLength(1);
    expect(h.open("xid")?.values.count).toBe(1);
  });

  it("a parked Xid is in the database from the batch that parked it: a crash keeps it too", () => {
    h = flagHarness(undefined, { sharedFrames: true, gpuMoveHoldMs: 10 * MIN });
    h.xid([at(1, 79)]);
    // A second engine on the same file, the first never stopped (nothing saved at a stop).
    const crashed = h;
    h = flagHarness(crashed.tmp, { sharedFrames: true, gpuMoveHoldMs: 10 * MIN });
    h.clock.now = T0 + 2 * MIN;
    h.frame(h.clock.now, {});
    expect(h.open("xid")).toMatchObject({ gpuUuid: UUID, startMs: T0 + 1000 });
  });

  it("a first frame whose raise did not commit leaves the Xids parked for the next frame", () => {
    let failing = 0;
    class FailingOnce extends FlagStore {
      override insert(flag: NewFlag, nowMs: number): Flag {
        if (failing > 0) {
          failing -= 1;
          throw new Error("SQLITE_FULL: database or disk is full");
        }
        return super.insert(flag, nowMs);
      }
    }
    h = flagHarness(undefined, {
      sharedFrames: true,
      gpuMoveHoldMs: 10 * MIN,
      records: (store) => new FailingOnce(store.db),
    });
    h.xid([at(1, 79)]);
    failing = 1;
    const harness = h;
    expect(() => harness.frame(T0 + MIN, {})).toThrow("SQLITE_FULL");
    expect(h.history("xid")).toEqual([]);
    // The raise rolled back with its frame's transaction: the Xid is still parked, also in memory.
    h.frame(T0 + 2 * MIN, {});
    expect(h.open("xid")).toMatchObject({ gpuUuid: UUID, startMs: T0 + 1000 });
  });

  it("a parked Xid still lapses gpu_move_hold after it came, the collector's down time included", () => {
    h = flagHarness(undefined, { sharedFrames: true, gpuMoveHoldMs: 10 * MIN });
    h.xid([at(1, 79)]);
    h = h.restart();
    h.clock.now = T0 + 10 * MIN + 1001;
    h.frame(h.clock.now, {});
    expect(h.history("xid")).toEqual([]);
    expect(h.history("reset-required")).toEqual([]);
  });

  it("a first frame past gpu_move_hold after an Xid leaves it to the member that was given it", () => {
    h = flagHarness(undefined, { sharedFrames: true, gpuMoveHoldMs: 10 * MIN });
    h.xid([at(1, 79)]);
    h.clock.now = T0 + 10 * MIN + 1001;
    h.engine.tick(h.clock.now);
    h.frame(h.clock.now, {});
    expect(h.history("xid")).toEqual([]);
    expect(h.history("reset-required")).toEqual([]);
  });

  it("a member whose last hold ended with the offline gives the host up gpu_move_hold after it came back", () => {
    h = flagHarness(undefined, { sharedFrames: true, gpuMoveHoldMs: 10 * MIN });
    h.frame(T0, {});
    h.engine.onStatus(
      { host: HOST, state: AgentState.AGENT_STATE_OFFLINE, timestamp_ms: T0 + MIN },
      T0 + MIN,
    );
    h.engine.onStatus(
      { host: HOST, state: AgentState.AGENT_STATE_ONLINE, timestamp_ms: T0 + 2 * MIN, interval_ms: INTERVAL },
      T0 + 2 * MIN,
    );
    // No frame here in gpu_move_hold since the host came back: they go to another member now.
    h.clock.now = T0 + 12 * MIN + 1;
    h.xid([at(2, 79, { time_ms: h.clock.now })]);
    expect(h.history("xid")).toEqual([]);
    // Nor is it this member's again at the next offline, without a frame here in between.
    h.engine.onStatus(
      { host: HOST, state: AgentState.AGENT_STATE_OFFLINE, timestamp_ms: h.clock.now },
      h.clock.now,
    );
    h.xid([at(3, 79, { time_ms: h.clock.now + 1 })]);
    expect(h.history("xid")).toEqual([]);
  });
});
