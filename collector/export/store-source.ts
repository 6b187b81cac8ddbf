// An export's samples from the store, one GPU and one time slice at a time: raw samples an hour
// per slice (store.exportReads(): sealed blocks and unsealed samples, sorted), rollup buckets
// 1440 per slice (store.series(): stored rows merged with the deltas in memory). Each slice is
// read when the iterator is advanced and holds only that slice, so memory does not grow with the
// range; empty stretches are skipped by index lookups rather than read.
import { METRICS } from "../../shared/metrics.js";
import type { Store } from "../store/store.js";
import { type ExportColumn, type ExportTier, RAW_TIER, rollupTier } from "./columns.js";

export interface ExportSlice {
  /** Row timestamps (epoch ms), ascending: samples (raw) or bucket starts (rollups). */
  ts: number[];
  /** Raw tier: the sample's state ("ok", "lost"…) and the interval it covers, per row. */
  state?: string[];
  intervalMs?: number[];
  /** values[c][row]: column c (of those asked for) in exposed units; NaN when absent. */
  values: Float64Array[];
}

export interface ExportSource {
  /** Tiers this source holds: raw, then the rollup steps finest first. */
  tiers(): ExportTier[];
  slices(
    uuid: string,
    tier: ExportTier,
    columns: readonly ExportColumn[],
    fromMs: number,
    toMs: number,
  ): Iterable<ExportSlice>;
}

/** Raw samples per slice: an hour is 3,600 samples at 1 s (about 1 MB decoded). */
export const RAW_SLICE_MS = 3_600_000;
/** Rollup buckets per slice: a day of 1 m buckets. */
export const ROLLUP_SLICE_BUCKETS = 1440;

const FACTORS = METRICS.map((m) => m.prom.factor);
const SCALES = METRICS.map((m) => m.scale);
const STATE_NAMES = ["unspecified", "ok", "timeout", "lost", "error"];

export class StoreExportSource implements ExportSource {
  constructor(private readonly store: Store) {}

  tiers(): ExportTier[] {
    return [RAW_TIER, ...this.store.tiers.rollups.map((t) => rollupTier(t.stepMs))];
  }

  slices(
    uuid: string,
    tier: ExportTier,
    columns: readonly ExportColumn[],
    fromMs: number,
    toMs: number,
  ): Iterable<ExportSlice> {
    return tier.stepMs === 0
      ? this.rawSlices(uuid, columns, fromMs, toMs)
      : this.rollupSlices(uuid, tier.stepMs, columns, fromMs, toMs);
  }

  private *rawSlices(
    uuid: string,
    columns: readonly ExportColumn[],
    fromMs: number,
    toMs: number,
  ): Generator<ExportSlice> {
    const reads = this.store.exportReads();
    let cursor = fromMs;
    while (cursor < toMs) {
      const start = reads.nextRawMs(uuid, cursor, toMs);
      if (start === undefined) return;
      const end = Math.min(toMs, start + RAW_SLICE_MS);
      const samples = reads.rawSlice(uuid, start, end);
      cursor = end;
      if (samples.length === 0) continue;
      const values = columns.map((c) => {
        const factor = FACTORS[c.metric] as number;
        return Float64Array.from(samples, (s) => (s.vals[c.metric] as number) * factor);
      });
      yield {
        ts: samples.map((s) => s.ts),
        state: samples.map((s) => STATE_NAMES[s.state] ?? "unspecified"),
        intervalMs: samples.map((s) => s.intervalMs),
        values,
      };
    }
  }

  private *rollupSlices(
    uuid: string,
    stepMs: number,
    columns: readonly ExportColumn[],
    fromMs: number,
    toMs: number,
  ): Generator<ExportSlice> {
    const reads = this.store.exportReads();
    const keys = [...new Set(columns.map((c) => (METRICS[c.metric] as (typeof METRICS)[number]).key))];
    let cursor = fromMs;
    while (cursor < toMs) {
      const start = reads.nextBucketMs(stepMs, uuid, cursor, toMs);
      if (start === undefined) return;
      const end = Math.min(toMs, start + stepMs * ROLLUP_SLICE_BUCKETS);
      const series = this.store.series(uuid, keys, start, end, stepMs);
      cursor = end;
      const all = columns.map((c) => {
        const m = METRICS[c.metric] as (typeof METRICS)[number];
        const stats = series.metrics[m.key];
        const scale = SCALES[c.metric] as number;
        const factor = FACTORS[c.metric] as number;
        return series.t.map((_, k) => {
          const v = stats?.[c.stat ?? "avg"][k];
          if (v === null || v === undefined) return Number.NaN;
          // min, max and last are stored integers: round away the division's float noise.
          return (c.stat === "avg" ? v * scale : Math.round(v * scale)) * factor;
        });
      });
      // Buckets where no asked column has a value are left out (absent, not zero).
      const rows = series.t.flatMap((t, k) =>
        t >= start && t < end && all.some((col) => !Number.isNaN(col[k] as number)) ? [k] : [],
      );
      if (rows.length === 0) continue;
      yield {
        ts: rows.map((k) => series.t[k] as number),
        values: all.map((col) => Float64Array.from(rows, (k) => col[k] as number)),
      };
    }
  }
}
