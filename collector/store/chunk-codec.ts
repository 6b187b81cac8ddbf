// A sealed raw block: one GPU's samples over a time window as columns (format 2, issue 19).
// Layout: a lead byte, then (compressed, see below) the sample count, the timestamp, interval
// and state columns, and per metric its presence (none / all / bitmap / list of the absent
// positions, so absent stays absent) followed by its present values. Every integer column is
// bit-packed with the cheapest of offset-from-minimum, delta and delta-of-delta
// (int-column.ts): noise makes deltas wider than the values, a constant takes 0 bits.
//
// The lead byte has its bits 1-2 set, which no raw deflate stream starts with (block type 3 is
// reserved), so format-1 blocks (a raw deflate stream, chunk-codec-v1.ts) are told apart and
// still read without a migration. Its bits 3-4 name the compressor over the rest: none,
// deflate-raw or brotli.
import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  deflateRawSync,
  inflateRawSync,
} from "node:zlib";
import { chunkTimestampsV1, decodeChunkV1 } from "./chunk-codec-v1.js";
import { readIntColumn, writeIntColumn } from "./int-column.js";
import { METRIC_COUNT, type StoredSample } from "./sample.js";
import { ByteReader, ByteWriter } from "./varint.js";

/** Decoded block, columnar: cols[m][k] is metric m of sample k (NaN when absent). */
export interface ChunkColumns {
  n: number;
  ts: Float64Array;
  interval: Float64Array;
  state: Uint8Array;
  cols: Float64Array[];
}

export type Compressor = "none" | "deflate" | "brotli";
const LEAD = 0x06;
const COMPRESSORS: readonly Compressor[] = ["none", "deflate", "brotli"];
const NONE = 0;
const ALL = 1;
const BITMAP = 2;
const ABSENT_LIST = 3;

function isV2(blob: Uint8Array): boolean {
  return ((blob[0] ?? 0) & 0x07) === LEAD;
}

function compress(body: Buffer, how: Compressor): Buffer {
  if (how === "deflate") return deflateRawSync(body, { level: 6 });
  if (how === "brotli") {
    return brotliCompressSync(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 5,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        [constants.BROTLI_PARAM_LGWIN]: 16,
      },
    });
  }
  return body;
}

/** Encodes samples (sorted by ts, unique) into one blob (format 2). */
export function encodeChunk(samples: readonly StoredSample[], how: Compressor = "deflate"): Buffer {
  const n = samples.length;
  const w = new ByteWriter(64 + n * 8);
  w.uvarint(n);
  const col = new Float64Array(n);
  for (let k = 0; k < n; k++) col[k] = (samples[k] as StoredSample).ts;
  writeIntColumn(w, col);
  for (let k = 0; k < n; k++) col[k] = (samples[k] as StoredSample).intervalMs;
  writeIntColumn(w, col);
  for (let k = 0; k < n; k++) col[k] = (samples[k] as StoredSample).state;
  writeIntColumn(w, col);
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  for (let m = 0; m < METRIC_COUNT; m++) {
    let present = 0;
    for (let k = 0; k < n; k++) {
      const v = (samples[k] as StoredSample).vals[m] as number;
      if (!Number.isNaN(v)) col[present++] = v;
    }
    if (present === 0) {
      w.byte(NONE);
      continue;
    }
    const absent = n - present;
    if (absent === 0) w.byte(ALL);
    else if (absent * 2 < bitmap.length) {
      // A few [N/A] readings: their positions, as gaps, are shorter than a bitmap.
      w.byte(ABSENT_LIST);
      w.uvarint(absent);
      let last = -1;
      for (let k = 0; k < n; k++) {
        if (!Number.isNaN((samples[k] as StoredSample).vals[m] as number)) continue;
        w.uvarint(k - last - 1);
        last = k;
      }
    } else {
      bitmap.fill(0);
      for (let k = 0; k < n; k++) {
        if (!Number.isNaN((samples[k] as StoredSample).vals[m] as number))
          bitmap[k >> 3] = (bitmap[k >> 3] as number) | (1 << (k & 7));
      }
      w.byte(BITMAP);
      w.bytes(bitmap);
    }
    writeIntColumn(w, col.subarray(0, present));
  }
  const body = compress(w.finish(), how);
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = LEAD | (COMPRESSORS.indexOf(how) << 3);
  body.copy(out, 1);
  return out;
}

function openV2(blob: Uint8Array): ByteReader {
  const how = COMPRESSORS[((blob[0] as number) >> 3) & 0x03];
  const rest = blob.subarray(1);
  if (how === "none") return new ByteReader(rest);
  if (how === "deflate") return new ByteReader(inflateRawSync(rest));
  if (how === "brotli") return new ByteReader(brotliDecompressSync(rest));
  throw new RangeError(`unknown raw block compressor in lead byte ${blob[0]}`);
}

export function decodeChunk(blob: Uint8Array): ChunkColumns {
  if (!isV2(blob)) return decodeChunkV1(blob);
  const r = openV2(blob);
  const n = r.uvarint();
  const ts = readIntColumn(r, n);
  const interval = readIntColumn(r, n);
  const state = Uint8Array.from(readIntColumn(r, n));
  const cols: Float64Array[] = [];
  const present = new Float64Array(n);
  for (let m = 0; m < METRIC_COUNT; m++) {
    const col = new Float64Array(n).fill(Number.NaN);
    cols.push(col);
    const mode = r.byte();
    if (mode === NONE) continue;
    if (mode === ALL) {
      readIntColumn(r, n, col);
      continue;
    }
    const has = new Uint8Array(n).fill(1);
    if (mode === BITMAP) {
      const bitmap = r.bytes(Math.ceil(n / 8));
      for (let k = 0; k < n; k++) has[k] = ((bitmap[k >> 3] as number) >> (k & 7)) & 1;
    } else if (mode === ABSENT_LIST) {
      let k = -1;
      for (let i = r.uvarint(); i > 0; i--) {
        k += r.uvarint() + 1;
        if (k >= n) throw new RangeError(`absent position ${k} past ${n} samples`);
        has[k] = 0;
      }
    } else throw new RangeError(`unknown presence mode ${mode}`);
    let count = 0;
    for (let k = 0; k < n; k++) count += has[k] as number;
    const values = readIntColumn(r, count, present.subarray(0, count));
    let j = 0;
    for (let k = 0; k < n; k++) if (has[k]) col[k] = values[j++] as number;
  }
  return { n, ts, interval, state, cols };
}

/** Only the timestamps of a block (duplicate checks): the value columns are not decoded. */
export function chunkTimestamps(blob: Uint8Array): Float64Array {
  if (!isV2(blob)) return chunkTimestampsV1(blob);
  const r = openV2(blob);
  return readIntColumn(r, r.uvarint());
}

/** Row k of decoded columns as a sample (recovery and tests). */
export function chunkSample(c: ChunkColumns, k: number): StoredSample {
  const vals = new Float64Array(METRIC_COUNT);
  for (let m = 0; m < METRIC_COUNT; m++) vals[m] = (c.cols[m] as Float64Array)[k] as number;
  return { ts: c.ts[k] as number, intervalMs: c.interval[k] as number, state: c.state[k] as number, vals };
}
