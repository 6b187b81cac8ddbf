// The availability report from flag episodes and usage rows (pure): which GPUs were down, for
// how long, why; host-level flags take down the host's GPUs; a workload's Xid does not count.
import { describe, expect, it } from "vitest";
import type { Flag } from "../../../collector/flags/types.js";
import { isDown, mergeParts } from "../../../collector/reports/down-time.js";
import { buildDowntimeReport } from "../../../collector/reports/downtime-report.js";
import type { GpuUsage } from "../../../collector/reports/types.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 3);
const header = { fromMs: T0, toMs: T0 + 24 * HOUR, nowMs: T0 + 30 * HOUR };

function gpu(host: string, index: number, site: string, customer: string): GpuUsage {
  return {
    gpuId: index + (host === "a" ? 0 : 100),
    uuid: `GPU-${host}-${index}`,
    index,
    model: site === "east" ? "H100" : "A100",
    host,
    site,
    labels: { customer },
    periodMs: 24 * HOUR,
    busyMs: 0,
    idleMs: 0,
    idleHeldMs: 0,
    unknownReportedMs: 0,
    noDataMs: 0,
    energyWh: 0,
    energyIdleWh: 0,
    maxTemperatureC: null,
  };
}

let id = 0;
function flag(
  kind: Flag["kind"],
  host: string,
  index: number | null,
  from: number,
  to: number | null,
  values = {},
): Flag {
  return {
    id: ++id,
    kind,
    severity: "critical",
    host,
    gpuUuid: index === null ? null : `GPU-${host}-${index}`,
    gpuIndex: index,
    site: host === "a" ? "east" : "west",
    labels: {},
    startMs: T0 + from * HOUR,
    endMs: to === null ? null : T0 + to * HOUR,
    reason: `${kind} on ${host}`,
    values,
    updatedMs: 0,
  };
}

const usage = [gpu("a", 0, "east", "acme"), gpu("a", 1, "east", "acme"), gpu("b", 0, "west", "beta")];

