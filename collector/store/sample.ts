// The store's in-memory form of one GPU sample: metric values scaled to integers (METRICS order,
// `scale` from shared/metrics.ts) with NaN for absent, so absent never turns into 0.
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { METRICS, type MetricKey } from "../../shared/metrics.js";
import type { IGpuSample } from "../../shared/proto.js";
import { ByteReader, type ByteWriter } from "./varint.js";

export const METRIC_COUNT = METRICS.length;
const SCALES = METRICS.map((m) => m.scale);
const KEYS = METRICS.map((m) => m.key);
const BITMAP_BYTES = Math.ceil(METRIC_COUNT / 8);

export const METRIC_INDEX: ReadonlyMap<MetricKey, number> = new Map(KEYS.map((k, i) => [k, i]));

export interface StoredSample {
  ts: number;
  intervalMs: number;
  /** GpuState enum value. */
  state: number;
  /** Scaled integer per metric (METRICS order); NaN when absent. */
  vals: Float64Array;
}

/**
 * Scales a decoded proto sample into integer columns, written into `v` (METRIC_COUNT long; the
 * write path reuses one array for every sample); anything not a finite number is absent.
 * Compiled once from METRICS with literal property names, as valuesObject below: it runs for
 * every GPU sample ingested, and computed names (record[key]) cost most of its time.
 */
export const scaleSampleInto = new Function(
  "g",
  "v",
  [
    "let r;",
    ...KEYS.map(
      (key, i) =>
        `r = g.${key}; v[${i}] = typeof r === "number" ? (Number.isFinite(r) ? Math.round(r * ${SCALES[i]}) : NaN) : typeof r === "boolean" ? (r ? 1 : 0) : NaN;`,
    ),
    "return v;",
  ].join("\n"),
) as (gpu: IGpuSample, v: Float64Array) => Float64Array;

/** scaleSampleInto a new array. */
export function scaleSample(gpu: IGpuSample): Float64Array {
  return scaleSampleInto(gpu, new Float64Array(METRIC_COUNT));
}

/** Value of metric i in its natural unit (W, °C...), undefined when absent. */
export function unscale(i: number, scaled: number): number {
  return scaled / (SCALES[i] as number);
}

const [UTIL, MEMORY, PROCESSES, MIG] = (
  ["utilization_gpu_pct", "memory_used_mib", "compute_processes", "mig_mode"] as const
).map((key) => METRIC_INDEX.get(key) as number) as [number, number, number, number];

function natural(vals: Float64Array, i: number): number | undefined {
  const v = vals[i] as number;
  return Number.isNaN(v) ? undefined : unscale(i, v);
}

/**
 * Rebuilds the fields classifySample reads (used on the write path and on recovery alike): one
 * object literal of fixed shape per sample, absent values undefined.
 */
export function classifyView(state: number, vals: Float64Array): IGpuSample {
  const mig = vals[MIG] as number;
  return {
    state,
    utilization_gpu_pct: natural(vals, UTIL),
    memory_used_mib: natural(vals, MEMORY),
    compute_processes: natural(vals, PROCESSES),
    mig_mode: Number.isNaN(mig) ? undefined : mig === 1,
  };
}

/** Builds the natural-unit object of a sample's present values among `keys` (booleans as 0/1). */
export type ValuesPicker = (vals: Float64Array) => Partial<Record<MetricKey, number>>;

const pickers = new Map<string, ValuesPicker>();

/**
 * valuesObject for some metrics only (the summary reads four of them), compiled once per list
 * with literal property names, as valuesObject is.
 */
export function valuesPicker(keys: readonly MetricKey[]): ValuesPicker {
  const id = keys.join(",");
  let pick = pickers.get(id);
  if (!pick) {
    const at = keys.map((key) => {
      const i = KEYS.indexOf(key);
      if (i < 0) throw new RangeError(`unknown metric ${key}`);
      return i;
    });
    pick = new Function(
      "v",
      [
        "const o = {};",
        ...at.map((i) => `if (v[${i}] === v[${i}]) o.${KEYS[i]} = v[${i}] / ${SCALES[i]};`),
        "return o;",
      ].join("\n"),
    ) as ValuesPicker;
    pickers.set(id, pick);
  }
  return pick;
}

