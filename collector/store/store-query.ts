// The query side of the store. All values come back in natural units (W, °C, %, MiB).
//
//   latest(store, keys?): LatestGpu[]
//     Latest sample of every GPU from memory (no SQL), with host, site, labels and model; with
//     `keys`, only those readings.
//   series(store, uuid, metricKeys, fromMs, toMs, stepMs): Series
//     Per step bucket in [fromMs, toMs): min/max/avg/last of each metric (null: no value).
//     Tier by step: the coarsest rollup step <= stepMs, raw when stepMs is below every rollup
//     step. Raw reads merge sealed blocks with the unsealed samples held in memory.
//   aggregate(store, request): AggregateGroup[]
//     Usage, energy, max temperature and average utilization per group over [fromMs, toMs),
//     from the coarsest tier for whole coarse buckets and the finest tier at the edges
//     (range edges round down to the finest step). A GPU counts in the group of its current host.
//   samples(store, uuid, fromMs, toMs): RawSample[]
//     Every raw sample of one GPU in [fromMs, toMs), sorted by time, absent values left out.
//   stats(store): StoreStats;  rejectCounts(store): RejectCount[]

import { formatDuration } from "../../shared/duration.js";
import { GputelError } from "../../shared/errors.js";
import type { MetricKey } from "../../shared/metrics.js";
import { GpuState } from "../../shared/proto.js";
import type { AggregateFilters, GroupBy } from "../usage/placement.js";
import { chunkSample, decodeChunk } from "./chunk-codec.js";
import type { GpuMem } from "./gpu-state.js";
import { mergeAcc, metricStats, newAcc } from "./rollup-acc.js";
import { decodeAccMetrics } from "./rollup-codec.js";
import {
  METRIC_INDEX,
  type StoredSample,
  unscale,
  type ValuesPicker,
  valuesObject,
  valuesPicker,
} from "./sample.js";
import type { Store } from "./store.js";

export interface LatestGpu {
  uuid: string;
  index: number;
  model: string;
  host: string;
  site: string;
  labels: Readonly<Record<string, string>>;
  /** "ok" | "timeout" | "lost" | "error" | "unspecified"; undefined before the first sample. */
  state: string | undefined;
  timestampMs: number | undefined;
  values: Partial<Record<MetricKey, number>>;
}

export interface SeriesStats {
  min: (number | null)[];
  max: (number | null)[];
  avg: (number | null)[];
  last: (number | null)[];
  /** Samples per bucket (0: none). */
  count: number[];
}

export interface Series {
  uuid: string;
  /** "raw" or the rollup step ("1m", "1h"). */
  tier: string;
  stepMs: number;
  /** Bucket starts. */
  t: number[];
  metrics: Partial<Record<MetricKey, SeriesStats>>;
}

export interface AggregateRequest {
  fromMs: number;
  toMs: number;
  groupBy: GroupBy;
  filters?: AggregateFilters;
  /**
   * Whether the groups need their highest temperature (default true). A maximum cannot be taken
   * from cumulative edges, so it reads every bucket; the fleet summary leaves it out.
   */
  maxTemperature?: boolean;
}

export interface StoreStats {
  frames: number;
  samplesStored: number;
  rawBlocks: number;
  recentRows: number;
  rollupRows: number;
  databaseBytes: number;
  usedBytes: number;
}

export interface RejectCount {
  host: string;
  reason: string;
  count: number;
  lastMs: number;
}

const STATE_NAMES: Record<number, string> = {
  [GpuState.GPU_STATE_UNSPECIFIED]: "unspecified",
  [GpuState.GPU_STATE_OK]: "ok",
  [GpuState.GPU_STATE_TIMEOUT]: "timeout",
  [GpuState.GPU_STATE_LOST]: "lost",
  [GpuState.GPU_STATE_ERROR]: "error",
};

export function latest(store: Store, keys?: readonly MetricKey[]): LatestGpu[] {
  // Only the readings asked for: the fleet summary needs four, and a full values object per GPU
  // was most of its time (and garbage) when no range had to be read.
  const pick = keys ? valuesPicker(keys) : valuesObject;
  return Array.from(store.raw.gpus.values(), (g) => latestEntry(store, g, pick));
}

