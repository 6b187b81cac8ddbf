// One line per lease over a range (issue 15): what the leased GPU did while the lease was in
// force, in integers (ms, centiwatt·ms, micro-units of money), so a statement's totals are the
// exact sum of its lines and the fan-out can add collectors' parts. A GPU's past belongs to the
// lease in force at the time, never to its current labels: each line reads its own window.
//
// Attribution is by whole minutes (the finest rollup step): a minute belongs to the lease in
// force at its start (store/window-totals.ts). Leased time and cost use the lease's exact times,
// and so does down time: the GPU's down stretches inside the lease's window (down-time.ts, the
// same as the downtime report's and the tenants view's), on the hosts it was on then. A line
// names the host the GPU was on at its window's end; a GPU that moved during the window also
// gives the line one place per host stretch (the same stretches as the fleet reports cut), with
// that stretch's sums, so a report by host or site bills each host for its own time.
import { MIG_NO_UTILIZATION } from "../../shared/gpu-id.js";
import type { Flag, FlagEpisode, FlagStart } from "../flags/types.js";
import type { Lease, LeaseTerms } from "../leases/model.js";
import type { Store } from "../store/store.js";
import { type DownEpisode, DownFlags, stretchMs, stretchMsIn, unionEpisodes } from "./down-time.js";
import { gpuPlaces, type HostChange, type HostPlace, hostChangesOf } from "./host-changes.js";

const HOUR_MS = 3_600_000;
/**
 * Down stretches a part carries per lease line at most: past it the list is left out (null) and
 * the fan-out merge falls back to the largest part's down time (collector/merge/merge-leases.ts).
 * A month with a stretch every 45 minutes fits.
 */
export const MAX_DOWN_EPISODES = 1000;
/**
 * Flag episodes a part carries per lease line at most, when asked for them (the fan-out's parts):
 * past it the list is left out (null) and the merge adds the parts' counts.
 */
export const MAX_FLAG_EPISODES = 1000;

/** A GPU episode of a lease line's GPU as its part carries it: the line names the GPU. */
export type LeaseFlagEpisode = Omit<FlagEpisode, "gpuUuid">;

/** What a GPU did in a window: the integers collectors add up. */
export interface LeaseUse {
  /** Time the collector knew the GPU in the window's minutes (busy+idle+idle-held+unknown reported). */
  coveredMs: number;
  busyMs: number;
  idleMs: number;
  idleHeldMs: number;
  unknownReportedMs: number;
  energyCwms: number;
  energyIdleCwms: number;
  /** Sum and count of the utilization readings in the window's minutes (mean utilization = sum / count). */
  utilSum: number;
  utilCount: number;
  /** GPU flags that opened in the window. */
  flags: number;
}

/** A stretch of a lease line on one host: [fromMs, toMs) inside the line's window. */
export interface LeasePlace extends LeaseUse {
  host: string;
  site: string;
  fromMs: number;
  toMs: number;
  /** Down time in the stretch: the line's down stretches clipped to it. */
  downMs: number;
}

/** The integer part of a lease line: what collectors add up. */
export interface LeaseLinePart extends LeaseUse {
  lease: string;
  tenant: string;
  device: string;
  gpu: string;
  /** Where the GPU was at the end of the window (its host then; "" when this collector never saw it). */
  host: string;
  site: string;
  model: string;
  contract: string | null;
  currency: string | null;
  /** Price per GPU-hour in micro-units of the currency; null when the lease has none. */
  priceMicros: number | null;
  /** Committed availability in thousandths of a percent; null when none. */
  availabilityMilli: number | null;
  labels: Record<string, string>;
  /** The lease's time inside the range and before now: [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  leasedMs: number;
  /** Time in the window the GPU was down: lost, erroring, offline or stale (down-time.ts). */
  downMs: number;
  /** The down stretches behind downMs, with their kinds; null past MAX_DOWN_EPISODES. */
  down: DownEpisode[] | null;
  /** The GPU's stretches per host when it moved during the window (they tile it); else empty. */
  places: LeasePlace[];
  /**
   * The GPU's episodes (any kind) that overlap the window, when the part is for the fan-out merge
   * (LeaseSourceData.flagEpisodes): the merge joins the copies several collectors hold of one
   * episode (round robin gives every member its own) and counts `flags` from the joined ones.
   * Absent from a part not asked for them (and from a collector before 2026-12-07); null past
   * MAX_FLAG_EPISODES.
   */
  flagEpisodes?: LeaseFlagEpisode[] | null;
  /**
   * False for a lease of a MIG device: its busy, idle, idle-held, energy and utilization are 0, not
   * its GPU's (`usageAbsent` says why); its leased time, cost and down time (its GPU's) are its own.
   */
  usageMeasured: boolean;
  usageAbsent: string | null;
}

