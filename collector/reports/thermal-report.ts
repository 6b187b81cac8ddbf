// Thermal report: GPU-hours flagged overheat and throttled (flag episodes clipped to the range;
// an open episode runs up to now), GPU-minutes lost to throttling, and the hottest GPUs (highest
// temperature in the rollups). Pure: takes the flags and the usage rows, returns the report.
//
// GPU-minutes lost: a throttled flag carries the time its episode spent throttled
// (values.throttled_ms, updated about once a minute while open); an episode that only partly
// overlaps the range contributes that time in proportion to the overlap.
import type { Flag } from "../flags/types.js";
import { matchesFilters } from "../usage/placement.js";
import type { GpuUsage, GroupBy, ReportFilters, ReportHeader } from "./types.js";
import { groupKey, groupName } from "./usage-report.js";

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Flag kinds read for this report. */
export const THERMAL_KINDS = ["overheat", "throttled"] as const;

export interface ThermalRow {
  key: string;
  /** GPUs in the group during the range. */
  gpus: number;
  overheatGpuHours: number;
  overheatEpisodes: number;
  throttledGpuHours: number;
  throttledEpisodes: number;
  throttleGpuMinutesLost: number;
}

export interface HotGpu {
  uuid: string;
  host: string;
  /** Its slot on that host, so people can name it host:index (null when unknown). */
  index: number | null;
  model: string;
  maxTemperatureC: number;
}

export interface ThermalReport extends ReportHeader {
  kind: "thermal";
  groups: ThermalRow[];
  total: ThermalRow;
  /** Highest first, at most `top`. */
  hottest: HotGpu[];
}

interface Sums {
  gpus: Set<number | string>;
  overheatMs: number;
  overheatEpisodes: number;
  throttledMs: number;
  throttledEpisodes: number;
  lostMs: number;
}

const empty = (): Sums => ({
  gpus: new Set(),
  overheatMs: 0,
  overheatEpisodes: 0,
  throttledMs: 0,
  throttledEpisodes: 0,
  lostMs: 0,
});

function row(key: string, s: Sums): ThermalRow {
  return {
    key,
    gpus: s.gpus.size,
    overheatGpuHours: s.overheatMs / HOUR_MS,
    overheatEpisodes: s.overheatEpisodes,
    throttledGpuHours: s.throttledMs / HOUR_MS,
    throttledEpisodes: s.throttledEpisodes,
    throttleGpuMinutesLost: s.lostMs / MINUTE_MS,
  };
}

export function buildThermalReport(
  header: Omit<ReportHeader, "kind" | "groupBy">,
  by: GroupBy,
  filters: ReportFilters,
  usage: readonly GpuUsage[],
  flags: readonly Flag[],
  top: number,
): ThermalReport {
  const groups = new Map<string, Sums>();
  const total = empty();
  const sums = (key: string) => {
    let s = groups.get(key);
    if (!s) {
      s = empty();
      groups.set(key, s);
    }
    return s;
  };
  const modelOf = new Map<string, string>();
  for (const u of usage) {
    modelOf.set(u.uuid, u.model);
    sums(groupKey(by, u)).gpus.add(u.gpuId);
    total.gpus.add(u.gpuId);
  }
  const end = Math.min(header.toMs, header.nowMs);
  for (const f of flags) {
    if ((f.kind !== "overheat" && f.kind !== "throttled") || f.gpuUuid === null) continue;
    const model = modelOf.get(f.gpuUuid) ?? "";
    const place = { site: f.site, host: f.host, model, uuid: f.gpuUuid, labels: f.labels };
    if (!matchesFilters(filters, place)) continue;
    const a = Math.max(f.startMs, header.fromMs);
    const b = Math.min(f.endMs ?? header.nowMs, end);
    if (b <= a) continue;
    const episodeMs = (f.endMs ?? header.nowMs) - f.startMs;
    for (const s of [sums(groupKey(by, place)), total]) {
      if (f.kind === "overheat") {
        s.overheatMs += b - a;
        s.overheatEpisodes++;
      } else {
        s.throttledMs += b - a;
        s.throttledEpisodes++;
        const lost = typeof f.values.throttled_ms === "number" ? f.values.throttled_ms : 0;
        s.lostMs += episodeMs > 0 ? lost * Math.min(1, (b - a) / episodeMs) : 0;
      }
    }
  }
  const hottest: HotGpu[] = [];
  const seen = new Set<string>();
  // Equal temperatures by UUID: the list must not depend on the order a store keeps its GPUs in
  // (a merge of several collectors' parts gives the same list as one collector).
  const byHeat = [...usage].sort(
    (x, y) =>
      (y.maxTemperatureC ?? -1e9) - (x.maxTemperatureC ?? -1e9) ||
      (x.uuid < y.uuid ? -1 : x.uuid > y.uuid ? 1 : 0),
  );
  for (const u of byHeat) {
    if (hottest.length >= top || u.maxTemperatureC === null) break;
    // A GPU that moved has one row per host; sorted, its first row holds its maximum.
    if (seen.has(u.uuid)) continue;
    seen.add(u.uuid);
    hottest.push({
      uuid: u.uuid,
      host: u.host,
      index: u.index ?? null,
      model: u.model,
      maxTemperatureC: u.maxTemperatureC,
    });
  }
  return {
    kind: "thermal",
    ...header,
    groupBy: groupName(by),
    groups: [...groups].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, s]) => row(k, s)),
    total: row("total", total),
    hottest,
  };
}
