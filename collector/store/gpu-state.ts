// What the store keeps in memory per GPU: identity, its unsealed samples (compact bodies,
// unsealed.ts, not objects: 10,000 GPUs x a 10-minute window at 1 s is 6 million samples), the
// rollup deltas not yet merged into the rollups table, and the latest sample. The unsealed
// samples are also on disk in raw_recent, so a crash loses nothing committed.
import { DerivedDeltas, RollupDeltas, type TierDeltas } from "./rollup-deltas.js";
import type { StoredSample } from "./sample.js";
import { UnsealedSamples } from "./unsealed.js";

export interface GpuMem {
  id: number;
  uuid: string;
  hostId: number;
  index: number;
  model: string;
  /** When the collector first saw it (gpus.first_seen_ms; written once). */
  firstSeenMs: number;
  /** Per-GPU phase of the raw windows, so seals spread over time instead of all at once. */
  phaseMs: number;
  /** End (exclusive) of the open window; 0 when none is open. A newer sample seals the GPU. */
  windowEnd: number;
  /** Unsealed samples (each against the one before, arrival order). */
  unsealed: UnsealedSamples;
  /** Highest unsealed timestamp: a newer sample cannot be a duplicate of an unsealed one. */
  maxTs: number;
  /** raw_recent row id of the oldest unsealed sample (Infinity when none). */
  firstRow: number;
  /** The finest rollup tier's deltas: the only ones written (rollup-deltas.ts). */
  rollup: RollupDeltas;
  /** Per rollup tier: bucket start → accumulated delta not yet in the rollups table (read side). */
  deltas: TierDeltas[];
  /** The newest sample, a copy of its own that later samples overwrite (setLatest). */
  latest: StoredSample | undefined;
  /** Highest end_ms among this GPU's sealed blocks; -1 until loaded, -Infinity when none. */
  sealedEnd: number;
}

export function newGpuMem(
  row: { id: number; uuid: string; host_id: number; idx: number; model: string; first_seen_ms: number },
  /** The rollup tiers' steps, finest first. */
  steps: readonly number[],
  windowMs: number,
): GpuMem {
  const rollup = new RollupDeltas();
  return {
    id: row.id,
    uuid: row.uuid,
    hostId: row.host_id,
    index: row.idx,
    model: row.model,
    firstSeenMs: row.first_seen_ms,
    phaseMs: ((row.id * 7919) % Math.max(1, Math.floor(windowMs / 1000))) * 1000,
    windowEnd: 0,
    unsealed: new UnsealedSamples(),
    maxTs: Number.NEGATIVE_INFINITY,
    firstRow: Number.POSITIVE_INFINITY,
    rollup,
    deltas: steps.map((step, t) => (t === 0 ? rollup : new DerivedDeltas(rollup, step))),
    latest: undefined,
    sealedEnd: -1,
  };
}

/** Start of the (phased) window holding ts. */
export function windowStart(ts: number, phaseMs: number, windowMs: number): number {
  const rel = ts - phaseMs;
  return rel - (((rel % windowMs) + windowMs) % windowMs) + phaseMs;
}

/**
 * Makes s the GPU's latest sample by copying it: the caller's sample (and its values array) is
 * not kept, so it dies young instead of living a second in V8's old space for every GPU.
 */
export function setLatest(g: GpuMem, s: StoredSample): void {
  const l = g.latest;
  if (!l) {
    g.latest = { ts: s.ts, intervalMs: s.intervalMs, state: s.state, vals: Float64Array.from(s.vals) };
    return;
  }
  l.ts = s.ts;
  l.intervalMs = s.intervalMs;
  l.state = s.state;
  l.vals.set(s.vals);
}

export function hasUnsealed(g: GpuMem): boolean {
  return g.unsealed.count > 0;
}
