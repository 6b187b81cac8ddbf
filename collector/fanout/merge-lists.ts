// Pure merges of list answers from several collectors: latest GPU values (the newest sample
// wins: behind a round-robin broker every collector holds part of each GPU's samples), flags
// (one episode per kind, host and GPU seen by several collectors becomes one), and the fleet
// summary, computed from the merged lists so it cannot count a GPU twice.
import type { Flag } from "../flags/types.js";
import type { LatestGpu } from "../store/store-query.js";

/** The part of a GPU entry the merge reads (LatestGpu, or the API's JSON form of it). */
export type MergeableGpu = Pick<LatestGpu, "uuid" | "host" | "index"> & {
  timestampMs?: number | null | undefined;
};

/** One entry per GPU UUID, the newest sample kept; sorted by host, then index. */
export function mergeGpuLists<G extends MergeableGpu>(lists: readonly (readonly G[])[]): G[] {
  const byUuid = new Map<string, G>();
  for (const list of lists) {
    for (const g of list) {
      const seen = byUuid.get(g.uuid);
      if (!seen || (g.timestampMs ?? -1) > (seen.timestampMs ?? -1)) byUuid.set(g.uuid, g);
    }
  }
  return [...byUuid.values()].sort((a, b) => a.host.localeCompare(b.host) || a.index - b.index);
}

/** The part of a flag the merge reads (Flag from collector/flags, or its JSON form). */
export type MergeableFlag = Pick<Flag, "kind" | "host" | "gpuUuid" | "startMs" | "endMs" | "updatedMs">;

/**
 * Episodes of the same kind, host and GPU that overlap in time (an open one reaches to now)
 * become one: earliest start, latest end (open if any is open), the most recently updated
 * copy's reason and values. Sorted by start, newest first.
 */
export function mergeFlagLists<F extends MergeableFlag>(lists: readonly (readonly F[])[]): F[] {
  const byKey = new Map<string, F[]>();
  for (const list of lists) {
    for (const f of list) {
      const key = `${f.kind}\u0000${f.host}\u0000${f.gpuUuid ?? ""}`;
      let group = byKey.get(key);
      if (!group) {
        group = [];
        byKey.set(key, group);
      }
      group.push(f);
    }
  }
  const out: F[] = [];
  const end = (f: F) => f.endMs ?? Number.POSITIVE_INFINITY;
  for (const group of byKey.values()) {
    group.sort((a, b) => a.startMs - b.startMs);
    let current: F | undefined;
    for (const f of group) {
      if (current && f.startMs <= end(current)) {
        const newer = f.updatedMs > current.updatedMs ? f : current;
        const endMs = current.endMs === null || f.endMs === null ? null : Math.max(current.endMs, f.endMs);
        current = { ...newer, startMs: current.startMs, endMs };
      } else {
        if (current) out.push(current);
        current = { ...f };
      }
    }
    if (current) out.push(current);
  }
  return out.sort((a, b) => b.startMs - a.startMs);
}

export interface FleetCounts {
  gpus: number;
  hosts: number;
  /** GPUs per state ("ok", "lost"…; "unknown" before a first sample). */
  byState: Record<string, number>;
  /** Open flags per kind. */
  openFlags: Record<string, number>;
}

/** Counts for the fleet summary from merged lists (the same function serves one collector). */
export function fleetCounts(
  gpus: readonly (MergeableGpu & { state?: string | undefined })[],
  openFlags: readonly MergeableFlag[],
): FleetCounts {
  const byState: Record<string, number> = {};
  for (const g of gpus) {
    const s = g.state ?? "unknown";
    byState[s] = (byState[s] ?? 0) + 1;
  }
  const flags: Record<string, number> = {};
  for (const f of openFlags) if (f.endMs === null) flags[f.kind] = (flags[f.kind] ?? 0) + 1;
  return { gpus: gpus.length, hosts: new Set(gpus.map((g) => g.host)).size, byState, openFlags: flags };
}
