// One GPU's rollup deltas (what arrived since its last seal, by bucket). Only the newest bucket
// stays a Float64Array (1.7 KB); an older one, complete in the usual case, is packed with the
// rollup row codec (~85 bytes) and unpacked again if a late sample reaches it: 10,000 GPUs x
// ten 1-minute buckets of a window is 170 MB as arrays, ~9 MB packed. Packing is exact
// (integers only), so what a seal merges is unchanged. Buckets live in two small parallel
// arrays, not Maps: a GPU holds about ten, and 10,000 GPUs' Maps cost more than their contents.
//
// A coarser tier's deltas are not accumulated apart: they are the finest tier's buckets merged
// (DerivedDeltas), which is exact because every raw sample goes to every tier (the retention
// rules keep each tier at least as long as raw, tiers.ts) and each step is a multiple of the
// finest (shared/config/units.ts). That saves each GPU a second open array and each sample a
// second accumulation.
import { HEADER, mergeAcc, newAcc } from "./rollup-acc.js";
import { decodeAccMetrics, encodeAccMetrics } from "./rollup-codec.js";
import { ByteReader, ByteWriter } from "./varint.js";

/** Appends the accumulator, packed, to w (the header's integers, then the row codec's part). */
function pack(w: ByteWriter, acc: Float64Array, bucket: number): void {
  for (let i = 0; i < HEADER; i++) w.svarint(acc[i] as number);
  w.bytes(encodeAccMetrics(acc, bucket));
}

/** Reads one packed accumulator from the start of data (the codec knows where it ends). */
function unpack(data: Uint8Array, bucket: number): Float64Array {
  const acc = newAcc();
  const r = new ByteReader(data);
  for (let i = 0; i < HEADER; i++) acc[i] = r.svarint();
  decodeAccMetrics(acc, data.subarray(r.pos), bucket);
  return acc;
}

/** What the read side needs of a tier's deltas (queries add them to the stored rows). */
export interface TierDeltas extends Iterable<[number, Float64Array]> {
  /** Buckets held (0 tells a report to skip the GPU). */
  readonly size: number;
  /** A bucket's delta to read (a new array where it is packed or merged), undefined if none. */
  get(bucket: number): Float64Array | undefined;
  /** The buckets starting in [fromMs, toMs), read alone (a report reads a range of them). */
  within(fromMs: number, toMs: number): Iterable<[number, Float64Array]>;
}

export class RollupDeltas implements TierDeltas {
  private readonly buckets: number[] = [];
  /** Per bucket: a Float64Array while open, else where its packed bytes start in `packed`. */
  private readonly data: (Float64Array | number)[] = [];
  /**
   * The packed buckets, one after another in one buffer per GPU and tier (not an array each:
   * 10,000 GPUs hold 50,000 of them). A bucket unpacked again leaves its bytes behind until
   * clear(): only late samples do that.
   */
  private packed: ByteWriter | undefined;

  get size(): number {
    return this.buckets.length;
  }

  /** The bucket's accumulator to add to (created, or unpacked); older open buckets get packed. */
  acc(bucket: number): Float64Array {
    // The newest bucket is last in the usual case (live samples in time order).
    let i = this.buckets.length - 1;
    if (this.buckets[i] !== bucket) i = this.buckets.lastIndexOf(bucket);
    if (i >= 0) {
      const d = this.data[i] as Float64Array | number;
      if (typeof d !== "number") return d;
      const acc = this.unpacked(d, bucket);
      this.data[i] = acc;
      return acc;
    }
    // A packed bucket's array serves the new one: a GPU would otherwise drop a 1.7 KB array
    // every minute, which V8 frees only at its next full collection.
    let spare: Float64Array | undefined;
    for (let k = 0; k < this.buckets.length; k++) {
      const b = this.buckets[k] as number;
      const d = this.data[k];
      if (b > bucket || typeof d === "number" || d === undefined) continue;
      this.packed ??= new ByteWriter(256, 256);
      this.data[k] = this.packed.length;
      pack(this.packed, d, b);
      spare = d;
    }
    const acc = spare ? spare.fill(0) : newAcc();
    this.buckets.push(bucket);
    this.data.push(acc);
    return acc;
  }

  private unpacked(start: number, bucket: number): Float64Array {
    return unpack((this.packed as ByteWriter).view().subarray(start), bucket);
  }

  get(bucket: number): Float64Array | undefined {
    const i = this.buckets.lastIndexOf(bucket);
    if (i < 0) return undefined;
    const d = this.data[i] as Float64Array | number;
    return typeof d === "number" ? this.unpacked(d, bucket) : d;
  }

  /** The buckets in [fromMs, toMs): only those are unpacked (a report reads a range of them). */
  *within(fromMs: number, toMs: number): IterableIterator<[number, Float64Array]> {
    for (let i = 0; i < this.buckets.length; i++) {
      const b = this.buckets[i] as number;
      if (b < fromMs || b >= toMs) continue;
      const d = this.data[i] as Float64Array | number;
      yield [b, typeof d === "number" ? this.unpacked(d, b) : d];
    }
  }

  /** The bucket starts held (nothing unpacked). */
  starts(): readonly number[] {
    return this.buckets;
  }

  *[Symbol.iterator](): IterableIterator<[number, Float64Array]> {
    for (let i = 0; i < this.buckets.length; i++) {
      const b = this.buckets[i] as number;
      const d = this.data[i] as Float64Array | number;
      yield [b, typeof d === "number" ? this.unpacked(d, b) : d];
    }
  }

  clear(): void {
    this.buckets.length = 0;
    this.data.length = 0;
    this.packed = undefined;
  }
}

/** A coarser tier's deltas, read from the finest tier's: its buckets merged by the coarser step. */
export class DerivedDeltas implements TierDeltas {
  constructor(
    private readonly base: RollupDeltas,
    private readonly stepMs: number,
  ) {}

  private start(bucket: number): number {
    return bucket - (((bucket % this.stepMs) + this.stepMs) % this.stepMs);
  }

  /** The finest buckets whose coarse bucket starts in [fromMs, toMs), merged by it. */
  private merged(fromMs: number, toMs: number): Map<number, Float64Array> {
    const out = new Map<number, Float64Array>();
    for (const [b, acc] of this.base.within(this.up(fromMs), this.up(toMs))) {
      const start = this.start(b);
      let sum = out.get(start);
      if (!sum) {
        sum = newAcc();
        out.set(start, sum);
      }
      mergeAcc(sum, acc);
    }
    return out;
  }

  /** The first coarse bucket start at or after t: a finest bucket's coarse start is in a range iff it is. */
  private up(t: number): number {
    if (!Number.isFinite(t)) return t;
    const start = this.start(t);
    return start === t ? t : start + this.stepMs;
  }

  get size(): number {
    const starts = this.base.starts();
    if (starts.length <= 1) return starts.length;
    return new Set(starts.map((b) => this.start(b))).size;
  }

  get(bucket: number): Float64Array | undefined {
    return this.merged(bucket, bucket + 1).get(bucket);
  }

  within(fromMs: number, toMs: number): Iterable<[number, Float64Array]> {
    return this.merged(fromMs, toMs);
  }

  [Symbol.iterator](): IterableIterator<[number, Float64Array]> {
    return this.merged(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)[Symbol.iterator]();
  }
}