export interface LeaseSourceData {
  store: Store;
  leases: readonly LeaseTerms[];
  /** The flags that can hold the leased GPUs down (down-time.ts); other kinds are not read. */
  flags: readonly Flag[];
  /** When the leased GPUs' episodes of any kind began in the range: each line counts its own. */
  flagStarts: readonly FlagStart[];
  /** The leased GPUs' episodes overlapping the range (FlagRecords.flagEpisodes): each line then carries its own. */
  flagEpisodes?: readonly FlagEpisode[];
  fromMs: number;
  toMs: number;
  nowMs: number;
  /** The leased GPUs' host changes (hostChangesOf), when the caller has read them. */
  moved?: ReadonlyMap<number, readonly HostChange[]>;
}

/** The window a lease holds of [fromMs, toMs), up to now; empty when it holds none. */
export function leaseWindow(
  lease: Pick<Lease, "startMs" | "endMs">,
  fromMs: number,
  toMs: number,
  nowMs: number,
): { fromMs: number; toMs: number } {
  const a = Math.max(lease.startMs, fromMs);
  const b = Math.min(lease.endMs ?? Number.POSITIVE_INFINITY, toMs, nowMs);
  return { fromMs: a, toMs: Math.max(a, b) };
}

/** A down stretch list as a part carries it: null when too long to send (MAX_DOWN_EPISODES). */
export function boundEpisodes(list: DownEpisode[]): DownEpisode[] | null {
  return list.length <= MAX_DOWN_EPISODES ? list : null;
}

const NO_USE: LeaseUse = {
  coveredMs: 0,
  busyMs: 0,
  idleMs: 0,
  idleHeldMs: 0,
  unknownReportedMs: 0,
  energyCwms: 0,
  energyIdleCwms: 0,
  utilSum: 0,
  utilCount: 0,
  flags: 0,
};

/** This collector's part of every lease overlapping the range (leases of GPUs it never saw included, at zero use). */
export function leaseLineParts(src: LeaseSourceData): LeaseLinePart[] {
  const { store } = src;
  const lines = src.leases.map((lease) => {
    const w = leaseWindow(lease, src.fromMs, src.toMs, src.nowMs);
    return { lease, w, gpu: store.gpuByUuid(lease.gpu) };
  });
  // Where each GPU was: its host changes, for the GPUs that ever moved (few); the others stayed put.
  const moved = src.moved ?? hostChangesOf(store, new Set(lines.flatMap((l) => (l.gpu ? [l.gpu.id] : []))));
  const placed = lines.map(({ w, gpu }): HostPlace[] => {
    if (!gpu) return [{ host: "", hostId: -1, ...w }];
    const changes = moved.get(gpu.id);
    if (changes) return gpuPlaces(store, gpu.id, w.fromMs, w.toMs, changes);
    return [{ host: store.host(gpu.hostId)?.name ?? "", hostId: gpu.hostId, ...w }];
  });
  // One window read per place with time in it, all in one call.
  const reads = lines.flatMap(({ w, gpu }, i) =>
    gpu && w.toMs > w.fromMs
      ? (placed[i] ?? []).map((p) => ({ gpuId: gpu.id, fromMs: p.fromMs, toMs: p.toMs }))
      : [],
  );
  const sums = store.windowTotals(reads);
  const down = DownFlags.of(src.flags);
  const flagsByGpu = new Map<string, number[]>();
  for (const f of src.flagStarts) {
    const list = flagsByGpu.get(f.gpuUuid);
    if (list) list.push(f.startMs);
    else flagsByGpu.set(f.gpuUuid, [f.startMs]);
  }
  const episodesByGpu = src.flagEpisodes ? byGpu(src.flagEpisodes) : undefined;
  let k = 0;
  return lines.map(({ lease, w, gpu }, i): LeaseLinePart => {
    const places = placed[i] ?? [];
    const read = gpu !== undefined && w.toMs > w.fromMs;
    const starts = flagsByGpu.get(lease.gpu) ?? [];
    // A MIG lease keeps its GPU's coverage (so its down time) but none of the GPU's usage.
    const mig = lease.device !== lease.gpu;
    const uses = places.map((p): LeaseUse => {
      const u = read ? sums[k++] : undefined;
      const flags = countIn(starts, p.fromMs, p.toMs);
      if (!u) return { ...NO_USE, flags };
      const coveredMs = u.busyMs + u.idleMs + u.idleHeldMs + u.unknownMs;
      if (mig) return { ...NO_USE, coveredMs, unknownReportedMs: u.unknownMs, flags };
      return {
        coveredMs,
        busyMs: u.busyMs,
        idleMs: u.idleMs,
        idleHeldMs: u.idleHeldMs,
        unknownReportedMs: u.unknownMs,
        energyCwms: u.energyCwms,
        energyIdleCwms: u.energyIdleCwms,
        utilSum: u.utilizationSum,
        utilCount: u.utilizationCount,
        flags,
      };
    });
    // Down stretches (reading the GPU's flags only when some could hold it down), on each host it was on.
    const episodes =
      read && down.mayTouch(lease.gpu) ? unionEpisodes([down.stretches(lease.gpu, places, src.nowMs)]) : [];
    const last = places[places.length - 1];
    const host = last ? store.host(last.hostId) : undefined;
    const use = uses.length === 1 ? (uses[0] as LeaseUse) : addUses(uses);
    // A literal, not spreads: this runs once per lease (20,000 in a month's report).
    return {
      lease: lease.id,
      tenant: lease.tenant,
      device: lease.device,
      gpu: lease.gpu,
      host: host?.name ?? "",
      site: host?.site ?? "",
      model: gpu?.model ?? "",
      contract: lease.contract,
      currency: lease.currency,
      priceMicros: lease.priceMicros,
      availabilityMilli: lease.availabilityMilli,
      labels: lease.labels,
      fromMs: w.fromMs,
      toMs: w.toMs,
      leasedMs: w.toMs - w.fromMs,
      coveredMs: use.coveredMs,
      busyMs: use.busyMs,
      idleMs: use.idleMs,
      idleHeldMs: use.idleHeldMs,
      unknownReportedMs: use.unknownReportedMs,
      energyCwms: use.energyCwms,
      energyIdleCwms: use.energyIdleCwms,
      utilSum: use.utilSum,
      utilCount: use.utilCount,
      flags: use.flags,
      downMs: stretchMs(episodes),
      down: boundEpisodes(episodes),
      places:
        places.length > 1
          ? places.map((p, j) => ({
              host: p.host,
              site: store.host(p.hostId)?.site ?? "",
              fromMs: p.fromMs,
              toMs: p.toMs,
              downMs: stretchMsIn(episodes, p.fromMs, p.toMs),
              ...(uses[j] as LeaseUse),
            }))
          : [],
      usageMeasured: !mig,
      usageAbsent: mig ? MIG_NO_UTILIZATION : null,
      ...(episodesByGpu ? { flagEpisodes: lineEpisodes(episodesByGpu.get(lease.gpu), w) } : {}),
    };
  });
}

