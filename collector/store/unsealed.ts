// One GPU's unsealed samples in memory (10,000 GPUs x a 10-minute window at 1 s is 6 million
// samples, issue 19): each sample against the one appended before it. The lead byte holds the
// flags and, in its top five bits, the timestamp's distance from "previous + interval" (an
// escape value puts it in a varint after). SAME_META: interval, state and presence repeat (not
// written). DELTAS: the values are differences from the previous sample, for the metrics of the
// reference set: SAME_SET keeps the set of the sample before (a busy GPU changes the same few
// metrics every second, an idle one its power alone), otherwise a bitmap of the metrics that
// changed follows and becomes the set. A busy GPU's sample takes ~6.5 bytes, an idle one ~3.5.
// Differences that would not be exact in a double (values near ±2^53 of both signs) make that
// sample plain. Read back only as a whole, in order.
import { METRIC_COUNT, type StoredSample } from "./sample.js";
import { ByteReader, ByteWriter } from "./varint.js";

const BITMAP_BYTES = Math.ceil(METRIC_COUNT / 8);
const SAME_META = 1;
const DELTAS = 2;
const SAME_SET = 4;
/** Timestamp offsets -15..15 ms fit the lead byte (code 0..30); 31 means a varint follows. */
const TS_BIAS = 15;
const TS_ESCAPE = 31;
const SAFE = Number.MAX_SAFE_INTEGER;
/** Grown in steps (not doubled), and given back at a seal: 10,000 GPUs each keep a buffer. */
const INITIAL_BYTES = 256;
const GROW_BYTES = 512;

// Scratch bitmaps (append runs to completion, one GPU at a time).
const present = new Uint8Array(BITMAP_BYTES);
const changed = new Uint8Array(BITMAP_BYTES);

function bit(bitmap: Uint8Array, m: number): boolean {
  return (((bitmap[m >> 3] as number) >> (m & 7)) & 1) === 1;
}