/**
 * Natural-unit object of a sample's present values (booleans as 0/1), for the query side.
 * Compiled once from METRICS with literal property names: latest() builds 10,000 of these per
 * call, and V8's inline caches make literal names about ten times faster than computed ones.
 */
export const valuesObject: ValuesPicker = valuesPicker(KEYS);

/**
 * One sample as plain varints: timestamp, interval, state, presence bitmap, zig-zag values.
 * The form of each entry of a raw_recent row (in memory, unsealed.ts keeps them smaller):
 * cheap to write; compression waits for the seal.
 */
export function writeSampleBody(w: ByteWriter, s: StoredSample): void {
  w.uvarint(s.ts);
  w.uvarint(s.intervalMs);
  w.uvarint(s.state);
  for (let b = 0; b < BITMAP_BYTES; b++) {
    let byte = 0;
    for (let i = b * 8; i < Math.min(METRIC_COUNT, b * 8 + 8); i++) {
      if (!Number.isNaN(s.vals[i] as number)) byte |= 1 << (i & 7);
    }
    w.byte(byte);
  }
  for (let i = 0; i < METRIC_COUNT; i++) {
    const v = s.vals[i] as number;
    if (!Number.isNaN(v)) w.svarint(v);
  }
}

export function readSampleBody(r: ByteReader): StoredSample {
  return readSampleBodyInto(r, { ts: 0, intervalMs: 0, state: 0, vals: new Float64Array(METRIC_COUNT) });
}

/** readSampleBody into a sample of the caller's (overwritten whole), so a long read allocates none. */
export function readSampleBodyInto(r: ByteReader, into: StoredSample): StoredSample {
  into.ts = r.uvarint();
  into.intervalMs = r.uvarint();
  into.state = r.uvarint();
  const bitmap = r.bytes(BITMAP_BYTES);
  const vals = into.vals;
  for (let i = 0; i < METRIC_COUNT; i++) {
    vals[i] = ((bitmap[i >> 3] as number) >> (i & 7)) & 1 ? r.svarint() : Number.NaN;
  }
  return into;
}

/** A raw_recent row entry: the GPU id, then the sample body. */
export function writeRecentEntry(w: ByteWriter, gpuId: number, s: StoredSample): void {
  w.uvarint(gpuId);
  writeSampleBody(w, s);
}

/**
 * raw_recent rows by their `format` column (migration 050): 1 is the entries bare (rows
 * written before issue 19), 2 the entries deflated at level 1 (cheap; a batch's entries repeat
 * each other's limits and levels).
 */
export const RECENT_ROW_FORMAT = 2;

export function encodeRecentRow(entries: Uint8Array): Buffer {
  return deflateRawSync(entries, { level: 1 });
}

export function readRecentRow(data: Uint8Array, format: number): { gpuId: number; sample: StoredSample }[] {
  return readRecentEntries(recentEntries(data, format));
}

/**
 * Each entry of a raw_recent row, decoded into `into` (the same object every time: `visit` copies
 * what it keeps). Restoring 6 million samples allocated a sample and its values for each.
 */
export function forEachRecentEntry(
  data: Uint8Array,
  format: number,
  into: StoredSample,
  visit: (gpuId: number, sample: StoredSample) => void,
): void {
  const r = new ByteReader(recentEntries(data, format));
  while (!r.done) {
    const gpuId = r.uvarint();
    visit(gpuId, readSampleBodyInto(r, into));
  }
}

function recentEntries(data: Uint8Array, format: number): Uint8Array {
  if (format === 1) return data;
  if (format === 2) return inflateRawSync(data);
  throw new RangeError(`unknown raw_recent row format ${format}`);
}

export function readRecentEntries(data: Uint8Array): { gpuId: number; sample: StoredSample }[] {
  const r = new ByteReader(data);
  const out: { gpuId: number; sample: StoredSample }[] = [];
  while (!r.done) {
    const gpuId = r.uvarint();
    out.push({ gpuId, sample: readSampleBody(r) });
  }
  return out;
}
