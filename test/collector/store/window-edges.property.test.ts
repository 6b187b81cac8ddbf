// The lease windows' edge reads (window-edges.ts): every lookup answered from one packed
// statement per tier must add exactly what reading its row by itself adds: the newest edge row
// of its tier and GPU in (afterMs, atMs], times its sign, into its total. Lookups the packed form
// does not take (an afterMs that is not the parent's start, a point off the tier's steps, a
// parent at an era boundary, a GPU without rows) go one by one; repeated lookups are read once.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import type { Store } from "../../../collector/store/store.js";
import { EDGE_SUMS } from "../../../collector/store/usage-edges.js";
import { addUvarints } from "../../../collector/store/varint.js";
import { addPointSums, PointLookups } from "../../../collector/store/window-edges.js";
import { frame, gpu, type TempStore, tempStore } from "./synth.js";

const MIN = 60_000;
const HOUR = 3_600_000;
const ERA = 90 * 86_400_000;
/** Two hours before a 90-day era boundary, so the hour tier's parents change inside the data. */
const START = Math.ceil(Date.UTC(2026, 0, 1) / ERA) * ERA - 2 * HOUR;
const TOTALS = 4;

let tmp: TempStore;
afterEach(() => tmp?.cleanup());

function filled(): Store {
  tmp = tempStore();
  const store = tmp.open({ retention: ["1d:raw", "30d:1m", "1y:1h"] });
  const frames: ValidFrame[] = [];
  for (let ts = START, k = 1; ts < START + 4 * HOUR; ts += 20_000, k++) {
    const gpus = [0, 1, 2].map((i) =>
      gpu(i, { utilization_gpu_pct: (k * 7 + i * 31) % 101, power_draw_watts: 90 + ((k + i) % 400) }),
    );
    frames.push({ ...frame(k, ts, gpus), interval_ms: 20_000 });
  }
  for (let i = 0; i < frames.length; i += 60)
    store.writeFrames(frames.slice(i, i + 60), (frames[i] as ValidFrame).timestamp_ms + 1000);
  store.sealAll();
  return store;
}

/** What one lookup adds, read by itself in plain SQL. */
function oneByOne(store: Store, steps: readonly number[], l: PointLookups, sums: Float64Array): void {
  const read = store.db
    .prepare(
      `SELECT sums FROM usage_edges WHERE step_ms = ? AND gpu_id = ? AND edge_ms > ? AND edge_ms <= ?
        ORDER BY edge_ms DESC LIMIT 1`,
    )
    .pluck(true);
  for (let k = 0; k < l.length; k++) {
    if ((l.at[k] as number) <= (l.after[k] as number)) continue;
    const b = read.get(steps[l.tier[k] as number], l.gpu[k], l.after[k], l.at[k]) as Buffer | undefined;
    if (!b) continue;
    const row = new Array<number>(EDGE_SUMS).fill(0);
    addUvarints(b, 1, row);
    const base = (l.into[k] as number) * EDGE_SUMS;
    for (let i = 0; i < EDGE_SUMS; i++)
      sums[base + i] = (sums[base + i] as number) + (l.sign[k] as number) * (row[i] as number);
  }
}

describe("addPointSums", () => {
  it("adds what each lookup's row read alone adds, whatever the lookups' shapes", () => {
    const store = filled();
    const edges = store.raw.edges;
    const steps = store.tiers.rollups.map((t) => t.stepMs);
    const ids = (store.db.prepare("SELECT id FROM gpus ORDER BY id").pluck(true).all() as number[]).concat(
      9_999,
    );
    const lookupArb = fc
      .record({
        gpu: fc.constantFrom(...ids),
        t: fc.integer({ min: 0, max: steps.length - 1 }),
        at: fc.integer({ min: START - HOUR, max: START + 5 * HOUR }),
        onStep: fc.boolean(),
        parentStart: fc.nat(9),
        after: fc.integer({ min: START - 2 * HOUR, max: START + 5 * HOUR }),
        sign: fc.constantFrom(1 as const, -1 as const),
        into: fc.integer({ min: 0, max: TOTALS - 1 }),
      })
      .map((r) => {
        const step = steps[r.t] as number;
        const at = r.onStep ? Math.floor(r.at / step) * step : r.at;
        // Mostly the shape the lease windows ask (afterMs the parent's start), sometimes not.
        const after = r.parentStart > 1 ? edges.parentStart(r.t, at - 1) : r.after;
        return { ...r, at, after };
      });
    fc.assert(
      fc.property(fc.array(lookupArb, { minLength: 1, maxLength: 60 }), (list) => {
        const lookups = new PointLookups();
        for (const l of list) lookups.push(l.gpu, l.t, l.after, l.at, l.sign, l.into);
        // Some lookups twice: repeated ones are read once but each adds its row.
        for (const l of list.slice(0, 5)) lookups.push(l.gpu, l.t, l.after, l.at, l.sign, l.into);
        const packed = new Float64Array(TOTALS * EDGE_SUMS);
        addPointSums(store.db, edges, steps, lookups, packed);
        const alone = new Float64Array(TOTALS * EDGE_SUMS);
        oneByOne(store, steps, lookups, alone);
        expect(Array.from(packed)).toEqual(Array.from(alone));
      }),
      { numRuns: 300 },
    );
  });

  it("reads rows at all: the data has minute and hour edges on both sides of the era boundary", () => {
    const store = filled();
    const rows = store.db
      .prepare(
        "SELECT step_ms AS step, count(*) AS n FROM usage_edges WHERE edge_ms > ? GROUP BY step_ms ORDER BY step_ms",
      )
      .all(START + 2 * HOUR) as { step: number; n: number }[];
    expect(rows).toEqual([
      { step: MIN, n: 3 * 120 },
      { step: HOUR, n: 3 * 2 },
    ]);
    const lookups = new PointLookups();
    const gpuId = store.raw.gpus.get("GPU-test-0")?.id as number;
    // The hour tier across the boundary, [START, START + 4 h): the first era's prefix up to the
    // boundary minus its prefix up to START, plus the second era's prefix up to the end.
    const era = store.raw.edges.parentStart(1, START);
    lookups.push(gpuId, 1, era, START, -1, 0);
    lookups.push(gpuId, 1, era, START + 2 * HOUR, 1, 0);
    lookups.push(gpuId, 1, START + 2 * HOUR, START + 4 * HOUR, 1, 0);
    const sums = new Float64Array(EDGE_SUMS);
    addPointSums(store.db, store.raw.edges, [MIN, HOUR], lookups, sums);
    // 4 hours of one GPU at one sample every 20 s.
    expect(sums[0]).toBe(4 * 180);
  });
});
