// The fleet health report (pure): hardware downtime from lost and reset-required episodes only,
// the workload's Xids never counted as hardware, the three RMA rules, and the downtime by the
// tenant whose lease was in force at the time.
import { describe, expect, it } from "vitest";
import type { Flag } from "../../../collector/flags/types.js";
import type { Lease } from "../../../collector/leases/model.js";
import { downtimeSpans, healthReport } from "../../../collector/reports/health-report.js";
import type { EventGroup } from "../../../collector/store/event-store.js";

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

function flag(kind: Flag["kind"], uuid: string, startMs: number, endMs: number | null, values = {}): Flag {
  return {
    id: 1,
    kind,
    severity: "critical",
    host: "n1",
    gpuUuid: uuid,
    gpuIndex: 0,
    site: "",
    labels: {},
    startMs,
    endMs,
    reason: "",
    values,
    updatedMs: startMs,
  };
}

function group(
  uuid: string,
  code: number,
  count: number,
  action: string,
  applicationLevel = false,
): EventGroup {
  return {
    host: "n1",
    gpuUuid: uuid,
    code,
    action,
    applicationLevel,
    count,
    firstMs: T0,
    lastMs: T0 + count,
  };
}

describe("health report", () => {
  it("merges overlapping downtime episodes and clips them to the range", () => {
    const spans = downtimeSpans(
      [
        flag("lost", "A", T0 - H, T0 + 2 * H),
        flag("reset-required", "A", T0 + H, T0 + 3 * H),
        flag("xid", "A", T0, T0 + 10 * H),
        flag("reset-required", "A", T0 + 5 * H, null),
      ],
      T0,
      T0 + 6 * H,
      T0 + 10 * H,
    );
    expect(spans).toEqual([
      { fromMs: T0, toMs: T0 + 3 * H, kinds: ["lost", "reset-required"] },
      { fromMs: T0 + 5 * H, toMs: T0 + 6 * H, kinds: ["reset-required"] },
    ]);
  });

  it("counts the workload's Xids apart, and finds the RMA candidates", () => {
    const report = healthReport({
      fromMs: T0,
      toMs: T0 + 24 * H,
      nowMs: T0 + 24 * H,
      groups: [
        group("A", 13, 50, "restart-app", true),
        group("B", 48, 3, "investigate"),
        group("C", 79, 1, "reboot"),
        group("D", 79, 2, "reboot"),
        group("E", 43, 9, "none", true),
      ],
      flags: [
        flag("error", "F", T0, T0 + H, { remapped_rows_failure: true }),
        flag("reset-required", "C", T0, T0 + 2 * H),
      ],
      modelOf: (uuid) => (uuid === "B" ? "NVIDIA H100 80GB HBM3" : "NVIDIA A100-SXM4-80GB"),
    });
    expect(report.xid.total).toBe(65);
    expect(report.xid.byHost).toEqual([{ host: "n1", count: 65, hardware: 6 }]);
    expect(report.hardwareDowntime).toEqual({ gpuHours: 2, gpus: 1, byHost: [{ host: "n1", gpuHours: 2 }] });
    expect(report.rmaCandidates.map((c) => [c.uuid, c.reasons])).toEqual([
      ["B", ["repeated hardware Xids (3)"]],
      ["D", ["fell off the bus 2 times (Xid 79)"]],
      ["F", ["row remap failure"]],
    ]);
  });

  it("attributes each GPU's hardware downtime to the lease in force at the time, per tenant", () => {
    const lease = (
      id: string,
      tenant: string,
      gpu: string,
      startMs: number,
      endMs: number | null,
      device = gpu,
    ): Lease => ({
      id,
      device,
      gpu,
      tenant,
      startMs,
      endMs,
      contract: null,
      priceMicros: null,
      currency: null,
      availabilityMilli: null,
      labels: {},
      source: "api",
    });
    const leases: Record<string, Lease[]> = {
      // A: acme until T0+2h, then globex; down T0+1h..T0+4h (lost and reset-required overlapping).
      A: [lease("l1", "acme", "A", T0 - 24 * H, T0 + 2 * H), lease("l2", "globex", "A", T0 + 2 * H, null)],
      // B: two MIG slices, acme's and initech's; down T0..T0+1h: both slices were down with it.
      B: [
        lease("l3", "acme", "B", T0 - H, null, "MIG-b1"),
        lease("l4", "initech", "B", T0 - H, null, "MIG-b2"),
      ],
      // C: a lease that ended before its downtime: that downtime is unleased.
      C: [lease("l5", "acme", "C", T0 - 24 * H, T0)],
    };
    const report = healthReport({
      fromMs: T0,
      toMs: T0 + 24 * H,
      nowMs: T0 + 24 * H,
      groups: [group("A", 13, 5, "restart-app", true)],
      flags: [
        flag("lost", "A", T0 + H, T0 + 3 * H),
        flag("reset-required", "A", T0 + 2 * H, T0 + 4 * H),
        flag("xid", "A", T0, T0 + 10 * H), // the workload's Xid 13: not downtime
        flag("reset-required", "B", T0 - H, T0 + H),
        flag("lost", "C", T0 + 5 * H, T0 + 6 * H + H / 2),
        flag("lost", "D", T0, T0 + H), // no lease at all
      ],
      modelOf: () => "NVIDIA H100 80GB HBM3",
      leasesOn: (uuid) => leases[uuid] ?? [],
    });
    expect(report.hardwareDowntime.gpuHours).toBe(3 + 1 + 1.5 + 1);
    expect(report.tenantDowntime).toEqual({
      byTenant: [
        { tenant: "acme", hours: 2, downtimeMs: 2 * H, gpus: 2, leases: ["l1", "l3"] },
        { tenant: "globex", hours: 2, downtimeMs: 2 * H, gpus: 1, leases: ["l2"] },
        { tenant: "initech", hours: 1, downtimeMs: H, gpus: 1, leases: ["l4"] },
      ],
      unleasedGpuHours: 2.5,
    });
  });

  it("without leases, all downtime is unleased", () => {
    const report = healthReport({
      fromMs: T0,
      toMs: T0 + H,
      nowMs: T0 + H,
      groups: [],
      flags: [flag("lost", "A", T0, null)],
      modelOf: () => "",
    });
    expect(report.tenantDowntime).toEqual({ byTenant: [], unleasedGpuHours: 1 });
  });
});

