// The fleet health report (pure): hardware downtime from lost and reset-required episodes only,
// the workload's Xids never counted as hardware, and the three RMA rules.
import { describe, expect, it } from "vitest";
import type { Flag } from "../../../collector/flags/types.js";
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
});
