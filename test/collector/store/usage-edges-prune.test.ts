// Retention of the cumulative usage edges without a time index (usage-edges-prune.ts): a sweep
// over the GPUs deletes each one's rows of the parents past the retention, in batches of at
// most pruneBatch rows, resuming where it stopped; what stays still gives exactly what the
// bucket scan gives.
import { afterEach, describe, expect, it } from "vitest";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import type { Store } from "../../../collector/store/store.js";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

const MIN = 60_000;
const HOUR = 3_600_000;
const GPUS = 5;

let tmp: TempStore;
afterEach(() => tmp?.cleanup());

function write(store: Store, fromMs: number, toMs: number, seq0: number): void {
  const frames: ValidFrame[] = [];
  for (let ts = fromMs, k = seq0; ts < toMs; ts += 10_000, k++) {
    const gpus = Array.from({ length: GPUS }, (_, i) =>
      gpu(i, { utilization_gpu_pct: (k + i * 17) % 100, power_draw_watts: 100 + i }),
    );
    frames.push({ ...frame(k, ts, gpus), interval_ms: 10_000 });
  }
  for (let i = 0; i < frames.length; i += 30)
    store.writeFrames(frames.slice(i, i + 30), (frames[i] as ValidFrame).timestamp_ms + 1000);
  store.sealAll();
}

/** Minute-tier edge rows per GPU id: [count, oldest edge]. */
function minuteRows(store: Store): Map<number, [number, number]> {
  const rows = store.db
    .prepare(
      "SELECT gpu_id AS id, count(*) AS n, min(edge_ms) AS oldest FROM usage_edges WHERE step_ms = 60000 GROUP BY gpu_id",
    )
    .all() as { id: number; n: number; oldest: number }[];
  return new Map(rows.map((r) => [r.id, [r.n, r.oldest]]));
}

function pruneAll(store: Store, nowMs: number): number {
  let steps = 0;
  for (let more = true; more; steps++) more = store.pruneStep(nowMs).more;
  return steps;
}

describe("usage edge retention", () => {
  it("drops every GPU's rows of the hours past the 1-minute retention, a few rows per batch", () => {
    tmp = tempStore();
    // A fake clock 1 ms per reading: a step runs a handful of 2-row batches, then says `more`.
    let fake = 0;
    const store = tmp.open({
      retention: ["10m:raw", "30m:1m", "1d:1h"],
      rawWindowMs: 60_000,
      pruneBatch: 2,
      clock: () => ++fake,
    });
    write(store, T0, T0 + 3 * HOUR, 1);
    const before = minuteRows(store);
    expect([...before.values()].map(([n]) => n)).toEqual(Array(GPUS).fill(180));

    // 30 min + one step before T0 + 3 h is inside the hour from T0 + 2 h: hours up to it go.
    const steps = pruneAll(store, T0 + 3 * HOUR);
    expect(steps).toBeGreaterThan(GPUS);
    const after = minuteRows(store);
    expect([...after.values()]).toEqual(Array(GPUS).fill([60, T0 + 2 * HOUR + MIN]));

    // Inside the retention what stays gives the bucket scan's integers (minute buckets go one at
    // a time, their edges an hour at a time); the hour tier kept everything.
    for (const [a, b] of [
      [T0 + 2 * HOUR + 31 * MIN, T0 + 3 * HOUR],
      [T0 + 13 * MIN, T0 + 2 * HOUR],
    ] as const) {
      const fast = store.gpuTotals({ fromMs: a, toMs: b });
      const scan = store.gpuTotals({ fromMs: a, toMs: b }, undefined, { maxTemperature: true });
      expect(fast.size).toBe(GPUS);
      for (const [id, t] of scan) expect(fast.get(id)).toEqual({ ...t, maxTemperatureC: null });
    }

    // Nothing more to do until the next hour has passed; then the next sweep takes it.
    pruneAll(store, T0 + 3 * HOUR + 20 * MIN);
    expect(minuteRows(store)).toEqual(after);
    write(store, T0 + 3 * HOUR, T0 + 4 * HOUR, 10_000);
    pruneAll(store, T0 + 4 * HOUR);
    expect([...minuteRows(store).values()]).toEqual(Array(GPUS).fill([60, T0 + 3 * HOUR + MIN]));
  });
});
