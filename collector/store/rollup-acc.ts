// A rollup bucket for one GPU: per metric count, sum, min, max, last (+ its timestamp), and
// usage durations and energy. Everything is an integer (scaled values, ms, centiwatt·ms), so
// merging buckets is exact and independent of arrival order.
//
// Each sample covers its own interval_ms, ending at its timestamp: usage and energy are
// sample × interval, so a gap (missing frames) is never bridged and a late sample adds exactly
// what it would have added on time. The cover is attributed to the bucket holding the sample.
import type { UsageClass } from "../usage/classify.js";
import { METRIC_COUNT, METRIC_INDEX } from "./sample.js";

export const SAMPLES = 0;
export const BUSY = 1;
export const IDLE = 2;
export const HELD = 3;
export const UNKNOWN = 4;
/** Power integrated over time, centiwatt × ms (Wh = value / 100 / 3.6e6). */
export const ENERGY = 5;
export const ENERGY_IDLE = 6;
/** Per-metric stats start at HEADER, PER slots each: count, sum, min, max, last, last_ts. */
export const HEADER = 7;
export const PER = 6;
export const COUNT = 0;
export const SUM = 1;
export const MIN = 2;
export const MAX = 3;
export const LAST = 4;
export const LAST_TS = 5;
export const ACC_SIZE = HEADER + PER * METRIC_COUNT;
/** A sample's cover is capped so that a bogus interval cannot claim hours. */
export const MAX_COVER_MS = 600_000;

const POWER = METRIC_INDEX.get("power_draw_watts") as number;
const TEMP = METRIC_INDEX.get("temperature_gpu_celsius") as number;
const UTIL = METRIC_INDEX.get("utilization_gpu_pct") as number;
const USAGE_SLOT: Record<UsageClass, number> = { busy: BUSY, idle: IDLE, idle_held: HELD, unknown: UNKNOWN };

export function newAcc(): Float64Array {
  return new Float64Array(ACC_SIZE);
}

export function coverMs(intervalMs: number): number {
  return Math.min(Math.max(intervalMs, 0), MAX_COVER_MS);
}

export function applySample(
  acc: Float64Array,
  ts: number,
  intervalMs: number,
  vals: Float64Array,
  usage: UsageClass,
): void {
  const cover = coverMs(intervalMs);
  acc[SAMPLES] = (acc[SAMPLES] as number) + 1;
  const slot = USAGE_SLOT[usage];
  acc[slot] = (acc[slot] as number) + cover;
  const power = vals[POWER] as number;
  if (!Number.isNaN(power)) {
    acc[ENERGY] = (acc[ENERGY] as number) + power * cover;
    if (usage === "idle" || usage === "idle_held")
      acc[ENERGY_IDLE] = (acc[ENERGY_IDLE] as number) + power * cover;
  }
  for (let m = 0; m < METRIC_COUNT; m++) {
    const v = vals[m] as number;
    if (Number.isNaN(v)) continue;
    const o = HEADER + m * PER;
    const count = acc[o + COUNT] as number;
    acc[o + COUNT] = count + 1;
    acc[o + SUM] = (acc[o + SUM] as number) + v;
    if (count === 0 || v < (acc[o + MIN] as number)) acc[o + MIN] = v;
    if (count === 0 || v > (acc[o + MAX] as number)) acc[o + MAX] = v;
    if (count === 0 || ts >= (acc[o + LAST_TS] as number)) {
      acc[o + LAST] = v;
      acc[o + LAST_TS] = ts;
    }
  }
}

/** Merges b into a (same GPU and bucket, disjoint samples). */
export function mergeAcc(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < HEADER; i++) a[i] = (a[i] as number) + (b[i] as number);
  for (let m = 0; m < METRIC_COUNT; m++) {
    const o = HEADER + m * PER;
    const cb = b[o + COUNT] as number;
    if (cb === 0) continue;
    const ca = a[o + COUNT] as number;
    a[o + COUNT] = ca + cb;
    a[o + SUM] = (a[o + SUM] as number) + (b[o + SUM] as number);
    if (ca === 0 || (b[o + MIN] as number) < (a[o + MIN] as number)) a[o + MIN] = b[o + MIN] as number;
    if (ca === 0 || (b[o + MAX] as number) > (a[o + MAX] as number)) a[o + MAX] = b[o + MAX] as number;
    if (ca === 0 || (b[o + LAST_TS] as number) >= (a[o + LAST_TS] as number)) {
      a[o + LAST] = b[o + LAST] as number;
      a[o + LAST_TS] = b[o + LAST_TS] as number;
    }
  }
}

export interface MetricStats {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastTs: number;
}

/** Stats of metric m (scaled), undefined when the bucket holds no value of it. */
export function metricStats(acc: Float64Array, m: number): MetricStats | undefined {
  const o = HEADER + m * PER;
  const count = acc[o + COUNT] as number;
  if (count === 0) return undefined;
  return {
    count,
    sum: acc[o + SUM] as number,
    min: acc[o + MIN] as number,
    max: acc[o + MAX] as number,
    last: acc[o + LAST] as number,
    lastTs: acc[o + LAST_TS] as number,
  };
}

/** Columns the aggregate query reads in SQL, next to the blob. */
export function summaryColumns(acc: Float64Array): {
  tempMax: number | null;
  utilSum: number;
  utilCount: number;
} {
  const t = metricStats(acc, TEMP);
  const u = metricStats(acc, UTIL);
  return { tempMax: t ? t.max : null, utilSum: u ? u.sum : 0, utilCount: u ? u.count : 0 };
}