describe("downtime report", () => {
  it("lists each down GPU with merged intervals, kinds and reasons, longest first", () => {
    const flags = [
      flag("lost", "a", 0, 2, 5),
      flag("reset-required", "a", 0, 4, 6),
      flag("error", "a", 0, 10, 11),
      // Starts before the range: clipped to it.
      flag("lost", "b", 0, -3, 1),
    ];
    const r = buildDowntimeReport(header, "site", {}, usage, flags);
    expect(r.kind).toBe("downtime");
    expect(r.down.map((d) => [d.gpu, d.downMs / HOUR])).toEqual([
      ["a:0", 5],
      ["b:0", 1],
    ]);
    const a0 = r.down[0];
    expect(a0?.intervals).toEqual([
      {
        fromMs: T0 + 2 * HOUR,
        toMs: T0 + 6 * HOUR,
        kinds: ["lost", "reset-required"],
        reasons: ["lost on a", "reset-required on a"],
      },
      { fromMs: T0 + 10 * HOUR, toMs: T0 + 11 * HOUR, kinds: ["error"], reasons: ["error on a"] },
    ]);
    const east = r.groups.find((g) => g.key === "east");
    expect(east).toMatchObject({ gpus: 2, downGpus: 1, downIntervals: 2, downGpuHours: 5 });
    expect(east?.lostGpuHours).toBe(3);
    expect(east?.resetRequiredGpuHours).toBe(2);
    expect(east?.errorGpuHours).toBe(1);
    expect(east?.availability).toBeCloseTo(1 - 5 / 48, 10);
    expect(r.total).toMatchObject({ gpus: 3, downGpus: 2, downGpuHours: 6 });
  });

  it("gives episodes that start together in one order, whatever order the history lists them in", () => {
    const lost = flag("lost", "a", 0, 2, 5);
    const offline = flag("offline", "a", null, 2, 3);
    const one = buildDowntimeReport(header, "site", {}, usage, [lost, offline]);
    const other = buildDowntimeReport(header, "site", {}, usage, [offline, lost]);
    expect(other).toEqual(one);
    expect(one.down.find((d) => d.gpu === "a:0")?.intervals[0]).toMatchObject({
      kinds: ["lost", "offline"],
      reasons: ["lost on a", "offline on a"],
    });
  });

  it("a host's offline or stale flag takes down every GPU of the host; an open flag runs to the range's end", () => {
    const r = buildDowntimeReport(header, { label: "customer" }, {}, usage, [
      flag("offline", "a", null, 20, null),
    ]);
    expect(r.down.map((d) => d.gpu).sort()).toEqual(["a:0", "a:1"]);
    expect(r.down[0]?.downMs).toBe(4 * HOUR);
    expect(r.groups.map((g) => [g.key, g.downGpus, g.unreachableGpuHours])).toEqual([
      ["acme", 2, 8],
      ["beta", 0, 0],
    ]);
    expect(r.groups.find((g) => g.key === "beta")?.availability).toBe(1);
  });

  it("counts a hardware Xid flag but not a workload's, nor idle or overheat", () => {
    // As a flag written now: its last Xid that takes the GPU down (fault_last_ms) at its end.
    const hw = flag("xid", "a", 0, 1, 2, { fault: "hardware", fault_last_ms: T0 + 2 * HOUR });
    const app = flag("xid", "a", 1, 1, 2, { fault: "workload" });
    expect(isDown(hw)).toBe(true);
    expect(isDown(app)).toBe(false);
    expect(isDown(flag("overheat", "a", 0, 1, 2))).toBe(false);
    expect(isDown(flag("idle", "a", 0, 1, 2))).toBe(false);
    const r = buildDowntimeReport(header, "host", {}, usage, [hw, app, flag("overheat", "b", 0, 1, 9)]);
    expect(r.down.map((d) => [d.gpu, d.intervals[0]?.kinds])).toEqual([["a:0", ["xid"]]]);
    expect(r.total.xidGpuHours).toBe(1);
  });

  it("counts a hardware Xid flag only when its Xid needs intervention: not one NVIDIA says to ignore", () => {
    // Xid 92 (high single-bit ECC rate) and 63 (row-remapping event): action none, the GPU works on.
    const ignored = flag("xid", "a", 0, 1, 2, { code: 92, fault: "hardware", action: "none" });
    const remap = flag("xid", "a", 0, 3, 4, { code: 63, fault: "hardware", action: "none" });
    // Xid 94 (contained ECC error): the hardware's, and the application must restart.
    const contained = flag("xid", "a", 1, 1, 2, {
      code: 94,
      fault: "hardware",
      action: "restart-app",
      fault_last_ms: T0 + 2 * HOUR,
    });
    expect([ignored, remap, contained].map(isDown)).toEqual([false, false, true]);
    const r = buildDowntimeReport(header, "host", {}, usage, [ignored, remap, contained]);
    expect(r.down.map((d) => [d.gpu, d.intervals[0]?.kinds])).toEqual([["a:1", ["xid"]]]);
    expect(r.total.xidGpuHours).toBe(1);
  });

  it("applies the filters and leaves flags of GPUs outside the rows out", () => {
    const r = buildDowntimeReport(header, "site", { site: "west" }, usage, [
      flag("lost", "a", 0, 1, 2),
      flag("lost", "b", 0, 1, 3),
      flag("lost", "z", 0, 1, 3),
    ]);
    expect(r.groups.map((g) => g.key)).toEqual(["west"]);
    expect(r.down.map((d) => d.gpu)).toEqual(["b:0"]);
  });

  it("merges touching and nested parts into one interval", () => {
    const p = (from: number, to: number) => ({ from, to, kind: "lost" as const, reason: "x" });
    expect(mergeParts([p(5, 9), p(0, 5), p(6, 7), p(10, 11)]).map((i) => [i.fromMs, i.toMs])).toEqual([
      [0, 9],
      [10, 11],
    ]);
  });
});
