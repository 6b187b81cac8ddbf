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

export class UnsealedSamples {
  private readonly w = new ByteWriter(64);
  private prev: StoredSample | undefined;
  private readonly present = new Uint8Array(BITMAP_BYTES);
  private readonly changed = new Uint8Array(BITMAP_BYTES);
  /** Samples held. */
  count = 0;
  /** Present values of the samples held (absent ones not counted). */
  values = 0;
  /** Present values of the sample appended last. */
  lastValues = 0;
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
    const vals = s.vals;
    const changed = this.changed;
    // One pass decides both: the same interval, state and presence as prev (meta), and every
    // difference exact in a double (deltas); it marks the values that changed on the way.
    let meta = prev !== undefined && s.intervalMs === prev.intervalMs && s.state === prev.state;
    let deltas = meta;
    if (meta) {
      const p = (prev as StoredSample).vals;
      changed.fill(0);
      for (let m = 0; m < METRIC_COUNT; m++) {
        const v = vals[m] as number;
        const q = p[m] as number;
        const absent = Number.isNaN(v);
        if (absent !== Number.isNaN(q)) {
          meta = deltas = false;
          break;
        }
        if (absent || v === q) continue;
        const d = v - q;
        if (d > SAFE || d < -SAFE) deltas = false;
        changed[m >> 3] = (changed[m >> 3] as number) | (1 << (m & 7));
      }
    }
    w.byte((meta ? SAME_META : 0) | (deltas ? DELTAS : 0));
    if (prev) w.svarint(s.ts - prev.ts);
    else w.uvarint(s.ts);
    if (!meta) {
      const present = this.present;
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
      const p = (prev as StoredSample).vals;
      w.bytes(changed);
      for (let m = 0; m < METRIC_COUNT; m++) {
        if (((changed[m >> 3] as number) >> (m & 7)) & 1) w.svarint((vals[m] as number) - (p[m] as number));
      }
    } else {
      for (let m = 0; m < METRIC_COUNT; m++) {
        const v = vals[m] as number;
        if (!Number.isNaN(v)) w.svarint(v);
      }
    }
    this.prev = s;
    this.count++;
    this.values += this.lastValues;
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
    this.values = 0;
    this.lastValues = 0;
    this.seen = undefined;
  }
}
