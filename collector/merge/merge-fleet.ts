// Pure: thermal, capacity and downtime report parts from several collectors → the report one
// collector holding every sample gives. A GPU's stretch on a host (a GPU that moved has one per
// host, and every collector that receives the inventories cuts them alike) is one row whatever
// collectors hold its samples: the integer sums add, the time it was in the fleet is the longest
// any collector saw (the earliest sighting), and the row is built by the conversion one
// collector uses (usageRow). Flag episodes seen by several collectors join (mergeFlagLists).
// The rows and flags then go through the report's own builder.
import type { FleetPart, FleetPartKind, StretchPart } from "../contract/api-contract.js";
import { buildCapacityReport, type CapacityReport } from "../reports/capacity-report.js";
import { buildDowntimeReport, type DowntimeReport } from "../reports/downtime-report.js";
import { type RowPlace, usageRow } from "../reports/fleet-usage.js";
import { thermalTop } from "../reports/reports.js";
import { buildThermalReport, type ThermalReport } from "../reports/thermal-report.js";
import type { GpuUsage } from "../reports/types.js";
import type { GroupBy } from "../usage/placement.js";
import { addUsage, emptyUsage, type UsageSums } from "../usage/usage-sums.js";
import { mergeFlagLists } from "./merge-lists.js";

interface Merged {
  at: RowPlace;
  fromMs: number;
  sums: UsageSums;
  periodMs: number;
  /** Samples of the part `at` came from: the place comes from the part that saw the most. */
  placeSamples: number;
}

function placeOf(s: StretchPart): RowPlace {
  return {
    uuid: s.uuid,
    index: s.index,
    model: s.model,
    name: s.host,
    site: s.site,
    labels: { ...s.labels },
  };
}

/** Report rows from every part's stretches: one per GPU, host and stretch, sorted by UUID then time. */
export function mergeStretches(parts: readonly Pick<FleetPart, "stretches">[]): GpuUsage[] {
  const byKey = new Map<string, Merged>();
  for (const part of parts) {
    for (const s of part.stretches) {
      const key = `${s.uuid}\u0000${s.host}\u0000${s.fromMs}`;
      const seen = byKey.get(key);
      if (!seen) {
        const sums = emptyUsage();
        addUsage(sums, s);
        byKey.set(key, {
          at: placeOf(s),
          fromMs: s.fromMs,
          sums,
          periodMs: s.periodMs,
          placeSamples: s.samples,
        });
        continue;
      }
      addUsage(seen.sums, s);
      seen.periodMs = Math.max(seen.periodMs, s.periodMs);
      if (s.samples > seen.placeSamples) {
        seen.at = placeOf(s);
        seen.placeSamples = s.samples;
      }
    }
  }
  const rows = [...byKey.values()].sort(
    (a, b) => (a.at.uuid < b.at.uuid ? -1 : a.at.uuid > b.at.uuid ? 1 : 0) || a.fromMs - b.fromMs,
  );
  // One id per GPU, as one collector's gpu ids: the reports count GPUs by it.
  const ids = new Map<string, number>();
  return rows.map((r) => {
    let id = ids.get(r.at.uuid);
    if (id === undefined) {
      id = ids.size;
      ids.set(r.at.uuid, id);
    }
    return usageRow(id, r.at, r.sums, r.periodMs);
  });
}

/**
 * The `kind` report over several collectors' parts of one range (the first part's range: the
 * collector asked first). `nowMs` is the asking collector's clock; an open episode runs to it.
 */
export function mergeFleetReport(
  kind: FleetPartKind,
  by: GroupBy,
  parts: readonly FleetPart[],
  nowMs: number,
): ThermalReport | CapacityReport | DowntimeReport {
  const first = parts[0];
  if (!first) throw new Error("no report part to merge");
  const header = { fromMs: first.fromMs, toMs: first.toMs, nowMs };
  const rows = mergeStretches(parts);
  if (kind === "capacity") return buildCapacityReport(header, by, rows);
  const flags = mergeFlagLists(parts.map((p) => p.flags));
  return kind === "thermal"
    ? buildThermalReport(header, by, {}, rows, flags, thermalTop())
    : buildDowntimeReport(header, by, {}, rows, flags);
}