/** One GPU by UUID or "host:index", without building the whole fleet's list; undefined when unknown. */
export function latestOne(store: Store, id: string): LatestGpu | undefined {
  const byUuid = store.raw.gpus.get(id);
  if (byUuid) return latestEntry(store, byUuid);
  const colon = id.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const host = id.slice(0, colon);
  const index = id.slice(colon + 1);
  for (const g of store.raw.gpus.values()) {
    if (String(g.index) === index && store.raw.hostsById.get(g.hostId)?.name === host)
      return latestEntry(store, g);
  }
  return undefined;
}

function latestEntry(store: Store, g: GpuMem, pick: ValuesPicker = valuesObject): LatestGpu {
  const h = store.raw.hostsById.get(g.hostId);
  return {
    uuid: g.uuid,
    index: g.index,
    model: g.model,
    host: h?.name ?? "",
    site: h?.site ?? "",
    labels: h?.labels ?? {},
    state: g.latest ? (STATE_NAMES[g.latest.state] ?? "unspecified") : undefined,
    timestampMs: g.latest?.ts,
    values: g.latest ? pick(g.latest.vals) : {},
  };
}

const MAX_POINTS = 100_000;

export function series(
  store: Store,
  uuid: string,
  metricKeys: readonly string[],
  fromMs: number,
  toMs: number,
  stepMs: number,
): Series {
  const indices = metricKeys.map((key) => {
    const i = METRIC_INDEX.get(key as MetricKey);
    if (i === undefined) throw new GputelError("GPUTEL_E_API", `Unknown metric "${key}"`, { key });
    return i;
  });
  if (!(stepMs > 0) || !(toMs > fromMs) || (toMs - fromMs) / stepMs > MAX_POINTS) {
    throw new GputelError("GPUTEL_E_API", "Bad series range or step", { fromMs, toMs, stepMs });
  }
  const start = fromMs - (fromMs % stepMs);
  const n = Math.ceil((toMs - start) / stepMs);
  const t = Array.from({ length: n }, (_, k) => start + k * stepMs);
  const cells = indices.map(() => ({
    count: new Float64Array(n),
    sum: new Float64Array(n),
    min: new Float64Array(n),
    max: new Float64Array(n),
    last: new Float64Array(n),
    lastTs: new Float64Array(n).fill(Number.NEGATIVE_INFINITY),
  }));
  const add = (
    j: number,
    k: number,
    count: number,
    sum: number,
    min: number,
    max: number,
    last: number,
    ts: number,
  ) => {
    const c = cells[j] as (typeof cells)[number];
    if (c.count[k] === 0 || min < (c.min[k] as number)) c.min[k] = min;
    if (c.count[k] === 0 || max > (c.max[k] as number)) c.max[k] = max;
    c.count[k] = (c.count[k] as number) + count;
    c.sum[k] = (c.sum[k] as number) + sum;
    if (ts >= (c.lastTs[k] as number)) {
      c.last[k] = last;
      c.lastTs[k] = ts;
    }
  };
  const rollups = store.tiers.rollups;
  let tierIndex = -1;
  for (let i = 0; i < rollups.length; i++) if ((rollups[i]?.stepMs ?? Infinity) <= stepMs) tierIndex = i;
  const g = store.raw.gpus.get(uuid);
  if (g && tierIndex < 0) {
    const visit = (ts: number, vals: (m: number) => number) => {
      if (ts < fromMs || ts >= toMs) return;
      const k = Math.floor((ts - start) / stepMs);
      indices.forEach((m, j) => {
        const v = vals(m);
        if (!Number.isNaN(v)) add(j, k, 1, v, v, v, v, ts);
      });
    };
    for (const data of store.stmts.seriesBlocks.all(g.id, fromMs, toMs) as Buffer[]) {
      const c = decodeChunk(data);
      for (let k = 0; k < c.n; k++) visit(c.ts[k] as number, (m) => (c.cols[m] as Float64Array)[k] as number);
    }
    for (const s of g.unsealed.samples()) visit(s.ts, (m) => s.vals[m] as number);
  } else if (g) {
    const tier = rollups[tierIndex] as { stepMs: number };
    const lo = fromMs - (fromMs % tier.stepMs);
    // Read once: a coarser tier's deltas are merged from the finest tier's on every read.
    const deltas = new Map(g.deltas[tierIndex] ?? []);
    const acc = newAcc();
    const visit = (bucket: number, bucketAcc: Float64Array) => {
      const k = Math.floor((Math.max(bucket, start) - start) / stepMs);
      for (let j = 0; j < indices.length; j++) {
        const st = metricStats(bucketAcc, indices[j] as number);
        if (st) add(j, k, st.count, st.sum, st.min, st.max, st.last, st.lastTs);
      }
    };
    const seen = new Set<number>();
    for (const [bucket, data] of store.stmts.seriesRollups.all(tier.stepMs, g.id, lo, toMs) as [
      number,
      Buffer,
    ][]) {
      acc.fill(0);
      decodeAccMetrics(acc, data, bucket);
      const delta = deltas.get(bucket);
      if (delta) {
        mergeAcc(acc, delta);
        seen.add(bucket);
      }
      visit(bucket, acc);
    }
    for (const [bucket, delta] of deltas) {
      if (bucket >= lo && bucket < toMs && !seen.has(bucket)) visit(bucket, delta);
    }
  }
  const metrics: Partial<Record<MetricKey, SeriesStats>> = {};
  indices.forEach((m, j) => {
    const c = cells[j] as (typeof cells)[number];
    const out: SeriesStats = { min: [], max: [], avg: [], last: [], count: [] };
    for (let k = 0; k < n; k++) {
      const has = (c.count[k] as number) > 0;
      out.min.push(has ? unscale(m, c.min[k] as number) : null);
      out.max.push(has ? unscale(m, c.max[k] as number) : null);
      out.avg.push(has ? unscale(m, (c.sum[k] as number) / (c.count[k] as number)) : null);
      out.last.push(has ? unscale(m, c.last[k] as number) : null);
      out.count.push(c.count[k] as number);
    }
    metrics[metricKeys[j] as MetricKey] = out;
  });
  return {
    uuid,
    tier: tierIndex < 0 ? "raw" : formatDuration((rollups[tierIndex] as { stepMs: number }).stepMs),
    stepMs,
    t,
    metrics,
  };
}

