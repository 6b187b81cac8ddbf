// Rollup deltas in memory (issue 19): older buckets are packed, a late sample unpacks its
// bucket, and every slot reads back as plain accumulators would hold it; a coarser tier read
// from the finest tier's buckets holds what its own accumulators would.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applySample, newAcc } from "../../../collector/store/rollup-acc.js";
import { DerivedDeltas, RollupDeltas } from "../../../collector/store/rollup-deltas.js";
import { METRIC_COUNT } from "../../../collector/store/sample.js";

const STEP = 60_000;
const HOUR = 3_600_000;
const T0 = 1_767_225_600_000;
const sampleArb = fc.record({
  at: fc.oneof(fc.integer({ min: 0, max: 10 * STEP - 1 }), fc.integer({ min: -3 * HOUR, max: 3 * HOUR })),
  interval: fc.constantFrom(1000, 5000, 900_000),
  usage: fc.constantFrom("busy", "idle", "idle_held", "unknown") as fc.Arbitrary<
    "busy" | "idle" | "idle_held" | "unknown"
  >,
  vals: fc.array(fc.oneof(fc.constant(Number.NaN), fc.integer({ min: -70_000, max: 70_000 })), {
    minLength: METRIC_COUNT,
    maxLength: METRIC_COUNT,
  }),
});

describe("rollup deltas", () => {
  it("hold exactly what plain accumulators hold, in any arrival order", () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { minLength: 1, maxLength: 200 }), (samples) => {
        const deltas = new RollupDeltas();
        const hourly = new DerivedDeltas(deltas, HOUR);
        const plain = new Map<number, Float64Array>();
        const plainHourly = new Map<number, Float64Array>();
        const add = (map: Map<number, Float64Array>, bucket: number) => {
          let acc = map.get(bucket);
          if (!acc) {
            acc = newAcc();
            map.set(bucket, acc);
          }
          return acc;
        };
        for (const s of samples) {
          const ts = T0 + s.at;
          const bucket = ts - (ts % STEP);
          const vals = Float64Array.from(s.vals);
          applySample(deltas.acc(bucket), ts, s.interval, vals, s.usage);
          applySample(add(plain, bucket), ts, s.interval, vals, s.usage);
          applySample(add(plainHourly, ts - (ts % HOUR)), ts, s.interval, vals, s.usage);
        }
        const arrays = (m: Iterable<[number, Float64Array]>) =>
          new Map([...m].map(([b, acc]) => [b, Array.from(acc)]));
        expect(arrays(deltas)).toEqual(arrays(plain));
        for (const b of plain.keys())
          expect(Array.from(deltas.get(b) ?? [])).toEqual(Array.from(plain.get(b) ?? []));
        expect(deltas.size).toBe(plain.size);
        expect(arrays(hourly)).toEqual(arrays(plainHourly));
        for (const b of plainHourly.keys())
          expect(Array.from(hourly.get(b) ?? [])).toEqual(Array.from(plainHourly.get(b) ?? []));
        expect(hourly.size).toBe(plainHourly.size);
        // A range reads its own buckets, packed or not, and none outside it; a coarser tier's
        // range, the finest buckets of its own buckets in the range.
        const within = (m: Map<number, number[]>, from: number, to: number) =>
          new Map([...m].filter(([b]) => b >= from && b < to));
        const [from, to] = [T0 + 3 * STEP, T0 + 7 * STEP];
        expect(arrays(deltas.within(from, to))).toEqual(within(arrays(plain), from, to));
        for (const [a, b] of [
          [T0 - HOUR, T0 + HOUR],
          [T0 - HOUR + 1, T0 + 1],
        ] as const)
          expect(arrays(hourly.within(a, b))).toEqual(within(arrays(plainHourly), a, b));
      }),
    );
  });
});
