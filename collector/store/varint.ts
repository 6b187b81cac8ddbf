// Zig-zag varints over plain JS numbers. Values here are scaled integers that may exceed
// 32 bits (ECC counters, throttle bitmasks), so the arithmetic avoids 32-bit bitwise ops.

const BIG = 2 ** 52;

/** A growable byte buffer written with varints. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  /**
   * `growBy`: grow in steps of that many bytes instead of doubling, for buffers that many
   * objects keep (unsealed samples per GPU: doubling leaves up to half of each one empty).
   */
  constructor(
    initial = 1024,
    private readonly growBy = 0,
  ) {
    this.buf = new Uint8Array(initial);
  }

  /** Bytes allocated. */
  get capacity(): number {
    return this.buf.length;
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const grown = this.growBy > 0 ? this.buf.length + this.growBy : this.buf.length * 2;
    const next = new Uint8Array(Math.max(grown, this.length + extra));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(value: number): void {
    this.ensure(1);
    this.buf[this.length++] = value;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  /** Unsigned varint (LEB128) of a non-negative integer up to 2^53. */
  uvarint(value: number): void {
    if (this.length + 10 > this.buf.length) this.ensure(10);
    const buf = this.buf;
    if (value < 0x80) {
      buf[this.length++] = value;
      return;
    }
    if (value < 0x100000000) {
      // Fast path: 32-bit bitwise ops, the common case by far.
      let v = value >>> 0;
      while (v >= 0x80) {
        buf[this.length++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.length++] = v;
      return;
    }
    let v = value;
    while (v >= 0x80) {
      buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[this.length++] = v;
  }

  /** Signed varint, zig-zag mapped so small magnitudes stay short. Exact up to ±2^53. */
  svarint(value: number): void {
    if (value < BIG && value > -BIG) {
      this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1);
      return;
    }
    // Zig-zag doubles the magnitude, past 2^53 a double is no longer exact: BigInt (rare).
    const b = BigInt(value);
    let z = b >= 0n ? b << 1n : (-b << 1n) - 1n;
    this.ensure(10);
    while (z >= 0x80n) {
      this.buf[this.length++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.length++] = Number(z);
  }

  /** The bytes written so far, without copying (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** A copy of the bytes written (a Buffer, as better-sqlite3 binds BLOBs from Buffers). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

/** Reads what ByteWriter wrote; throws on truncated input. */
export class ByteReader {
  pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  byte(): number {
    const b = this.buf[this.pos++];
    if (b === undefined) throw new RangeError("truncated buffer");
    return b;
  }

  bytes(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new RangeError("truncated buffer");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  uvarint(): number {
    // One byte (most deltas and small values) skips the general loop and its number|bigint.
    const b = this.buf[this.pos];
    if (b !== undefined && b < 0x80) {
      this.pos++;
      return b;
    }
    return Number(this.zvarint());
  }

  svarint(): number {
    const b = this.buf[this.pos];
    if (b !== undefined && b < 0x80) {
      this.pos++;
      return b & 1 ? -(b + 1) / 2 : b / 2;
    }
    const z = this.zvarint();
    if (typeof z === "bigint") return Number(z & 1n ? -((z + 1n) >> 1n) : z >> 1n);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** A number while it fits 49 bits, a BigInt past that. */
  private zvarint(): number | bigint {
    let result = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new RangeError("truncated varint");
      if (i === 7) return this.bigTail(result, b);
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
  }

  private bigTail(low: number, first: number): bigint {
    let result = BigInt(low);
    let shift = 49n;
    let b = first;
    for (;;) {
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
      const next = this.buf[this.pos++];
      if (next === undefined) throw new RangeError("truncated varint");
      b = next;
    }
  }
}

/**
 * Adds `sign` × the i-th unsigned varint of `bytes` to `into[i]`, for as many as `bytes` holds,
 * without allocating: the usage reports decode tens of thousands of short rows per report
 * (usage-edges.ts), where a reader object per row shows up as garbage-collection time.
 */
export function addUvarints(bytes: Uint8Array, sign: number, into: number[]): void {
  let i = 0;
  let value = 0;
  let mul = 1;
  for (let p = 0; p < bytes.length; p++) {
    const b = bytes[p] as number;
    value += (b & 0x7f) * mul;
    if (b < 0x80) {
      into[i] = (into[i] as number) + sign * value;
      i++;
      value = 0;
      mul = 1;
    } else mul *= 0x80;
  }
  if (mul !== 1) throw new RangeError("truncated varint");
}

/**
 * Adds signs.length runs of `width` unsigned varints from bytes[start], run k times signs[k],
 * the i-th of each run into `into[at + i]`, without allocating (a GPU's lookups in one blob,
 * usage-edges.ts). Returns the offset after the last run.
 */
export function addUvarintRuns(
  bytes: Uint8Array,
  start: number,
  width: number,
  signs: readonly number[],
  into: number[] | Float64Array,
  at = 0,
): number {
  let p = start;
  for (const sign of signs) {
    for (let i = 0; i < width; i++) {
      let value = 0;
      let mul = 1;
      for (;;) {
        const b = bytes[p++];
        if (b === undefined) throw new RangeError("truncated varint");
        value += (b & 0x7f) * mul;
        if (b < 0x80) break;
        mul *= 0x80;
      }
      if (value !== 0) into[at + i] = (into[at + i] as number) + sign * value;
    }
  }
  return p;
}
