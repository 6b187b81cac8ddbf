// The metric range check is compiled from METRICS (literal property names, for speed): it must
// refuse exactly what the plain loop over METRICS refuses, naming the same first metric, for
// values in and out of range, NaN, infinities, booleans, absent ones and non-numbers.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validateFrame } from "../../../collector/ingest/validate.js";
import { METRICS } from "../../../shared/metrics.js";
import type { IGpuSample } from "../../../shared/proto.js";
import { gpuSample, makeFrame } from "./frames.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const H = "gpu-node-01";

/** The plain definition: the first present, non-boolean value that is not a number in range. */
function firstBad(gpu: Record<string, unknown>): string | undefined {
  for (const m of METRICS) {
    const v = gpu[m.key];
    if (v === null || v === undefined || typeof v === "boolean") continue;
    if (!(typeof v === "number" && v >= m.min && v <= m.max)) return m.key;
  }
  return undefined;
}

const valueArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant("in-range") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -1,
      1e300,
      null,
      undefined,
      true,
      "5",
    ),
  },
);

describe("metric value ranges", () => {
  it("refuse what the plain loop refuses, naming the same metric", () => {
    const gpuArb = fc
      .array(valueArb, { minLength: METRICS.length, maxLength: METRICS.length })
      .map((picks) => {
        const gpu: Record<string, unknown> = { ...gpuSample(0) };
        picks.forEach((pick, i) => {
          const m = METRICS[i];
          if (m && pick !== "in-range") gpu[m.key] = pick;
        });
        return gpu;
      });
    fc.assert(
      fc.property(gpuArb, (gpu) => {
        const frame = makeFrame(H, 1, {
          timestampMs: NOW,
          gpus: 0,
          overrides: { gpus: [gpu as IGpuSample] },
        });
        const result = validateFrame(frame, { topicHost: H, username: undefined, nowMs: NOW });
        const bad = firstBad(gpu);
        if (bad === undefined) {
          expect(result.ok).toBe(true);
        } else {
          expect(result.ok).toBe(false);
          if (!result.ok) {
            expect(result.rejection.reason).toBe("value_out_of_range");
            expect(result.rejection.detail).toContain(`gpu 0 ${bad} `);
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
