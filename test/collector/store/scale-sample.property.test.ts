// scaleSample is compiled from METRICS (literal property names, for speed): it must give exactly
// what the plain definition gives for anything a decoded frame can hold: finite numbers
// (rounded after scaling), booleans (1/0), and everything else absent (NaN), never 0.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { METRIC_COUNT, scaleSample } from "../../../collector/store/sample.js";
import { METRICS } from "../../../shared/metrics.js";
import type { IGpuSample } from "../../../shared/proto.js";

/** The definition, written plainly (computed names): what the compiled form must match. */
function reference(gpu: Record<string, unknown>): Float64Array {
  const vals = new Float64Array(METRIC_COUNT);
  METRICS.forEach((m, i) => {
    const raw = gpu[m.key];
    if (typeof raw === "number" && Number.isFinite(raw)) vals[i] = Math.round(raw * m.scale);
    else if (typeof raw === "boolean") vals[i] = raw ? 1 : 0;
    else vals[i] = Number.NaN;
  });
  return vals;
}

const fieldValue = fc.oneof(
  fc.double({ noNaN: false }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ min: -1000, max: 1000, noNaN: true }).map((v) => Math.round(v * 100) / 100),
  fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 0, -0, 2 ** 53),
  fc.boolean(),
  fc.constantFrom(null, undefined, "12", {}),
);

describe("scaleSample", () => {
  it("matches the plain definition for every metric and value kind", () => {
    const sampleArb = fc.dictionary(fc.constantFrom(...METRICS.map((m) => m.key)), fieldValue);
    fc.assert(
      fc.property(sampleArb, (gpu) => {
        const got = scaleSample(gpu as IGpuSample);
        const want = reference(gpu);
        expect(got.length).toBe(METRIC_COUNT);
        for (let i = 0; i < METRIC_COUNT; i++)
          expect(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("keeps an absent metric absent and a zero a zero", () => {
    const power = METRICS.findIndex((m) => m.key === "power_draw_watts");
    const util = METRICS.findIndex((m) => m.key === "utilization_gpu_pct");
    const vals = scaleSample({ power_draw_watts: 0, utilization_gpu_pct: null } as unknown as IGpuSample);
    expect(vals[power]).toBe(0);
    expect(Number.isNaN(vals[util])).toBe(true);
  });
});
