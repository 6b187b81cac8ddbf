// One column of integers (exact up to ±2^53) as bit-packed offsets, the shape noisy gauges need:
// per column the cheapest of
//   OFFSET  each value minus the column's minimum (noise: the values' spread),
//   DELTA   each step minus the smallest step (counters, slow drifts),
//   DOD     each change of step minus the smallest one (timestamps at a steady interval),
// each packed at the fewest bits its range needs (0 bits for a constant). Noise makes deltas
// twice as wide as the values, so OFFSET often wins on gauges. A column whose ranges do not fit
// 53 bits (values of both signs near ±2^53) falls back to the values themselves as zig-zag
// varints (VARINT): a difference there would not be exact in a double.
import type { ByteReader, ByteWriter } from "./varint.js";

const OFFSET = 0;
const DELTA = 1;
const DOD = 2;
const VARINT = 3;
const SAFE = Number.MAX_SAFE_INTEGER;
const P24 = 2 ** 24;

function bitsFor(range: number): number {
  let w = 0;
  while (w < 53 && range >= 2 ** w) w++;
  return w;
}

/** Appends bit-packed unsigned integers (each below 2^width, width ≤ 53), LSB first. */
class BitPacker {
  private acc = 0;
  private n = 0;
  constructor(private readonly w: ByteWriter) {}

  put(value: number, width: number): void {
    let v = value;
    let left = width;
    while (left > 24) {
      this.put24(v % P24, 24);
      v = Math.floor(v / P24);
      left -= 24;
    }
    this.put24(v, left);
  }

  private put24(v: number, bits: number): void {
    this.acc = (this.acc | (v << this.n)) >>> 0;
    this.n += bits;
    while (this.n >= 8) {
      this.w.byte(this.acc & 0xff);
      this.acc >>>= 8;
      this.n -= 8;
    }
  }

  end(): void {
    if (this.n > 0) this.w.byte(this.acc & 0xff);
    this.acc = 0;
    this.n = 0;
  }
}

class BitUnpacker {
  private acc = 0;
  private n = 0;
  constructor(private readonly r: ByteReader) {}

  get(width: number): number {
    if (width <= 24) return this.get24(width);
    let v = 0;
    let mul = 1;
    let left = width;
    while (left > 0) {
      const bits = Math.min(24, left);
      v += this.get24(bits) * mul;
      mul *= P24;
      left -= bits;
    }
    return v;
  }

  private get24(bits: number): number {
    while (this.n < bits) {
      this.acc = (this.acc | (this.r.byte() << this.n)) >>> 0;
      this.n += 8;
    }
    const v = (this.acc & ((1 << bits) - 1)) >>> 0;
    this.acc >>>= bits;
    this.n -= bits;
    return v;
  }
}

/** Differences of xs from index `from` on; undefined when one is not an exact integer. */
function diffs(xs: ArrayLike<number>, from: number): Float64Array | undefined {
  const out = new Float64Array(Math.max(0, xs.length - from));
  for (let k = from; k < xs.length; k++) {
    const d = (xs[k] as number) - (xs[k - 1] as number);
    if (d > SAFE || d < -SAFE) return undefined;
    out[k - from] = d;
  }
  return out;
}

function range(xs: Float64Array): { min: number; width: number } | undefined {
  if (xs.length === 0) return { min: 0, width: 0 };
  let min = xs[0] as number;
  let max = min;
  for (let k = 1; k < xs.length; k++) {
    const v = xs[k] as number;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  const span = max - min;
  return span > SAFE ? undefined : { min, width: bitsFor(span) };
}

/** Writes a column of integers (|x| < 2^53) with its cheapest encoding. */
export function writeIntColumn(w: ByteWriter, xs: Float64Array): void {
  const n = xs.length;
  const offset = range(xs);
  const d1 = diffs(xs, 1);
  const delta = d1 && range(d1);
  const d2 = d1 && n > 2 ? diffs(d1, 1) : undefined;
  const dod = d2 && range(d2);
  let mode = VARINT;
  let cost = Number.POSITIVE_INFINITY;
  // Bits of payload plus a rough header cost for the extra starting values.
  if (offset) [mode, cost] = [OFFSET, n * offset.width];
  if (delta && (n - 1) * delta.width + 24 < cost) [mode, cost] = [DELTA, (n - 1) * delta.width + 24];
  if (dod && (n - 2) * dod.width + 48 < cost) mode = DOD;
  w.byte(mode);
  if (mode === VARINT) {
    for (let k = 0; k < n; k++) w.svarint(xs[k] as number);
    return;
  }
  let body = xs;
  let r = offset as { min: number; width: number };
  if (mode === DELTA) {
    w.svarint(xs[0] as number);
    [body, r] = [d1 as Float64Array, delta as { min: number; width: number }];
  } else if (mode === DOD) {
    w.svarint(xs[0] as number);
    w.svarint((d1 as Float64Array)[0] as number);
    [body, r] = [d2 as Float64Array, dod as { min: number; width: number }];
  }
  w.svarint(r.min);
  w.byte(r.width);
  if (r.width === 0) return;
  const bits = new BitPacker(w);
  for (let k = 0; k < body.length; k++) bits.put((body[k] as number) - r.min, r.width);
  bits.end();
}

/** Reads n integers written by writeIntColumn into out (or a new array). */
export function readIntColumn(r: ByteReader, n: number, out = new Float64Array(n)): Float64Array {
  const mode = r.byte();
  if (mode === VARINT) {
    for (let k = 0; k < n; k++) out[k] = r.svarint();
    return out;
  }
  if (mode !== OFFSET && mode !== DELTA && mode !== DOD) throw new RangeError(`unknown column mode ${mode}`);
  let start = 0;
  let x = 0;
  let d = 0;
  if (mode === DELTA && n > 0) {
    x = out[0] = r.svarint();
    start = 1;
  } else if (mode === DOD && n > 0) {
    x = out[0] = r.svarint();
    d = r.svarint();
    start = 1;
    if (n > 1) {
      x = out[1] = x + d;
      start = 2;
    }
  }
  const min = r.svarint();
  const width = r.byte();
  const bits = width === 0 ? undefined : new BitUnpacker(r);
  for (let k = start; k < n; k++) {
    const v = min + (bits ? bits.get(width) : 0);
    if (mode === OFFSET) out[k] = v;
    else if (mode === DELTA) out[k] = x += v;
    else {
      d += v;
      out[k] = x += d;
    }
  }
  return out;
}
