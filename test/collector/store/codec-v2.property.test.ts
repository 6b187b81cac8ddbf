// Raw block format 2 (issue 19): bit-packed integer columns and every compressor round-trip
// exactly, absent stays absent, and format-1 blocks written before still read.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Compressor,
  chunkSample,
  chunkTimestamps,
  decodeChunk,
  encodeChunk,
} from "../../../collector/store/chunk-codec.js";
import { encodeChunkV1 } from "../../../collector/store/chunk-codec-v1.js";
import { readIntColumn, writeIntColumn } from "../../../collector/store/int-column.js";
import { METRIC_COUNT, type StoredSample } from "../../../collector/store/sample.js";
import { ByteReader, ByteWriter } from "../../../collector/store/varint.js";

const MAX = Number.MAX_SAFE_INTEGER;
const int = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.integer({ min: 0, max: 100_000 }),
  fc.integer({ min: -MAX, max: MAX }),
  fc.constantFrom(MAX, -MAX, 2 ** 52 + 3, 2 ** 24, 2 ** 24 - 1),
);
/** Columns shaped like gauges (noise around a level), counters, steady clocks, or anything. */
const columnArb = fc.oneof(
  fc.array(int, { maxLength: 300 }),
  fc
    .tuple(fc.integer({ min: 0, max: 1e6 }), fc.array(fc.integer({ min: 0, max: 8000 }), { maxLength: 300 }))
    .map(([level, noise]) => noise.map((x) => level + x)),
  fc
    .tuple(
      fc.integer({ min: 1.7e12, max: 1.8e12 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 300 }),
    )
    .map(([t0, jitter]) => jitter.map((j, k) => t0 + k * 1000 + j)),
  fc.array(fc.constant(MAX - 1), { maxLength: 50 }),
);

describe("integer columns", () => {
  it("round-trip exactly up to ±(2^53 - 1), whichever encoding is chosen", () => {
    fc.assert(
      fc.property(columnArb, (xs) => {
        const w = new ByteWriter(8);
        writeIntColumn(w, Float64Array.from(xs));
        w.byte(0xa5); // what follows a column stays aligned
        const r = new ByteReader(w.finish());
        expect(Array.from(readIntColumn(r, xs.length))).toEqual(xs);
        expect(r.byte()).toBe(0xa5);
        expect(r.done).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("packs a noisy gauge at the bits of its spread, a constant at none", () => {
    const noisy = Float64Array.from({ length: 600 }, (_, k) => 60_000 + ((k * 7919) % 8000));
    const w = new ByteWriter(8);
    writeIntColumn(w, noisy);
    expect(w.length).toBeLessThanOrEqual(600 * 2 + 8); // 13 bits each, not varint deltas
    const c = new ByteWriter(8);
    writeIntColumn(c, new Float64Array(600).fill(81_559));
    expect(c.length).toBeLessThanOrEqual(6);
  });
});

const value = fc.oneof(
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
  { weight: 4, arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 52 + 3, -(2 ** 52), MAX) },
);
function samplesOf(value: fc.Arbitrary<number>) {
  return fc
    .uniqueArray(fc.integer({ min: 1_700_000_000_000, max: 1_700_100_000_000 }), {
      minLength: 1,
      maxLength: 120,
    })
    .chain((tss) =>
      fc.tuple(
        fc.constant([...tss].sort((a, b) => a - b)),
        fc.array(fc.array(value, { minLength: METRIC_COUNT, maxLength: METRIC_COUNT }), {
          minLength: tss.length,
          maxLength: tss.length,
        }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: tss.length, maxLength: tss.length }),
      ),
    )
    .map(([tss, vals, states]) =>
      tss.map(
        (ts, k): StoredSample => ({
          ts,
          intervalMs: 1000 + (k % 3),
          state: states[k] as number,
          vals: Float64Array.from(vals[k] as number[]),
        }),
      ),
    );
}
const samplesArb = samplesOf(value);
/** Format 1's own domain (its deltas were exact only while differences stayed within 2^53). */
const v1SamplesArb = samplesOf(
  fc.oneof(
    fc.constant(Number.NaN),
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
    fc.constant(2 ** 52 + 3),
  ),
);

function plain(s: StoredSample) {
  return { ts: s.ts, intervalMs: s.intervalMs, state: s.state, vals: Array.from(s.vals) };
}

function expectSame(blob: Buffer, samples: readonly StoredSample[]): void {
  const c = decodeChunk(blob);
  expect(Array.from(chunkTimestamps(blob))).toEqual(samples.map((s) => s.ts));
  expect(c.n).toBe(samples.length);
  for (let k = 0; k < c.n; k++) expect(plain(chunkSample(c, k))).toEqual(plain(samples[k] as StoredSample));
}

describe("raw block format 2", () => {
  for (const how of ["none", "deflate", "brotli"] as Compressor[]) {
    it(`round-trips exactly with ${how}, absent staying absent`, () => {
      fc.assert(fc.property(samplesArb, (samples) => expectSame(encodeChunk(samples, how), samples)));
    });
  }

  it("reads format-1 blocks (written before issue 19) unchanged", () => {
    fc.assert(fc.property(v1SamplesArb, (samples) => expectSame(encodeChunkV1(samples), samples)));
  });

  it("keeps a rare absence in a long column as a position, not a bitmap", () => {
    const samples = Array.from(
      { length: 600 },
      (_, k): StoredSample => ({
        ts: 1_700_000_000_000 + k * 1000,
        intervalMs: 1000,
        state: 1,
        vals: new Float64Array(METRIC_COUNT).fill(k === 300 ? Number.NaN : 42),
      }),
    );
    const blob = encodeChunk(samples, "none");
    expectSame(blob, samples);
    expect(blob.length).toBeLessThan(METRIC_COUNT * 12);
  });
});