describe("health report ties", () => {
  // A merged report (several collectors) gets its flags and groups in another order than one
  // collector's store gives them: equal counts must list alike, by name.
  const on = (host: string, f: Flag): Flag => ({ ...f, host });
  const at = (host: string, model: string, g: EventGroup): EventGroup => ({ ...g, host, gpuUuid: model });
  function report(order: "ab" | "ba") {
    const flags = [on("node-b", flag("lost", "B", T0, T0 + H)), on("node-a", flag("lost", "A", T0, T0 + H))];
    const groups = [
      at("node-b", "B", group("B", 79, 1, "reboot")),
      at("node-a", "A", group("A", 79, 1, "reboot")),
    ];
    return healthReport({
      fromMs: T0,
      toMs: T0 + 24 * H,
      nowMs: T0 + 24 * H,
      groups: order === "ab" ? [...groups].reverse() : groups,
      flags: order === "ab" ? [...flags].reverse() : flags,
      modelOf: (uuid) => `model-${uuid}`,
    });
  }

  it("lists equal counts by host and model name, whatever order the inputs come in", () => {
    for (const r of [report("ab"), report("ba")]) {
      expect(r.xid.byHost.map((h) => h.host)).toEqual(["node-a", "node-b"]);
      expect(r.xid.byModel.map((m) => m.model)).toEqual(["model-A", "model-B"]);
      expect(r.hardwareDowntime.byHost.map((h) => h.host)).toEqual(["node-a", "node-b"]);
    }
  });
});
