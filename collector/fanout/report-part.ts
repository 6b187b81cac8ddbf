// One collector's share of a utilization/energy report, per GPU and in integers (ms,
// centiwatt·ms, utilization sum and count), so shares from several collectors add up exactly.
// A collector serves it to its peers and to `gputel query --url a,b` (REPORT_PART_PATH);
// collector/merge turns the shares into what one collector holding every sample reports.
import type { GpuPart, ReportPart } from "../contract/api-contract.js";
import type { Store } from "../store/store.js";

/** This collector's per-GPU totals over [fromMs, toMs) (unfiltered: filters apply after the merge). */
export function reportPart(store: Store, fromMs: number, toMs: number, nowMs?: number): ReportPart {
  const gpus: GpuPart[] = [];
  const firstSeen = new Map(store.fleetGpus().map((g) => [g.id, g.firstSeenMs]));
  for (const [gpuId, usage] of store.gpuTotals({ fromMs, toMs }, undefined, { maxTemperature: true })) {
    if (usage.samples === 0) continue;
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
      ...usage,
      ...(seen !== undefined ? { firstSeenMs: seen } : {}),
    });
  }
  return { fromMs, toMs, ...(nowMs !== undefined ? { nowMs } : {}), gpus };
}
