// One GPU's rollup deltas for one tier (what arrived since its last seal, by bucket). Only the
// newest bucket stays a Float64Array (1.3 KB); an older one, complete in the usual case, is
// packed with the rollup row codec (~100 bytes) and unpacked again if a late sample reaches
// it: 10,000 GPUs x ten 1-minute buckets of a window is 130 MB as arrays, ~12 MB packed.
// Packing is exact (integers only), so what a seal merges is unchanged.
import { ACC_SIZE, HEADER, newAcc } from "./rollup-acc.js";
import { decodeAccMetrics, encodeAccMetrics } from "./rollup-codec.js";
import { ByteReader, ByteWriter } from "./varint.js";

function pack(acc: Float64Array, bucket: number): Buffer {
  const w = new ByteWriter(16 + ACC_SIZE);
  for (let i = 0; i < HEADER; i++) w.svarint(acc[i] as number);
  w.bytes(encodeAccMetrics(acc, bucket));
  return w.finish();
}

function unpack(data: Buffer, bucket: number): Float64Array {
  const acc = newAcc();
  const r = new ByteReader(data);
  for (let i = 0; i < HEADER; i++) acc[i] = r.svarint();
  decodeAccMetrics(acc, data.subarray(r.pos), bucket);
  return acc;
}

export class RollupDeltas {
  private readonly open = new Map<number, Float64Array>();
  private readonly packed = new Map<number, Buffer>();

  get size(): number {
    return this.open.size + this.packed.size;
  }

  /** The bucket's accumulator to add to (created, or unpacked); older open buckets get packed. */
  acc(bucket: number): Float64Array {
    let acc = this.open.get(bucket);
    if (acc) return acc;
    const data = this.packed.get(bucket);
    if (data) {
      acc = unpack(data, bucket);
      this.packed.delete(bucket);
    } else {
      acc = newAcc();
      for (const [b, older] of this.open) {
        if (b > bucket) continue;
        this.packed.set(b, pack(older, b));
        this.open.delete(b);
      }
    }
    this.open.set(bucket, acc);
    return acc;
  }

  /** A bucket's delta to read (a packed one is decoded into a new array), undefined if none. */
  get(bucket: number): Float64Array | undefined {
    const acc = this.open.get(bucket);
    if (acc) return acc;
    const data = this.packed.get(bucket);
    return data ? unpack(data, bucket) : undefined;
  }

  /** The buckets in [fromMs, toMs): only those are unpacked (a report reads a range of them). */
  *within(fromMs: number, toMs: number): IterableIterator<[number, Float64Array]> {
    for (const entry of this.open) if (entry[0] >= fromMs && entry[0] < toMs) yield entry;
    for (const [bucket, data] of this.packed)
      if (bucket >= fromMs && bucket < toMs) yield [bucket, unpack(data, bucket)];
  }

  *[Symbol.iterator](): IterableIterator<[number, Float64Array]> {
    yield* this.open;
    for (const [bucket, data] of this.packed) yield [bucket, unpack(data, bucket)];
  }

  clear(): void {
    this.open.clear();
    this.packed.clear();
  }
}
