// Where each GPU was over time: its host changes from the gpu_inventory history, and its places
// (one per host between moves) over a range. The fleet reports cut their stretches at these
// changes (fleet-usage.ts), and a lease line bills each host for its own time (lease-lines.ts).
import type { HostMove } from "../store/fleet-reads.js";
import type { Store } from "../store/store.js";
import type { GpuPlace } from "./down-time.js";

export interface HostChange {
  /** Aligned down to the finest step, so stretches tile the range. */
  atMs: number;
  hostId: number;
}

/** GPUs whose inventory history puts them on more than one host: their host from each change on. */
export function hostChanges(store: Store, step: number): Map<number, HostChange[]> {
  return byGpu(store.hostMoves(), step);
}

/** Inventory rows (by GPU, oldest first) as each GPU's host changes, for the GPUs on more than one host. */
function byGpu(rows: readonly HostMove[], step: number): Map<number, HostChange[]> {
  const rowsOf = new Map<number, HostMove[]>();
  for (const r of rows) {
    const list = rowsOf.get(r.gpuId);
    if (list) list.push(r);
    else rowsOf.set(r.gpuId, [r]);
  }
  const out = new Map<number, HostChange[]>();
  for (const [id, list] of rowsOf) {
    const changes = changesOf(list, step);
    if (changes.length > 1) out.set(id, changes);
  }
  return out;
}

/** One GPU's inventory rows (oldest first) as host changes; consecutive rows on one host are one. */
function changesOf(rows: readonly HostMove[], step: number): HostChange[] {
  const list: HostChange[] = [];
  for (const r of rows) {
    if (list[list.length - 1]?.hostId === r.hostId) continue;
    // The first row's host holds before it too (frames may precede the first inventory).
    const at = list.length === 0 ? Number.NEGATIVE_INFINITY : Math.floor(r.validFromMs / step) * step;
    list.push({ atMs: at, hostId: r.hostId });
  }
  return list;
}

/** Host of the GPU at atMs per its changes; undefined when it never moved. */
export function hostAt(changes: readonly HostChange[], atMs: number): number | undefined {
  let host: number | undefined;
  for (const c of changes) if (c.atMs <= atMs) host = c.hostId;
  return host;
}

/** One GPU's host changes, read alone (one index seek): for a few GPUs, not the fleet's layout. */
export function gpuHostChanges(store: Store, gpuId: number): HostChange[] {
  return changesOf(store.hostHistories([gpuId]), store.tiers.rollups[0]?.stepMs ?? 60_000);
}

/** A GPU's host name at a time; undefined for a GPU this collector never saw. */
export type HostAtTime = (uuid: string, atMs: number) => string | undefined;

/** Where GPUs were over time, by host name. */
export interface GpuWhereabouts {
  hostAt: HostAtTime;
  /** The GPU's places over [fromMs, toMs), one per host between its moves; none for a GPU never seen. */
  places(uuid: string, fromMs: number, toMs: number): GpuPlace[];
}

/** GPUs that stay on their host (`hostOf`, their host now) throughout: where no history is kept. */
export function whereaboutsNow(hostOf: (uuid: string) => string | undefined): GpuWhereabouts {
  return {
    hostAt: (uuid) => hostOf(uuid),
    places(uuid, fromMs, toMs) {
      const host = hostOf(uuid);
      return host === undefined ? [] : [{ host, fromMs, toMs }];
    },
  };
}

/**
 * Where these GPUs were, by host name (issue 15: a past lease names the host of its time, not
 * the GPU's host now). Their host changes read once (hostChangesOf); a GPU that never moved is
 * on its host throughout.
 */
export function hostsOverTime(store: Store, uuids: readonly string[]): GpuWhereabouts {
  const gpus = new Map<string, { id: number; hostId: number }>();
  for (const uuid of uuids) {
    const gpu = store.gpuByUuid(uuid);
    if (gpu) gpus.set(uuid, gpu);
  }
  const moved = hostChangesOf(store, new Set([...gpus.values()].map((g) => g.id)));
  return {
    hostAt(uuid, atMs) {
      const gpu = gpus.get(uuid);
      if (!gpu) return undefined;
      return store.host(hostAt(moved.get(gpu.id) ?? [], atMs) ?? gpu.hostId)?.name;
    },
    places(uuid, fromMs, toMs) {
      const gpu = gpus.get(uuid);
      if (!gpu) return [];
      const changes = moved.get(gpu.id);
      if (changes) return gpuPlaces(store, gpu.id, fromMs, toMs, changes);
      return [{ host: store.host(gpu.hostId)?.name ?? "", fromMs, toMs }];
    },
  };
}

/** GPUs past which one read of the fleet's moves costs less than listing their histories (bench/statement.ts). */
const LISTED_AT_MOST = 1000;

/**
 * The host changes of these GPUs, for those that ever were on more than one host (the others are
 * absent: they never moved). Their histories in one read for a few (one tenant's statement), the
 * fleet's moves for many (a lease report over every tenant).
 */
export function hostChangesOf(store: Store, gpuIds: ReadonlySet<number>): Map<number, HostChange[]> {
  const step = store.tiers.rollups[0]?.stepMs ?? 60_000;
  if (gpuIds.size > LISTED_AT_MOST) return hostChanges(store, step);
  return byGpu(store.hostHistories([...gpuIds]), step);
}

/** A GpuPlace with its host's id (for its site). */
export interface HostPlace extends GpuPlace {
  hostId: number;
}

/**
 * Where a GPU was over [fromMs, toMs): one place per host between its moves (the same stretches
 * fleetUsage reports). `changes` from the fleet layout when read, else read for this GPU alone.
 */
export function gpuPlaces(
  store: Store,
  gpuId: number,
  fromMs: number,
  toMs: number,
  changes: readonly HostChange[] = gpuHostChanges(store, gpuId),
): HostPlace[] {
  const name = (hostId: number) => store.host(hostId)?.name ?? "";
  let hostId = hostAt(changes, fromMs) ?? store.gpu(gpuId)?.hostId ?? -1;
  let at = fromMs;
  const out: HostPlace[] = [];
  for (const c of changes) {
    if (c.atMs <= fromMs || c.atMs >= toMs || c.hostId === hostId) continue;
    out.push({ host: name(hostId), hostId, fromMs: at, toMs: c.atMs });
    [hostId, at] = [c.hostId, c.atMs];
  }
  out.push({ host: name(hostId), hostId, fromMs: at, toMs });
  return out;
}
