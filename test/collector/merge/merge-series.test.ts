// One GPU's series from several collectors (merge/merge-series.ts): the buckets each holds side by
// side, a bucket two hold (the bucket of a move, or round robin) as least min, greatest max and the
// average of their samples (weighted by the counts the answers carry; the mean of the averages for
// an answer without counts), and the GPU placed where its newest value says it is.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { SeriesView } from "../../../collector/contract/api-contract.js";
import { mergeSeries } from "../../../collector/merge/merge-series.js";

const STEP = 60_000;
const T = [0, STEP, 2 * STEP, 3 * STEP];
type Cell = [number, number, number] | null;

/** A series over T of utilization, cells [min, max, avg] or null (no sample there). */
function series(
  host: string,
  index: number,
  cells: readonly Cell[],
  over: Partial<SeriesView> = {},
): SeriesView {
  const pick = (j: number) => cells.map((c) => (c === null ? null : (c[j] ?? null)));
  return {
    uuid: "GPU-1",
    host,
    index,
    tier: "1m",
    stepMs: STEP,
    fromMs: 0,
    toMs: 4 * STEP,
    t: T,
    metrics: { utilization_gpu_pct: { min: pick(0), max: pick(1), avg: pick(2) } },
    slowdownTemperatureC: null,
    ...over,
  };
}

describe("mergeSeries", () => {
  test("a GPU that moved: each collector's buckets, placed where the newest value is", () => {
    const before = series("host-a", 0, [[10, 20, 15], [30, 40, 35], null, null], {
      slowdownTemperatureC: 87,
    });
    const after = series("host-b", 3, [null, null, [50, 60, 55], [70, 80, 75]]);
    for (const answers of [
      [before, after],
      [after, before],
    ]) {
      const merged = mergeSeries(answers);
      expect(merged.metrics.utilization_gpu_pct).toEqual({
        min: [10, 30, 50, 70],
        max: [20, 40, 60, 80],
        avg: [15, 35, 55, 75],
      });
      expect([merged.host, merged.index, merged.t, merged.tier]).toEqual(["host-b", 3, T, "1m"]);
      expect(merged.slowdownTemperatureC).toBe(87);
    }
  });

  test("a bucket two collectors hold: least min, greatest max, mean of the averages", () => {
    const a = series("host-a", 0, [[10, 20, 15], [10, 30, 20], null, null]);
    const b = series("host-b", 0, [null, [5, 25, 10], [1, 2, 1.5], null]);
    const merged = mergeSeries([a, b]);
    expect(merged.metrics.utilization_gpu_pct).toEqual({
      min: [10, 5, 1, null],
      max: [20, 30, 2, null],
      avg: [15, 15, 1.5, null],
    });
  });

  test("an answer with no value (a collector that knows the GPU from its inventory) changes nothing", () => {
    const held = series("host-b", 1, [[1, 3, 2], null, [4, 6, 5], null], { tier: "raw" });
    const empty = series("host-a", 0, [null, null, null, null], { tier: "1m" });
    const merged = mergeSeries([empty, held]);
    expect(merged.metrics).toEqual(held.metrics);
    expect([merged.host, merged.index, merged.tier]).toEqual(["host-b", 1, "raw"]);
    // Nobody has a value: the first answer's place and tier, every bucket null.
    const none = mergeSeries([empty, { ...empty, host: "host-c" }]);
    expect([none.host, none.tier]).toEqual(["host-a", "1m"]);
    expect(none.metrics.utilization_gpu_pct?.avg).toEqual([null, null, null, null]);
  });

  test("metrics and buckets only one answer has are kept; one answer is returned as it is", () => {
    const a = series("host-a", 0, [[1, 1, 1], null, null, null]);
    const b: SeriesView = {
      ...series("host-a", 0, [null, null, null, null]),
      t: [...T, 4 * STEP],
      toMs: 5 * STEP,
      metrics: {
        power_draw_watts: {
          min: [null, null, null, null, 300],
          max: [null, null, null, null, 310],
          avg: [null, null, null, null, 305],
        },
      },
    };
    const merged = mergeSeries([a, b]);
    expect(merged.t).toEqual([...T, 4 * STEP]);
    expect(merged.toMs).toBe(5 * STEP);
    expect(merged.metrics.utilization_gpu_pct?.avg).toEqual([1, null, null, null, null]);
    expect(merged.metrics.power_draw_watts?.max).toEqual([null, null, null, null, 310]);
    expect(mergeSeries([a])).toBe(a);
    expect(() => mergeSeries([])).toThrow();
  });

  test("with sample counts a shared bucket is the average of all its samples, as one collector holding them", () => {
    const withCounts = (s: SeriesView, count: number[]): SeriesView => {
      const m = s.metrics.utilization_gpu_pct;
      if (!m) throw new Error("no metric");
      return { ...s, metrics: { utilization_gpu_pct: { ...m, count } } };
    };
    // Bucket 1: host-a holds 3 samples averaging 20, host-b 1 sample of 10: 17.5, not 15.
    const a = withCounts(series("host-a", 0, [[10, 20, 15], [10, 30, 20], null, null]), [2, 3, 0, 0]);
    const b = withCounts(series("host-b", 0, [null, [10, 10, 10], [1, 2, 1.5], null]), [0, 1, 2, 0]);
    const merged = mergeSeries([a, b]);
    expect(merged.metrics.utilization_gpu_pct).toEqual({
      min: [10, 10, 1, null],
      max: [20, 30, 2, null],
      avg: [15, 17.5, 1.5, null],
      count: [2, 4, 2, 0],
    });
    // An answer without counts (a collector from before them): the mean of the averages, no counts.
    const old = series("host-b", 0, [null, [10, 10, 10], [1, 2, 1.5], null]);
    const mixed = mergeSeries([a, old]).metrics.utilization_gpu_pct;
    expect(mixed?.avg).toEqual([15, 15, 1.5, null]);
    expect(mixed?.count).toBeUndefined();
  });

  test("samples split between collectors any way: the merged average is the whole's", () => {
    const sample = fc.record({
      bucket: fc.integer({ min: 0, max: 3 }),
      value: fc.integer({ min: 0, max: 100 }),
      on: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 40 }), (samples) => {
        const view = (host: string, kept: typeof samples): SeriesView => {
          const cells = T.map((_, k) => kept.filter((s) => s.bucket === k).map((s) => s.value));
          const stat = (f: (v: number[]) => number) => cells.map((v) => (v.length > 0 ? f(v) : null));
          return {
            ...series(host, 0, [null, null, null, null]),
            metrics: {
              utilization_gpu_pct: {
                min: stat((v) => Math.min(...v)),
                max: stat((v) => Math.max(...v)),
                avg: stat((v) => v.reduce((x, y) => x + y, 0) / v.length),
                count: cells.map((v) => v.length),
              },
            },
          };
        };
        const whole = view("host-a", samples).metrics.utilization_gpu_pct;
        const merged = mergeSeries([
          view(
            "host-a",
            samples.filter((s) => s.on),
          ),
          view(
            "host-b",
            samples.filter((s) => !s.on),
          ),
        ]).metrics.utilization_gpu_pct;
        expect(merged?.min).toEqual(whole?.min);
        expect(merged?.max).toEqual(whole?.max);
        expect(merged?.count).toEqual(whole?.count);
        merged?.avg.forEach((v, k) => {
          const w = whole?.avg[k] ?? null;
          if (w === null) expect(v).toBeNull();
          else expect(v).toBeCloseTo(w, 9);
        });
      }),
    );
  });
});
