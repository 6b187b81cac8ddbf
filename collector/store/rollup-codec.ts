// The per-metric part of a rollup row (the `data` blob of the rollups table).
//
// Format 2 (issue 19): presence bitmap; zig-zag -(newest last_ts - bucket) - 1, negative so it
// is told apart from format 1, whose same field is never negative; the largest count; three
// bitmaps over the present metrics: count equals that largest count, constant (max = min, so
// sum = count * min and last = min), last_ts equals the newest; then per present metric min
// and only what those bits leave open. A constant metric (limits, clocks, memory total, most
// of a bucket) costs its minimum alone.
//
// Format 1 (rows written before issue 19, still read): bitmap, the newest last_ts - bucket,
// then per present metric count, min, max - min, sum - count * min, last - min and
// newest - last_ts.
import { COUNT, HEADER, LAST, LAST_TS, MAX, MIN, PER, SUM } from "./rollup-acc.js";
import { METRIC_COUNT } from "./sample.js";
import { ByteReader, ByteWriter } from "./varint.js";

const BITMAP_BYTES = Math.ceil(METRIC_COUNT / 8);

function setBit(bitmap: Uint8Array, i: number): void {
  bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
}

function bit(bitmap: Uint8Array, i: number): boolean {
  return (((bitmap[i >> 3] as number) >> (i & 7)) & 1) === 1;
}

export function encodeAccMetrics(acc: Float64Array, bucketMs: number): Buffer {
  const w = new ByteWriter(64 + METRIC_COUNT * 8);
  const present = new Uint8Array(BITMAP_BYTES);
  const fullCount = new Uint8Array(BITMAP_BYTES);
  const constant = new Uint8Array(BITMAP_BYTES);
  const atNewest = new Uint8Array(BITMAP_BYTES);
  let newest = bucketMs;
  let maxCount = 0;
  for (let m = 0; m < METRIC_COUNT; m++) {
    const o = HEADER + m * PER;
    const count = acc[o + COUNT] as number;
    if (count === 0) continue;
    setBit(present, m);
    newest = Math.max(newest, acc[o + LAST_TS] as number);
    maxCount = Math.max(maxCount, count);
  }
  for (let m = 0; m < METRIC_COUNT; m++) {
    const o = HEADER + m * PER;
    if (!bit(present, m)) continue;
    if (acc[o + COUNT] === maxCount) setBit(fullCount, m);
    if (acc[o + MAX] === acc[o + MIN]) setBit(constant, m);
    if (acc[o + LAST_TS] === newest) setBit(atNewest, m);
  }
  w.bytes(present);
  w.svarint(-(newest - bucketMs) - 1);
  w.uvarint(maxCount);
  w.bytes(fullCount);
  w.bytes(constant);
  w.bytes(atNewest);
  for (let m = 0; m < METRIC_COUNT; m++) {
    if (!bit(present, m)) continue;
    const o = HEADER + m * PER;
    const count = acc[o + COUNT] as number;
    const min = acc[o + MIN] as number;
    if (!bit(fullCount, m)) w.uvarint(count);
    w.svarint(min);
    if (!bit(constant, m)) {
      w.uvarint((acc[o + MAX] as number) - min);
      w.svarint((acc[o + SUM] as number) - count * min);
      w.uvarint((acc[o + LAST] as number) - min);
    }
    if (!bit(atNewest, m)) w.uvarint(newest - (acc[o + LAST_TS] as number));
  }
  return w.finish();
}

export function decodeAccMetrics(acc: Float64Array, data: Uint8Array, bucketMs: number): void {
  const r = new ByteReader(data);
  const present = r.bytes(BITMAP_BYTES);
  const lead = r.svarint();
  if (lead >= 0) {
    decodeV1(acc, r, present, bucketMs + lead);
    return;
  }
  const newest = bucketMs - lead - 1;
  const maxCount = r.uvarint();
  const fullCount = r.bytes(BITMAP_BYTES);
  const constant = r.bytes(BITMAP_BYTES);
  const atNewest = r.bytes(BITMAP_BYTES);
  for (let m = 0; m < METRIC_COUNT; m++) {
    if (!bit(present, m)) continue;
    const o = HEADER + m * PER;
    const count = bit(fullCount, m) ? maxCount : r.uvarint();
    const min = r.svarint();
    acc[o + COUNT] = count;
    acc[o + MIN] = min;
    if (bit(constant, m)) {
      acc[o + MAX] = min;
      acc[o + SUM] = count * min;
      acc[o + LAST] = min;
    } else {
      acc[o + MAX] = min + r.uvarint();
      acc[o + SUM] = r.svarint() + count * min;
      acc[o + LAST] = min + r.uvarint();
    }
    acc[o + LAST_TS] = bit(atNewest, m) ? newest : newest - r.uvarint();
  }
}

function decodeV1(acc: Float64Array, r: ByteReader, present: Uint8Array, newest: number): void {
  for (let m = 0; m < METRIC_COUNT; m++) {
    if (!bit(present, m)) continue;
    const o = HEADER + m * PER;
    const count = r.uvarint();
    const min = r.svarint();
    acc[o + COUNT] = count;
    acc[o + MIN] = min;
    acc[o + MAX] = min + r.uvarint();
    acc[o + SUM] = r.svarint() + count * min;
    acc[o + LAST] = min + r.uvarint();
    acc[o + LAST_TS] = newest - r.uvarint();
  }
}
