// Pure: usage report parts from several collectors → what one collector holding every sample
// reports. Per GPU the integer sums add up exactly (collector/usage/usage-sums.ts); a GPU counts
// once, in the group of its host as the share with the most samples knows it.
import type { GpuPart, ReportPart } from "../contract/api-contract.js";
import type { EnergyReport, UtilizationReport } from "../reports/reports.js";
import type { GpuUsage } from "../reports/types.js";
import { buildEnergyReport, buildUtilizationReport } from "../reports/usage-report.js";
import type { GroupBy } from "../usage/placement.js";
import { type AggregateGroup, addUsage, CWMS_PER_WH, groupUsage } from "../usage/usage-sums.js";

/** Per-GPU sums over every share, sorted by UUID. */
export function mergeGpuParts(parts: readonly ReportPart[]): GpuPart[] {
  const byUuid = new Map<string, { sum: GpuPart; bestSamples: number }>();
  for (const part of parts) {
    for (const g of part.gpus) {
      const seen = byUuid.get(g.uuid);
      if (!seen) {
        byUuid.set(g.uuid, { sum: { ...g, labels: { ...g.labels } }, bestSamples: g.samples });
        continue;
      }
      const s = seen.sum;
      if (g.samples > seen.bestSamples) {
        seen.bestSamples = g.samples;
        Object.assign(s, { host: g.host, site: g.site, model: g.model, labels: { ...g.labels } });
      }
      addUsage(s, g);
      if (g.firstSeenMs !== undefined)
        s.firstSeenMs = Math.min(s.firstSeenMs ?? Number.POSITIVE_INFINITY, g.firstSeenMs);
    }
  }
  return [...byUuid.values()]
    .map((v) => v.sum)
    .sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

/** The merged parts grouped as store.aggregate groups one collector's totals (sorted by key). */
export function mergeReportParts(parts: readonly ReportPart[], groupBy: GroupBy): AggregateGroup[] {
  return groupUsage(
    mergeGpuParts(parts).map((g) => ({ place: g, usage: g })),
    groupBy,
  );
}

/** Merged parts as report rows: what fleetUsage gives on one collector for GPUs that did not move. */
export function usageRows(parts: readonly ReportPart[], nowMs: number): GpuUsage[] {
  const first = parts[0];
  const fromMs = first?.fromMs ?? 0;
  const end = Math.min(first?.toMs ?? 0, nowMs);
  return mergeGpuParts(parts)
    .filter((g) => g.samples > 0)
    .map((g, i) => {
      const covered = g.busyMs + g.idleMs + g.idleHeldMs + g.unknownMs;
      const period =
        g.firstSeenMs !== undefined ? Math.max(0, end - Math.max(fromMs, g.firstSeenMs)) : covered;
      return {
        gpuId: i,
        uuid: g.uuid,
        model: g.model,
        host: g.host,
        site: g.site,
        labels: g.labels,
        periodMs: Math.max(period, covered),
        busyMs: g.busyMs,
        idleMs: g.idleMs,
        idleHeldMs: g.idleHeldMs,
        unknownReportedMs: g.unknownMs,
        noDataMs: Math.max(0, period - covered),
        energyWh: g.energyCwms / CWMS_PER_WH,
        energyIdleWh: g.energyIdleCwms / CWMS_PER_WH,
        maxTemperatureC: g.maxTemperatureC,
        utilSum: g.utilizationSum,
        utilCount: g.utilizationCount,
      };
    });
}

/**
 * The utilization or energy report over several collectors' parts of one range (the first
 * part's range and clock: the collector asked first). `nowMs` overrides the clock.
 */
export function mergeUsageReport(
  kind: "utilization" | "energy",
  by: GroupBy,
  parts: readonly ReportPart[],
  nowMs?: number,
): UtilizationReport | EnergyReport {
  const first = parts[0];
  if (!first) throw new Error("no report part to merge");
  const now = nowMs ?? first.nowMs ?? first.toMs;
  const rows = usageRows(parts, now);
  const header = { fromMs: first.fromMs, toMs: first.toMs, nowMs: now };
  return kind === "utilization"
    ? buildUtilizationReport(header, by, rows)
    : buildEnergyReport(header, by, rows);
}
