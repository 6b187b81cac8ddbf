// Pure: report shares from several collectors → the groups one collector holding every sample
// would report (store.aggregate's AggregateGroup). Integers add up exactly; a GPU counts once,
// in the group of its host as the share with the most samples knows it.

import { groupKey, maxOrNull } from "../store/placement.js";
import { CWMS_PER_WH } from "../store/rollup-acc.js";
import type { AggregateGroup, GroupBy } from "../store/store-query.js";
import type { GpuPart, ReportPart } from "./report-part.js";

/** Per-GPU sums over every share. */
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
      s.samples += g.samples;
      s.busyMs += g.busyMs;
      s.idleMs += g.idleMs;
      s.idleHeldMs += g.idleHeldMs;
      s.unknownMs += g.unknownMs;
      s.energyCwms += g.energyCwms;
      s.energyIdleCwms += g.energyIdleCwms;
      s.maxTemperatureC = maxOrNull(s.maxTemperatureC, g.maxTemperatureC);
      s.utilizationSum += g.utilizationSum;
      s.utilizationCount += g.utilizationCount;
      if (g.firstSeenMs !== undefined)
        s.firstSeenMs = Math.min(s.firstSeenMs ?? Number.POSITIVE_INFINITY, g.firstSeenMs);
    }
  }
  return [...byUuid.values()]
    .map((v) => v.sum)
    .sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

/** The merged report, grouped as store.aggregate does (sorted by key). */
export function mergeReportParts(parts: readonly ReportPart[], groupBy: GroupBy): AggregateGroup[] {
  const groups = new Map<
    string,
    { g: AggregateGroup; cwms: number; idleCwms: number; uSum: number; uCount: number }
  >();
  for (const gpu of mergeGpuParts(parts)) {
    if (gpu.samples === 0) continue;
    const key = groupKey(groupBy, gpu);
    let e = groups.get(key);
    if (!e) {
      e = {
        g: {
          key,
          gpus: 0,
          busyMs: 0,
          idleMs: 0,
          idleHeldMs: 0,
          unknownMs: 0,
          energyWh: 0,
          energyIdleWh: 0,
          maxTemperatureC: null,
          avgUtilizationPct: null,
        },
        cwms: 0,
        idleCwms: 0,
        uSum: 0,
        uCount: 0,
      };
      groups.set(key, e);
    }
    e.g.gpus++;
    e.g.busyMs += gpu.busyMs;
    e.g.idleMs += gpu.idleMs;
    e.g.idleHeldMs += gpu.idleHeldMs;
    e.g.unknownMs += gpu.unknownMs;
    e.g.maxTemperatureC = maxOrNull(e.g.maxTemperatureC, gpu.maxTemperatureC);
    // Energy is summed in integer centiwatt·ms and converted once, so no rounding builds up.
    e.cwms += gpu.energyCwms;
    e.idleCwms += gpu.energyIdleCwms;
    e.uSum += gpu.utilizationSum;
    e.uCount += gpu.utilizationCount;
  }
  return [...groups.values()]
    .map(({ g, cwms, idleCwms, uSum, uCount }) => ({
      ...g,
      energyWh: cwms / CWMS_PER_WH,
      energyIdleWh: idleCwms / CWMS_PER_WH,
      avgUtilizationPct: uCount > 0 ? uSum / uCount : null,
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}
