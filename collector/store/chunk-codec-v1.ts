// Raw block format 1 (written until issue 19; still read, chunk-codec.ts dispatches here):
// per column timestamps delta-of-delta, everything else delta, all zig-zag varints; each
// metric carries a presence mode (none / all / bitmap) so absent stays absent. The whole
// buffer is deflated (raw deflate, the format byte inside the stream).
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { ChunkColumns } from "./chunk-codec.js";
import { METRIC_COUNT, type StoredSample } from "./sample.js";
import { ByteReader, ByteWriter } from "./varint.js";

const FORMAT = 1;
const NONE = 0;
const ALL = 1;
const BITMAP = 2;

/** Encodes samples (sorted by ts, unique) in format 1: kept so tests can prove old blocks read. */
export function encodeChunkV1(samples: readonly StoredSample[], level = 6): Buffer {
  const n = samples.length;
  const w = new ByteWriter(64 + n * METRIC_COUNT);
  w.byte(FORMAT);
  w.uvarint(n);
  let prevTs = 0;
  let prevDelta = 0;
  for (let k = 0; k < n; k++) {
    const ts = (samples[k] as StoredSample).ts;
    if (k === 0) w.uvarint(ts);
    else {
      const delta = ts - prevTs;
      w.svarint(delta - prevDelta);
      prevDelta = delta;
    }
    prevTs = ts;
  }
  let prev = 0;
  for (const s of samples) {
    w.svarint(s.intervalMs - prev);
    prev = s.intervalMs;
  }
  prev = 0;
  for (const s of samples) {
    w.svarint(s.state - prev);
    prev = s.state;
  }
  // Transpose once (row reads are cache friendly), then walk each column sequentially.
  const cols = new Float64Array(n * METRIC_COUNT);
  for (let k = 0; k < n; k++) {
    const vals = (samples[k] as StoredSample).vals;
    for (let m = 0; m < METRIC_COUNT; m++) cols[m * n + k] = vals[m] as number;
  }
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  for (let m = 0; m < METRIC_COUNT; m++) {
    const base = m * n;
    let present = 0;
    for (let k = 0; k < n; k++) if (!Number.isNaN(cols[base + k] as number)) present++;
    if (present === 0) {
      w.byte(NONE);
      continue;
    }
    if (present === n) w.byte(ALL);
    else {
      bitmap.fill(0);
      for (let k = 0; k < n; k++) {
        if (!Number.isNaN(cols[base + k] as number))
          bitmap[k >> 3] = (bitmap[k >> 3] as number) | (1 << (k & 7));
      }
      w.byte(BITMAP);
      w.bytes(bitmap);
    }
    prev = 0;
    for (let k = 0; k < n; k++) {
      const v = cols[base + k] as number;
      if (Number.isNaN(v)) continue;
      w.svarint(v - prev);
      prev = v;
    }
  }
  return deflateRawSync(w.finish(), { level });
}

/** Inflates a block and reads its header and timestamp column; the reader is left at the intervals. */
function openChunk(blob: Uint8Array): { r: ByteReader; n: number; ts: Float64Array } {
  const r = new ByteReader(inflateRawSync(blob));
  const format = r.byte();
  if (format !== FORMAT) throw new RangeError(`unknown raw block format ${format}`);
  const n = r.uvarint();
  const ts = new Float64Array(n);
  let delta = 0;
  for (let k = 0; k < n; k++) {
    if (k === 0) ts[0] = r.uvarint();
    else {
      delta += r.svarint();
      ts[k] = (ts[k - 1] as number) + delta;
    }
  }
  return { r, n, ts };
}

export function decodeChunkV1(blob: Uint8Array): ChunkColumns {
  const { r, n, ts } = openChunk(blob);
  const interval = new Float64Array(n);
  let prev = 0;
  for (let k = 0; k < n; k++) interval[k] = prev += r.svarint();
  const state = new Uint8Array(n);
  prev = 0;
  for (let k = 0; k < n; k++) state[k] = prev += r.svarint();
  const cols: Float64Array[] = [];
  for (let m = 0; m < METRIC_COUNT; m++) {
    const col = new Float64Array(n).fill(Number.NaN);
    cols.push(col);
    const mode = r.byte();
    if (mode === NONE) continue;
    const bitmap = mode === BITMAP ? r.bytes(Math.ceil(n / 8)) : undefined;
    prev = 0;
    for (let k = 0; k < n; k++) {
      if (bitmap && !(((bitmap[k >> 3] as number) >> (k & 7)) & 1)) continue;
      col[k] = prev += r.svarint();
    }
  }
  return { n, ts, interval, state, cols };
}

/** Only the timestamps of a format-1 block: the value columns are not decoded. */
export function chunkTimestampsV1(blob: Uint8Array): Float64Array {
  return openChunk(blob).ts;
}
