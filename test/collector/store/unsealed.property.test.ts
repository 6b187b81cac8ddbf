// Unsealed samples in memory (issue 19): each stored against the one before, read back exactly
// in the order appended: out-of-order timestamps, absences that come and go, values near ±2^53.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { METRIC_COUNT, type StoredSample } from "../../../collector/store/sample.js";
import { UnsealedSamples } from "../../../collector/store/unsealed.js";

const MAX = Number.MAX_SAFE_INTEGER;
const value = fc.oneof(
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 81_559) },
  { weight: 3, arbitrary: fc.integer({ min: -100_000, max: 100_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(MAX, -MAX, 2 ** 52 + 3) },
);
const sampleArb = fc.record({
  ts: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_900_000 }),
  intervalMs: fc.constantFrom(1000, 1000, 1000, 5000),
  state: fc.constantFrom(1, 1, 1, 2),
  vals: fc
    .array(value, { minLength: METRIC_COUNT, maxLength: METRIC_COUNT })
    .map((v) => Float64Array.from(v)),
});
/** Runs of repeats with small changes, as a GPU reports, or anything at all. */
const seqArb = fc.oneof(
  fc.array(sampleArb, { maxLength: 60 }),
  fc
    .tuple(
      sampleArb,
      fc.array(fc.tuple(fc.integer({ min: 0, max: METRIC_COUNT - 1 }), value), { maxLength: 60 }),
    )
    .map(([first, changes]) => {
      const out: StoredSample[] = [first];
      for (const [m, v] of changes) {
        const prev = out[out.length - 1] as StoredSample;
        const vals = Float64Array.from(prev.vals);
        vals[m] = v;
        out.push({ ...prev, ts: prev.ts + 1000, vals });
      }
      return out;
    }),
  // A GPU's noise: the same few metrics change every sample (or some stay put), timestamps
  // jitter around the interval, now and then far off it.
  fc
    .tuple(
      sampleArb,
      fc.uniqueArray(fc.integer({ min: 0, max: METRIC_COUNT - 1 }), { minLength: 1, maxLength: 6 }),
      fc.array(
        fc.tuple(
          fc.oneof(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -5000, max: 5000 })),
          fc.array(fc.oneof(fc.constant(0), fc.integer({ min: -9000, max: 9000 })), {
            minLength: 6,
            maxLength: 6,
          }),
        ),
        { maxLength: 80 },
      ),
    )
    .map(([first, noisy, steps]) => {
      const out: StoredSample[] = [first];
      for (const [jitter, noise] of steps) {
        const prev = out[out.length - 1] as StoredSample;
        const vals = Float64Array.from(prev.vals);
        noisy.forEach((m, i) => {
          const v = vals[m] as number;
          if (!Number.isNaN(v) && Math.abs(v) < 2 ** 50) vals[m] = v + (noise[i] as number);
        });
        out.push({ ...prev, ts: prev.ts + prev.intervalMs + jitter, vals });
      }
      return out;
    }),
);

function plain(s: StoredSample) {
  return { ts: s.ts, intervalMs: s.intervalMs, state: s.state, vals: Array.from(s.vals) };
}

describe("unsealed samples", () => {
  it("read back exactly, in the order appended, absent staying absent", () => {
    fc.assert(
      fc.property(seqArb, (samples) => {
        const u = new UnsealedSamples();
        for (const s of samples) u.append(s);
        expect(u.samples().map(plain)).toEqual(samples.map(plain));
        expect(u.count).toBe(samples.length);
        // The present values, counted on append (a sealed block's `values` column).
        const present = samples.reduce((n, s) => n + s.vals.filter((v) => !Number.isNaN(v)).length, 0);
        expect(u.values).toBe(present);
        for (const s of samples) expect(u.has(s.ts)).toBe(true);
        expect(u.has(1_600_000_000_000)).toBe(false);
        u.clear();
        expect(u.count).toBe(0);
        expect(u.values).toBe(0);
        expect(u.samples()).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps a repeating sample in a few bytes", () => {
    const u = new UnsealedSamples();
    const vals = new Float64Array(METRIC_COUNT).fill(81_559);
    for (let k = 0; k < 600; k++) {
      const v = Float64Array.from(vals);
      v[7] = 60_000 + ((k * 7919) % 8000);
      u.append({ ts: 1_700_000_000_000 + k * 1000 + (k % 3), intervalMs: 1000, state: 1, vals: v });
    }
    // Lead byte (flags, timestamp offset) and the one difference: no bitmap, no timestamp varint.
    expect(u.byteLength / 600).toBeLessThan(4);
  });

  it("does not keep the caller's samples", () => {
    const u = new UnsealedSamples();
    const s: StoredSample = {
      ts: 1_700_000_000_000,
      intervalMs: 1000,
      state: 1,
      vals: new Float64Array(METRIC_COUNT),
    };
    u.append(s);
    s.vals.fill(7);
    u.append({ ...s, ts: s.ts + 1000 });
    expect(u.samples().map((x) => x.vals[0])).toEqual([0, 7]);
  });
});