export { aggregate } from "./store-aggregate.js";

export interface RawSample {
  ts: number;
  intervalMs: number;
  state: string;
  values: Partial<Record<MetricKey, number>>;
}

export function samples(store: Store, uuid: string, fromMs: number, toMs: number): RawSample[] {
  const g = store.raw.gpus.get(uuid);
  if (!g) return [];
  const out: RawSample[] = [];
  const push = (s: StoredSample) => {
    if (s.ts < fromMs || s.ts >= toMs) return;
    out.push({
      ts: s.ts,
      intervalMs: s.intervalMs,
      state: STATE_NAMES[s.state] ?? "unspecified",
      values: valuesObject(s.vals),
    });
  };
  for (const data of store.stmts.seriesBlocks.all(g.id, fromMs, toMs) as Buffer[]) {
    const c = decodeChunk(data);
    for (let k = 0; k < c.n; k++) push(chunkSample(c, k));
  }
  for (const s of g.unsealed.samples()) push(s);
  return out.sort((a, b) => a.ts - b.ts);
}

export function stats(store: Store): StoreStats {
  const one = (sql: string) => (store.db.prepare(sql).get() as { n: number }).n;
  const pageSize = store.db.pragma("page_size", { simple: true }) as number;
  const pages = store.db.pragma("page_count", { simple: true }) as number;
  const free = store.db.pragma("freelist_count", { simple: true }) as number;
  return {
    frames: store.raw.framesStored,
    samplesStored: store.raw.valuesStored,
    rawBlocks: one("SELECT count(*) AS n FROM raw_blocks"),
    recentRows: one("SELECT count(*) AS n FROM raw_recent"),
    rollupRows: one("SELECT count(*) AS n FROM rollups"),
    databaseBytes: pages * pageSize,
    usedBytes: (pages - free) * pageSize,
  };
}

export function rejectCounts(store: Store): RejectCount[] {
  return (
    store.db.prepare("SELECT host, reason, count, last_ms FROM rejects ORDER BY host, reason").all() as {
      host: string;
      reason: string;
      count: number;
      last_ms: number;
    }[]
  ).map((r) => ({ host: r.host, reason: r.reason, count: r.count, lastMs: r.last_ms }));
}
