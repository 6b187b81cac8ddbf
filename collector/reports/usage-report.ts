// Utilization and energy reports: pure functions over per-GPU usage rows (fleet-usage.ts).
// Unknown time (samples that could not be classified, and time no sample covers) is reported
// as unknown and never counted as idle or busy; the headline rate leaves it out.
import { groupKey } from "../usage/placement.js";
import { utilizationRate } from "../usage/usage-sums.js";
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

export interface UsageSums {
  gpuIds: Set<number>;
  busyMs: number;
  idleMs: number;
  idleHeldMs: number;
  unknownReportedMs: number;
  noDataMs: number;
  energyWh: number;
  energyIdleWh: number;
}

function emptySums(): UsageSums {
  return {
    gpuIds: new Set(),
    busyMs: 0,
    idleMs: 0,
    idleHeldMs: 0,
    unknownReportedMs: 0,
    noDataMs: 0,
    energyWh: 0,
    energyIdleWh: 0,
  };
}

function add(s: UsageSums, r: GpuUsage): void {
  s.gpuIds.add(r.gpuId);
  s.busyMs += r.busyMs;
  s.idleMs += r.idleMs;
  s.idleHeldMs += r.idleHeldMs;
  s.unknownReportedMs += r.unknownReportedMs;
  s.noDataMs += r.noDataMs;
  s.energyWh += r.energyWh;
  s.energyIdleWh += r.energyIdleWh;
}

/** Sums per key (sorted by key) and over all rows. */
export function sumBy(
  rows: readonly GpuUsage[],
  key: (row: GpuUsage) => string,
): { groups: Map<string, UsageSums>; total: UsageSums } {
  const groups = new Map<string, UsageSums>();
  const total = emptySums();
  for (const r of rows) {
    const k = key(r);
    let s = groups.get(k);
    if (!s) {
      s = emptySums();
      groups.set(k, s);
    }
    add(s, r);
    add(total, r);
  }
  return { groups: new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), total };
}

function utilizationRow(key: string, s: UsageSums): UtilizationRow {
  const all = s.busyMs + s.idleMs + s.idleHeldMs + s.unknownReportedMs + s.noDataMs;
  return {
    key,
    gpus: s.gpuIds.size,
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

/** Mean utilization reading per group and over all rows (sum of readings / their count). */
function meanUtilization(
  rows: readonly GpuUsage[],
  key: (row: GpuUsage) => string,
): { total: number | null; groups: Record<string, number | null> } {
  const sums = new Map<string, [number, number]>();
  let sum = 0;
  let count = 0;
  for (const r of rows) {
    const s = sums.get(key(r)) ?? [0, 0];
    s[0] += r.utilSum ?? 0;
    s[1] += r.utilCount ?? 0;
    sums.set(key(r), s);
    sum += r.utilSum ?? 0;
    count += r.utilCount ?? 0;
  }
  // fromEntries defines own properties: a label value such as "__proto__" stays a plain key.
  const groups: Record<string, number | null> = Object.fromEntries(
    [...sums]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, [s, n]]) => [k, n > 0 ? s / n : null]),
  );
  return { total: count > 0 ? sum / count : null, groups };
}

function energyRow(key: string, s: UsageSums): EnergyRow {
  return {
    key,
    gpus: s.gpuIds.size,
    energyKwh: s.energyWh / 1000,
    idleEnergyKwh: s.energyIdleWh / 1000,
    wastedShare: s.energyWh > 0 ? s.energyIdleWh / s.energyWh : null,
  };
}

type Header<K extends ReportHeader["kind"]> = Omit<ReportHeader, "kind" | "groupBy"> & { kind?: K };

export function buildUtilizationReport(
  header: Header<"utilization">,
  by: GroupBy,
  rows: readonly GpuUsage[],
): UtilizationReport {
  const { groups, total } = sumBy(rows, (r) => groupKey(by, r));
  return {
    kind: "utilization",
    fromMs: header.fromMs,
    toMs: header.toMs,
    nowMs: header.nowMs,
    groupBy: groupName(by),
    groups: [...groups].map(([k, s]) => utilizationRow(k, s)),
    total: utilizationRow("total", total),
    meanUtilizationPct: meanUtilization(rows, (r) => groupKey(by, r)),
  };
}

export function buildEnergyReport(
  header: Header<"energy">,
  by: GroupBy,
  rows: readonly GpuUsage[],
): EnergyReport {
  const { groups, total } = sumBy(rows, (r) => groupKey(by, r));
  return {
    kind: "energy",
    fromMs: header.fromMs,
    toMs: header.toMs,
    nowMs: header.nowMs,
    groupBy: groupName(by),
    groups: [...groups].map(([k, s]) => energyRow(k, s)),
    total: energyRow("total", total),
  };
}