export class UnsealedSamples {
  private w = new ByteWriter(INITIAL_BYTES, GROW_BYTES);
  /** The sample appended last, copied (the caller's sample is not kept). */
  private prevTs = 0;
  private prevIntervalMs = 0;
  private prevState = 0;
  private prevVals: Float64Array | undefined;
  /** The reference set of DELTAS samples, and the zero differences it made us write since set. */
  private readonly set = new Uint8Array(BITMAP_BYTES);
  private waste = 0;
  /** Samples held. */
  count = 0;
  /** Present values of the samples held (absent ones not counted). */
  values = 0;
  /** Present values of the sample appended last. */
  lastValues = 0;
  /** The oldest timestamp held (samples may arrive out of order); Infinity when none. */
  minTs = Number.POSITIVE_INFINITY;
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
    if (s.ts < this.minTs) this.minTs = s.ts;
    const w = this.w;
    const first = this.count === 0;
    const p = this.prevVals ?? new Float64Array(METRIC_COUNT);
    this.prevVals = p;
    const vals = s.vals;
    // One pass decides both: the same interval, state and presence as prev (meta), and every
    // difference exact in a double (deltas); it marks the values that changed on the way.
    let meta = !first && s.intervalMs === this.prevIntervalMs && s.state === this.prevState;
    let deltas = meta;
    let inSet = true;
    let changes = 0;
    let setSize = 0;
    if (meta) {
      changed.fill(0);
      for (let m = 0; m < METRIC_COUNT; m++) {
        const v = vals[m] as number;
        const q = p[m] as number;
        const absent = Number.isNaN(v);
        if (absent !== Number.isNaN(q)) {
          meta = deltas = false;
          break;
        }
        if (absent) continue;
        const member = bit(this.set, m);
        if (member) setSize++;
        if (v === q) continue;
        const d = v - q;
        if (d > SAFE || d < -SAFE) deltas = false;
        changed[m >> 3] = (changed[m >> 3] as number) | (1 << (m & 7));
        changes++;
        if (!member) inSet = false;
      }
    }
    // The set is kept while its zero differences cost less than writing a new bitmap.
    const zeros = setSize - changes;
    const sameSet = deltas && inSet && this.waste + zeros < BITMAP_BYTES;
    const tsOffset = first ? TS_ESCAPE : s.ts - this.prevTs - s.intervalMs + TS_BIAS;
    const tsCode = tsOffset >= 0 && tsOffset < TS_ESCAPE ? tsOffset : TS_ESCAPE;
    w.byte((meta ? SAME_META : 0) | (deltas ? DELTAS : 0) | (sameSet ? SAME_SET : 0) | (tsCode << 3));
    if (first) w.uvarint(s.ts);
    else if (tsCode === TS_ESCAPE) w.svarint(s.ts - this.prevTs);
    if (!meta) {
      w.uvarint(s.intervalMs);
      w.uvarint(s.state);
      present.fill(0);
      let n = 0;
      for (let m = 0; m < METRIC_COUNT; m++) {
        if (Number.isNaN(vals[m] as number)) continue;
        present[m >> 3] = (present[m >> 3] as number) | (1 << (m & 7));
        n++;
      }
      w.bytes(present);
      this.lastValues = n;
    }
    if (deltas) {
      if (sameSet) this.waste += zeros;
      else {
        w.bytes(changed);
        this.set.set(changed);
        this.waste = 0;
      }
      for (let m = 0; m < METRIC_COUNT; m++) {
        const q = p[m] as number;
        if (bit(this.set, m) && !Number.isNaN(q)) w.svarint((vals[m] as number) - q);
      }
    } else {
      for (let m = 0; m < METRIC_COUNT; m++) {
        const v = vals[m] as number;
        if (!Number.isNaN(v)) w.svarint(v);
      }
    }
    this.prevTs = s.ts;
    this.prevIntervalMs = s.intervalMs;
    this.prevState = s.state;
    p.set(vals);
    this.count++;
    this.values += this.lastValues;
    this.seen?.add(s.ts);
  }

  /**
   * Every sample, in the order appended. Their values are views of one array (one allocation
   * per call, not one per sample: a seal reads back hundreds).
   */
  samples(): StoredSample[] {
    const r = new ByteReader(this.w.view());
    const out: StoredSample[] = [];
    const all = new Float64Array(this.count * METRIC_COUNT);
    const set = new Uint8Array(BITMAP_BYTES);
    let prev: StoredSample | undefined;
    while (!r.done) {
      const flags = r.byte();
      const tsCode = flags >> 3;
      // Written before the interval; an offset in the lead byte needs the interval, read below.
      let ts = Number.NaN;
      if (!prev) ts = r.uvarint();
      else if (tsCode === TS_ESCAPE) ts = prev.ts + r.svarint();
      let intervalMs: number;
      let state: number;
      let presence: Uint8Array | undefined;
      if (flags & SAME_META) {
        intervalMs = (prev as StoredSample).intervalMs;
        state = (prev as StoredSample).state;
      } else {
        intervalMs = r.uvarint();
        state = r.uvarint();
        presence = r.bytes(BITMAP_BYTES);
      }
      if (Number.isNaN(ts)) ts = (prev as StoredSample).ts + intervalMs + tsCode - TS_BIAS;
      const vals = all.subarray(out.length * METRIC_COUNT, (out.length + 1) * METRIC_COUNT);
      if (flags & DELTAS) {
        const p = (prev as StoredSample).vals;
        if (!(flags & SAME_SET)) set.set(r.bytes(BITMAP_BYTES));
        for (let m = 0; m < METRIC_COUNT; m++) {
          const pm = p[m] as number;
          vals[m] = bit(set, m) && !Number.isNaN(pm) ? pm + r.svarint() : pm;
        }
      } else {
        for (let m = 0; m < METRIC_COUNT; m++) {
          const on = presence ? bit(presence, m) : !Number.isNaN((prev as StoredSample).vals[m] as number);
          vals[m] = on ? r.svarint() : Number.NaN;
        }
      }
      prev = { ts, intervalMs, state, vals };
      out.push(prev);
    }
    return out;
  }

  /** Forgets every sample and gives the buffer back (the prev values' array stays for the next). */
  clear(): void {
    if (this.w.capacity > INITIAL_BYTES) this.w = new ByteWriter(INITIAL_BYTES, GROW_BYTES);
    this.w.length = 0;
    this.count = 0;
    this.values = 0;
    this.lastValues = 0;
    this.minTs = Number.POSITIVE_INFINITY;
    this.set.fill(0);
    this.waste = 0;
    this.seen = undefined;
  }
}
