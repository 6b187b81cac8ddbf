// One collector's share of a utilization/energy report, per GPU and in integers (ms,
// centiwatt·ms, utilization sum and count), so shares from several collectors add up exactly.
// A collector serves it to its peers; mergeReportParts (merge-report.ts) turns the sum into
// the same groups store.aggregate gives on one collector.

import type { Store } from "../store/store.js";

/** Where a collector serves its share to its peers (see docs/scaling.md, "Query fan-out"). */
export const REPORT_PART_PATH = "/api/v1/fanout/report-part";

export interface GpuPart {
  uuid: string;
  host: string;
  site: string;
  model: string;
  labels: Record<string, string>;
  samples: number;
  busyMs: number;
  idleMs: number;
  idleHeldMs: number;
  unknownMs: number;
  energyCwms: number;
  energyIdleCwms: number;
  maxTemperatureC: number | null;
  utilizationSum: number;
  utilizationCount: number;
  /** When this collector first saw the GPU: no-data time counts from the earliest sighting. */
  firstSeenMs?: number;
}

export interface ReportPart {
  fromMs: number;
  toMs: number;
  gpus: GpuPart[];
}

/** This collector's per-GPU totals over [fromMs, toMs) (unfiltered: filters apply after the merge). */
export function reportPart(store: Store, fromMs: number, toMs: number): ReportPart {
  const gpus: GpuPart[] = [];
  const firstSeen = new Map(store.fleetGpus().map((g) => [g.id, g.firstSeenMs]));
  for (const [gpuId, t] of store.gpuTotals({ fromMs, toMs })) {
    if (t.samples === 0) continue;
    const g = store.gpu(gpuId);
    const h = g ? store.host(g.hostId) : undefined;
    if (!g || !h) continue;
    const seen = firstSeen.get(gpuId);
    gpus.push({
      uuid: g.uuid,
      host: h.name,
      site: h.site,
      model: g.model,
      labels: { ...h.labels },
      samples: t.samples,
      busyMs: t.busy,
      idleMs: t.idle,
      idleHeldMs: t.held,
      unknownMs: t.unknown,
      energyCwms: t.energy,
      energyIdleCwms: t.energyIdle,
      maxTemperatureC: t.tempMax,
      utilizationSum: t.utilSum,
      utilizationCount: t.utilCount,
      ...(seen !== undefined ? { firstSeenMs: seen } : {}),
    });
  }
  return { fromMs, toMs, gpus };
}
