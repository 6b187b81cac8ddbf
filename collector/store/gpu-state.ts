// What the store keeps in memory per GPU: identity, the open raw window, late samples, the
// rollup deltas not yet merged into the rollups table, and the latest sample. The unsealed
// samples are also on disk in raw_recent, so a crash loses nothing committed.
import type { StoredSample } from "./sample.js";

export interface GpuMem {
  id: number;
  uuid: string;
  hostId: number;
  index: number;
  model: string;
  /** Per-GPU phase of the raw windows, so seals spread over time instead of all at once. */
  phaseMs: number;
  /** End (exclusive) of the open window; 0 when no window is open. */
  windowEnd: number;
  /** Samples at or after this go to the open window; earlier ones are late. */
  openFloor: number;
  /** The open window's samples, sorted by ts. */
  open: StoredSample[];
  /** Samples older than the open window, sealed into their own (overlapping) blocks. */
  late: StoredSample[];
  lateTs: Set<number>;
  /** raw_recent row id → how many of this GPU's unsealed samples it holds. */
  rows: Map<number, number>;
  /** Per rollup tier: bucket start → accumulated delta not yet in the rollups table. */
  deltas: Map<number, Float64Array>[];
  latest: StoredSample | undefined;
  /** Highest end_ms among this GPU's sealed blocks, loaded once (-1: none). */
  sealedEnd: number;
}

export function newGpuMem(
  row: { id: number; uuid: string; host_id: number; idx: number; model: string },
  tiers: number,
  windowMs: number,
): GpuMem {
  return {
    id: row.id,
    uuid: row.uuid,
    hostId: row.host_id,
    index: row.idx,
    model: row.model,
    phaseMs: ((row.id * 7919) % Math.max(1, Math.floor(windowMs / 1000))) * 1000,
    windowEnd: 0,
    openFloor: 0,
    open: [],
    late: [],
    lateTs: new Set(),
    rows: new Map(),
    deltas: Array.from({ length: tiers }, () => new Map()),
    latest: undefined,
    sealedEnd: -1,
  };
}

/** Start of the (phased) window holding ts. */
export function windowStart(ts: number, phaseMs: number, windowMs: number): number {
  const rel = ts - phaseMs;
  return rel - (((rel % windowMs) + windowMs) % windowMs) + phaseMs;
}

/** Inserts s into the sorted list; false when a sample with that ts is already there. */
export function insertSorted(list: StoredSample[], s: StoredSample): boolean {
  const last = list[list.length - 1];
  if (!last || last.ts < s.ts) {
    list.push(s);
    return true;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as StoredSample).ts < s.ts) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo]?.ts === s.ts) return false;
  list.splice(lo, 0, s);
  return true;
}

export function hasUnsealed(g: GpuMem): boolean {
  return g.open.length > 0 || g.late.length > 0;
}
