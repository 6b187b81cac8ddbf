// Rollup rows (issue 19): format 2 round-trips every stat exactly, and rows written in format 1
// before it still decode.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applySample, newAcc } from "../../../collector/store/rollup-acc.js";
import { decodeAccMetrics, encodeAccMetrics } from "../../../collector/store/rollup-codec.js";
import { METRIC_COUNT } from "../../../collector/store/sample.js";
import { ByteWriter } from "../../../collector/store/varint.js";

const HEADER = 7;
const PER = 6;

/** Format 1's encoder as it was (collector/store/rollup-acc.ts before issue 19). */
function encodeV1(acc: Float64Array, bucketMs: number): Buffer {
  const w = new ByteWriter(64);
  const bitmap = new Uint8Array(Math.ceil(METRIC_COUNT / 8));
  let newest = bucketMs;
  for (let m = 0; m < METRIC_COUNT; m++) {
    const o = HEADER + m * PER;
    if ((acc[o] as number) === 0) continue;
    bitmap[m >> 3] = (bitmap[m >> 3] as number) | (1 << (m & 7));
    newest = Math.max(newest, acc[o + 5] as number);
  }
  w.bytes(bitmap);
  w.svarint(newest - bucketMs);
  for (let m = 0; m < METRIC_COUNT; m++) {
    const o = HEADER + m * PER;
    const count = acc[o] as number;
    if (count === 0) continue;
    const min = acc[o + 2] as number;
    w.uvarint(count);
    w.svarint(min);
    w.uvarint((acc[o + 3] as number) - min);
    w.svarint((acc[o + 1] as number) - count * min);
    w.uvarint((acc[o + 4] as number) - min);
    w.uvarint(newest - (acc[o + 5] as number));
  }
  return w.finish();
}

const BUCKET = 1_767_225_600_000;
const bucketArb = fc.array(
  fc.record({
    offset: fc.integer({ min: 0, max: 59_999 }),
    vals: fc.array(
      fc.oneof(
        fc.constant(Number.NaN),
        fc.constantFrom(0, 7, 81_559),
        fc.integer({ min: -50_000, max: 70_000 }),
      ),
      { minLength: METRIC_COUNT, maxLength: METRIC_COUNT },
    ),
  }),
  { minLength: 1, maxLength: 60 },
);

function build(samples: { offset: number; vals: number[] }[]): Float64Array {
  const acc = newAcc();
  for (const s of samples) applySample(acc, BUCKET + s.offset, 1000, Float64Array.from(s.vals), "busy");
  return acc;
}

/** The per-metric part of an accumulator (what the blob holds). */
function metricsPart(acc: Float64Array): number[] {
  return Array.from(acc.subarray(HEADER));
}

describe("rollup row codec", () => {
  it("round-trips count, sum, min, max, last and last_ts of every metric exactly", () => {
    fc.assert(
      fc.property(bucketArb, (samples) => {
        const acc = build(samples);
        const back = newAcc();
        decodeAccMetrics(back, encodeAccMetrics(acc, BUCKET), BUCKET);
        expect(metricsPart(back)).toEqual(metricsPart(acc));
      }),
    );
  });

  it("reads rows written in format 1", () => {
    fc.assert(
      fc.property(bucketArb, (samples) => {
        const acc = build(samples);
        const back = newAcc();
        decodeAccMetrics(back, encodeV1(acc, BUCKET), BUCKET);
        expect(metricsPart(back)).toEqual(metricsPart(acc));
      }),
    );
  });

  it("is smaller than format 1 on a minute of mostly constant metrics", () => {
    const minute = Array.from({ length: 60 }, (_, k) => ({
      offset: k * 1000,
      vals: Array.from({ length: METRIC_COUNT }, (_, m) => (m === 7 ? 60_000 + ((k * 7919) % 8000) : 81_559)),
    }));
    const acc = build(minute);
    expect(encodeAccMetrics(acc, BUCKET).length).toBeLessThan(encodeV1(acc, BUCKET).length / 2);
  });
});