function byGpu(episodes: readonly FlagEpisode[]): Map<string, FlagEpisode[]> {
  const out = new Map<string, FlagEpisode[]>();
  for (const e of episodes) {
    const list = out.get(e.gpuUuid);
    if (list) list.push(e);
    else out.set(e.gpuUuid, [e]);
  }
  return out;
}

/** The GPU's episodes that overlap the window (touching its start too: the merge joins touching copies). */
function lineEpisodes(
  episodes: readonly FlagEpisode[] | undefined,
  w: { fromMs: number; toMs: number },
): LeaseFlagEpisode[] | null {
  const out: LeaseFlagEpisode[] = [];
  if (w.toMs <= w.fromMs) return out;
  for (const { gpuUuid: _, ...e } of episodes ?? [])
    if (e.startMs < w.toMs && (e.endMs === null || e.endMs >= w.fromMs)) out.push(e);
  return out.length <= MAX_FLAG_EPISODES ? out : null;
}

/** How many of the times fall in [fromMs, toMs). */
function countIn(times: readonly number[], fromMs: number, toMs: number): number {
  let n = 0;
  for (const t of times) if (t >= fromMs && t < toMs) n++;
  return n;
}

/** The keys of LeaseUse: what adds up per line and per place. */
export const USE_KEYS: readonly (keyof LeaseUse)[] = Object.keys(NO_USE) as (keyof LeaseUse)[];

/** The sum of several uses (a line's, from its places'). */
export function addUses(uses: readonly LeaseUse[]): LeaseUse {
  const out = { ...NO_USE };
  for (const u of uses) for (const key of USE_KEYS) out[key] += u[key];
  return out;
}

/** Price × time in micro-units, rounded half up once per line (no precision lost). */
export function costMicros(priceMicros: number | null, ms: number): number {
  if (priceMicros === null || ms <= 0) return 0;
  const wholeMs = Math.round(ms);
  const product = priceMicros * wholeMs;
  if (Number.isInteger(priceMicros) && priceMicros >= 0 && product <= Number.MAX_SAFE_INTEGER) {
    // The product is exact (a month at 1,000 a GPU-hour is 2.6e15), so the division can be done
    // in doubles, ten times cheaper than BigInt for every line of a month's statements. The floor
    // is exact too: a quotient below 2^53 / 3.6e6 rounds by at most 2.4e-7, less than its least
    // distance to an integer it is not (1 / 3.6e6).
    const hours = Math.floor(product / HOUR_MS);
    const rest = product - hours * HOUR_MS;
    return 2 * rest >= HOUR_MS ? hours + 1 : hours;
  }
  const num = BigInt(priceMicros) * BigInt(wholeMs);
  const hour = BigInt(HOUR_MS);
  return Number((num * 2n + hour) / (hour * 2n));
}
