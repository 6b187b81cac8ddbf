// Utilization and energy reports: pure functions over per-GPU usage rows (fleet-usage.ts).
// Unknown time (samples that could not be classified, and time no sample covers) is reported
// as unknown and never counted as idle or busy; the headline rate leaves it out.
import { groupKey } from "../usage/placement.js";
import { utilizationRate } from "../usage/usage-sums.js";
import { GroupSums, type GroupTotals } from "./group-sums.js";
import type {
  EnergyReport,
  EnergyRow,
  GpuUsage,
  GroupBy,
  ReportHeader,
  UtilizationReport,
  UtilizationRow,
} from "./types.js";

export { groupKey };

const HOUR_MS = 3_600_000;

export function groupName(by: GroupBy): string {
  return typeof by === "string" ? by : `label:${by.label}`;
}

function utilizationRow(key: string, s: GroupTotals): UtilizationRow {
  const all = s.busyMs + s.idleMs + s.idleHeldMs + s.unknownReportedMs + s.noDataMs;
  return {
    key,
    gpus: s.gpus,
    busyGpuHours: s.busyMs / HOUR_MS,
    idleGpuHours: s.idleMs / HOUR_MS,
    idleHeldGpuHours: s.idleHeldMs / HOUR_MS,
    unknownGpuHours: (s.unknownReportedMs + s.noDataMs) / HOUR_MS,
    unknownReportedGpuHours: s.unknownReportedMs / HOUR_MS,
    noDataGpuHours: s.noDataMs / HOUR_MS,
    utilizationRate: utilizationRate(s),
    utilizationRateIncludingUnknown: all > 0 ? s.busyMs / all : null,
  };
}

/** Mean utilization reading (sum of readings / their count). */
function meanOf(s: GroupTotals): number | null {
  return s.utilCount > 0 ? s.utilSum / s.utilCount : null;
}

function energyRow(key: string, s: GroupTotals): EnergyRow {
  return {
    key,
    gpus: s.gpus,
    energyKwh: s.energyWh / 1000,
    idleEnergyKwh: s.energyIdleWh / 1000,
    wastedShare: s.energyWh > 0 ? s.energyIdleWh / s.energyWh : null,
  };
}

/** Usage rows' sums per group (rows of one GPU may be anywhere in the list). */
export function groupRows(by: GroupBy, rows: readonly GpuUsage[]): GroupSums {
  const sums = new GroupSums(by);
  for (const r of rows) sums.addRow(r);
  return sums;
}

type Header<K extends ReportHeader["kind"]> = Omit<ReportHeader, "kind" | "groupBy"> & { kind?: K };

export function buildUtilizationReport(
  header: Header<"utilization">,
  by: GroupBy,
  rows: readonly GpuUsage[] | GroupSums,
): UtilizationReport {
  const sums = rows instanceof GroupSums ? rows : groupRows(by, rows);
  const groups = sums.groups();
  const total = sums.total();
  return {
    kind: "utilization",
    fromMs: header.fromMs,
    toMs: header.toMs,
    nowMs: header.nowMs,
    groupBy: groupName(by),
    groups: groups.map(([k, s]) => utilizationRow(k, s)),
    total: utilizationRow("total", total),
    meanUtilizationPct: {
      total: meanOf(total),
      // fromEntries defines own properties: a label value such as "__proto__" stays a plain key.
      groups: Object.fromEntries(groups.map(([k, s]) => [k, meanOf(s)])),
    },
  };
}

export function buildEnergyReport(
  header: Header<"energy">,
  by: GroupBy,
  rows: readonly GpuUsage[] | GroupSums,
): EnergyReport {
  const sums = rows instanceof GroupSums ? rows : groupRows(by, rows);
  return {
    kind: "energy",
    fromMs: header.fromMs,
    toMs: header.toMs,
    nowMs: header.nowMs,
    groupBy: groupName(by),
    groups: sums.groups().map(([k, s]) => energyRow(k, s)),
    total: energyRow("total", sums.total()),
  };
}
