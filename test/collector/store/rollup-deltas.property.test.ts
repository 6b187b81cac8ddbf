// Rollup deltas in memory (issue 19): older buckets are packed, a late sample unpacks its
// bucket, and every slot reads back as plain accumulators would hold it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applySample, newAcc } from "../../../collector/store/rollup-acc.js";
import { RollupDeltas } from "../../../collector/store/rollup-deltas.js";
import { METRIC_COUNT } from "../../../collector/store/sample.js";

const STEP = 60_000;
const T0 = 1_767_225_600_000;
const sampleArb = fc.record({
  at: fc.integer({ min: 0, max: 10 * STEP - 1 }),
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
        const plain = new Map<number, Float64Array>();
        for (const s of samples) {
          const ts = T0 + s.at;
          const bucket = ts - (ts % STEP);
          const vals = Float64Array.from(s.vals);
          applySample(deltas.acc(bucket), ts, s.interval, vals, s.usage);
          let acc = plain.get(bucket);
          if (!acc) {
            acc = newAcc();
            plain.set(bucket, acc);
          }
          applySample(acc, ts, s.interval, vals, s.usage);
        }
        const got = new Map([...deltas].map(([b, acc]) => [b, Array.from(acc)]));
        expect(got).toEqual(new Map([...plain].map(([b, acc]) => [b, Array.from(acc)])));
        for (const b of plain.keys())
          expect(Array.from(deltas.get(b) ?? [])).toEqual(Array.from(plain.get(b) ?? []));
        expect(deltas.size).toBe(plain.size);
        // A range reads its own buckets, packed or not, and none outside it.
        const [from, to] = [T0 + 3 * STEP, T0 + 7 * STEP];
        const inside = new Map([...deltas.within(from, to)].map(([b, acc]) => [b, Array.from(acc)]));
        expect(inside).toEqual(new Map([...got].filter(([b]) => b >= from && b < to)));
      }),
    );
  });
});
