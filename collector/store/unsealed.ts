// One GPU's unsealed samples in memory (10,000 GPUs x a 10-minute window at 1 s is 6 million
// samples, issue 19): each sample against the one appended before it. A flag byte says whether
// interval, state and presence repeat (then they are not written) and whether the values are
// deltas; the timestamp is a delta; then a bitmap of the values that changed and their
// differences, so a busy GPU's sample (noisy power, utilization, memory) takes ~12 bytes, an
// idle one ~9, instead of ~48 as plain varints. Differences that would not be exact in a double
// (values near ±2^53 of both signs) make that sample plain. Read back only as a whole, in order.
import { METRIC_COUNT, type StoredSample } from "./sample.js";
import { ByteReader, ByteWriter } from "./varint.js";

const BITMAP_BYTES = Math.ceil(METRIC_COUNT / 8);
const SAME_META = 1;
const DELTAS = 2;
const SAFE = Number.MAX_SAFE_INTEGER;

function sameMeta(a: StoredSample, b: StoredSample): boolean {
  if (a.intervalMs !== b.intervalMs || a.state !== b.state) return false;
  for (let m = 0; m < METRIC_COUNT; m++) {
    if (Number.isNaN(a.vals[m] as number) !== Number.isNaN(b.vals[m] as number)) return false;
  }
  return true;
}

function deltasExact(a: StoredSample, b: StoredSample): boolean {
  for (let m = 0; m < METRIC_COUNT; m++) {
    const d = (a.vals[m] as number) - (b.vals[m] as number);
    if (d > SAFE || d < -SAFE) return false;
  }
  return true;
}

export class UnsealedSamples {
  private readonly w = new ByteWriter(64);
  private prev: StoredSample | undefined;
  private readonly bitmap = new Uint8Array(BITMAP_BYTES);
  /** Samples held. */
  count = 0;
  /**
   * Their timestamps, built only once a sample arrives out of order (a replay): live samples
   * arrive in order and need no set (10,000 GPUs x 600 numbers).
   */
  private seen: Set<number> | undefined;

  /** Whether a sample at ts is held (duplicate checks for out-of-order samples). */
  has(ts: number): boolean {
    this.seen ??= new Set(this.samples().map((s) => s.ts));
    return this.seen.has(ts);
  }

  get byteLength(): number {
    return this.w.length;
  }

  append(s: StoredSample): void {
    const w = this.w;
    const prev = this.prev;
    const meta = prev !== undefined && sameMeta(s, prev);
    const deltas = meta && deltasExact(s, prev as StoredSample);
    w.byte((meta ? SAME_META : 0) | (deltas ? DELTAS : 0));
    if (prev) w.svarint(s.ts - prev.ts);
    else w.uvarint(s.ts);
    const bitmap = this.bitmap;
    if (!meta) {
      w.uvarint(s.intervalMs);
      w.uvarint(s.state);
      bitmap.fill(0);
      for (let m = 0; m < METRIC_COUNT; m++) {
        if (!Number.isNaN(s.vals[m] as number)) bitmap[m >> 3] = (bitmap[m >> 3] as number) | (1 << (m & 7));
      }
      w.bytes(bitmap);
    }
    if (deltas) {
      const p = (prev as StoredSample).vals;
      bitmap.fill(0);
      for (let m = 0; m < METRIC_COUNT; m++) {
        const v = s.vals[m] as number;
        if (!Number.isNaN(v) && v !== p[m]) bitmap[m >> 3] = (bitmap[m >> 3] as number) | (1 << (m & 7));
      }
      w.bytes(bitmap);
      for (let m = 0; m < METRIC_COUNT; m++) {
        const v = s.vals[m] as number;
        if (!Number.isNaN(v) && v !== p[m]) w.svarint(v - (p[m] as number));
      }
    } else {
      for (let m = 0; m < METRIC_COUNT; m++) {
        const v = s.vals[m] as number;
        if (!Number.isNaN(v)) w.svarint(v);
      }
    }
    this.prev = s;
    this.count++;
    this.seen?.add(s.ts);
  }

  /** Every sample, in the order appended. */
  samples(): StoredSample[] {
    const r = new ByteReader(this.w.view());
    const out: StoredSample[] = [];
    let prev: StoredSample | undefined;
    while (!r.done) {
      const flags = r.byte();
      const ts = prev ? prev.ts + r.svarint() : r.uvarint();
      let intervalMs: number;
      let state: number;
      let present: Uint8Array | undefined;
      if (flags & SAME_META) {
        intervalMs = (prev as StoredSample).intervalMs;
        state = (prev as StoredSample).state;
      } else {
        intervalMs = r.uvarint();
        state = r.uvarint();
        present = r.bytes(BITMAP_BYTES);
      }
      const vals = new Float64Array(METRIC_COUNT);
      if (flags & DELTAS) {
        const p = (prev as StoredSample).vals;
        const changed = r.bytes(BITMAP_BYTES);
        for (let m = 0; m < METRIC_COUNT; m++) {
          const pm = p[m] as number;
          vals[m] = ((changed[m >> 3] as number) >> (m & 7)) & 1 ? pm + r.svarint() : pm;
        }
      } else {
        for (let m = 0; m < METRIC_COUNT; m++) {
          const has = present
            ? ((present[m >> 3] as number) >> (m & 7)) & 1
            : !Number.isNaN((prev as StoredSample).vals[m] as number);
          vals[m] = has ? r.svarint() : Number.NaN;
        }
      }
      prev = { ts, intervalMs, state, vals };
      out.push(prev);
    }
    return out;
  }

  clear(): void {
    this.w.length = 0;
    this.prev = undefined;
    this.count = 0;
    this.seen = undefined;
  }
}
