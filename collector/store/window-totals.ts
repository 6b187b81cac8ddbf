// Usage sums for many (GPU, time window) pairs at once: the lease reports' read (issue 15). Each
// window costs a few seeks in the cumulative edges (usage-edges.ts), whatever its length, and
// all windows' lookups go to SQLite in one statement per tier (window-edges.ts), so 20,000 leases cost about as much as 20,000 GPUs.
//
// Windows are cut at whole minutes of the finest tier: a minute belongs to the window that holds
// its start, so back-to-back windows (a GPU re-leased at 12:00:30) share no minute and lose none.
import { addUsage, type UsageSums } from "../usage/usage-sums.js";
import { BUSY, ENERGY, ENERGY_IDLE, HELD, IDLE, SAMPLES, summaryColumns, UNKNOWN } from "./rollup-acc.js";
import type { Store } from "./store.js";
import { rangePieces } from "./store-aggregate.js";
import { EDGE_SUMS, edgeUsage } from "./usage-edges.js";
import { addPointSums, PointLookups } from "./window-edges.js";

export interface GpuWindow {
  gpuId: number;
  fromMs: number;
  toMs: number;
}

/** [fromMs, toMs) moved to the finest step: each edge up to the next whole step (or kept). */
export function windowBuckets(
  stepMs: number,
  fromMs: number,
  toMs: number,
): { fromMs: number; toMs: number } {
  const up = (t: number) => Math.ceil(t / stepMs) * stepMs;
  return { fromMs: up(fromMs), toMs: Math.max(up(fromMs), up(toMs)) };
}

/** Per window (same order): the usage of its GPU in its whole minutes; maxTemperatureC stays null. */
export function windowTotals(store: Store, windows: readonly GpuWindow[]): UsageSums[] {
  const steps = store.tiers.rollups.map((t) => t.stepMs);
  const fine = steps[0] ?? 60_000;
  const edges = store.raw.edges;
  const lookups = new PointLookups();
  const piecesOf: { tier: number; from: number; to: number }[][] = [];
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i] as GpuWindow;
    const { fromMs, toMs } = windowBuckets(fine, w.fromMs, w.toMs);
    const pieces = fromMs < toMs ? rangePieces(steps, fromMs, toMs) : [];
    piecesOf.push(pieces);
    for (const { tier, from, to } of pieces)
      edges.rangeLookups(tier, from, to, (afterMs, atMs, sign) =>
        lookups.push(w.gpuId, tier, afterMs, atMs, sign, i),
      );
  }
  const sums = new Float64Array(windows.length * EDGE_SUMS);
  addPointSums(store.db, edges, steps, lookups, sums);
  const out = windows.map((_, i) => edgeUsage(sums, i * EDGE_SUMS));
  // Unsealed deltas (not in the rollups yet), the same way gpuTotals adds them.
  windows.forEach((w, i) => {
    const g = store.raw.gpusById.get(w.gpuId);
    if (!g) return;
    for (const piece of piecesOf[i] ?? []) {
      const deltas = g.deltas[piece.tier];
      if (!deltas || deltas.size === 0) continue;
      for (const [, acc] of deltas.within(piece.from, piece.to)) {
        const summary = summaryColumns(acc);
        addUsage(out[i] as UsageSums, {
          samples: acc[SAMPLES] as number,
          busyMs: acc[BUSY] as number,
          idleMs: acc[IDLE] as number,
          idleHeldMs: acc[HELD] as number,
          unknownMs: acc[UNKNOWN] as number,
          energyCwms: acc[ENERGY] as number,
          energyIdleCwms: acc[ENERGY_IDLE] as number,
          maxTemperatureC: null,
          utilizationSum: summary.utilSum,
          utilizationCount: summary.utilCount,
        });
      }
    }
  });
  for (const u of out) u.maxTemperatureC = null;
  return out;
}
