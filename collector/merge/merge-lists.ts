// Pure merges of list answers from several collectors, for the fan-out (http.peers) and for
// `gputel query --url a,b` alike. Behind a broker that spreads messages round robin (Mosquitto
// shared subscriptions) every collector holds part of each GPU's samples and statuses, so a GPU,
// a host or a flag episode seen by several collectors is one: GPUs are keyed by UUID (newest
// sample wins), hosts by name (newest status wins), flag episodes joined where they overlap.
// When each collector holds its own agents instead (a hash split), the same merges are exact too.
import { compareProblems } from "../flags/order.js";
import type { Flag } from "../flags/types.js";
import { sessionIdentity } from "../reports/process-report.js";

/** The part of a GPU entry the merge reads (the API's GpuView, or the store's LatestGpu). */
export interface MergeableGpu {
  uuid: string;
  host: string;
  index: number;
  timestampMs?: number | null | undefined;
}

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

/** The part of a host entry the merge reads (the API's HostView). */
export interface MergeableHost {
  name: string;
  status: string;
  statusMs: number | null;
  lastSeenMs: number;
}

/**
 * One entry per host name: the copy with the newest status (a status message reaches one
 * collector; the others know the host from its frames only, status "unknown" with no time),
 * seen last at the latest of every copy. Sorted by name.
 */
export function mergeHostLists<H extends MergeableHost>(lists: readonly (readonly H[])[]): H[] {
  const byName = new Map<string, H>();
  for (const list of lists) {
    for (const h of list) {
      const seen = byName.get(h.name);
      if (!seen) {
        byName.set(h.name, h);
        continue;
      }
      const newer = (h.statusMs ?? -1) > (seen.statusMs ?? -1) ? h : seen;
      byName.set(h.name, { ...newer, lastSeenMs: Math.max(h.lastSeenMs, seen.lastSeenMs) });
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The part of a flag the merge reads (Flag from collector/flags, or its JSON form). */
export type MergeableFlag = Pick<Flag, "kind" | "host" | "gpuUuid" | "startMs" | "endMs" | "updatedMs">;

/**
 * Kinds that close only on evidence read in the GPU's own frames (or an acknowledgement), never on
 * missing data (flags/rules/reset-required.ts). Under round robin each member ends its copy at the
 * first of its own samples that shows the evidence: the member the evidence frame reached ends it
 * where one collector holding every frame does, the others a sample or so later. So the copies of
 * one such episode end at the earliest copy's end (a closed copy ends an open one, as does an
 * acknowledgement on one collector).
 */
export const ENDS_ON_EVIDENCE: ReadonlySet<string> = new Set(["reset-required"]);

/**
 * Episodes of the same kind, host and GPU that overlap in time (an open one reaches to now)
 * become one: earliest start, latest end (open if any is open), the most recently updated copy's
 * reason and values; for the kinds that end on evidence (ENDS_ON_EVIDENCE) the end, reason and
 * values of the copy that ended first. A joined episode carries the id of its copy from the
 * earliest list that holds one (withIdOf).
 * Sorted by start, newest first. Each collector's flag engine sees only its share of a GPU's
 * samples, so the copies of one episode start and end a sample or so apart; joined, they span
 * what one engine seeing every sample reports. xid episodes join only with copies opened by the
 * same Xid (xidOpening).
 */
export function mergeFlagLists<F extends MergeableFlag>(lists: readonly (readonly F[])[]): F[] {
  const byKey = new Map<string, F[]>();
  // Which list each copy came from: the joined episode keeps the id of the first list's copy.
  const listOf = new Map<F, number>();
  for (const [i, list] of lists.entries()) {
    for (const f of list) {
      listOf.set(f, i);
      const key = `${f.kind}\u0000${f.host}\u0000${f.gpuUuid ?? ""}\u0000${xidOpening(f)}`;
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
    const onEvidence = ENDS_ON_EVIDENCE.has(group[0]?.kind ?? "");
    let current: F | undefined;
    let own: F | undefined;
    for (const f of group) {
      if (current && f.startMs <= end(current)) {
        if (own === undefined || (listOf.get(f) ?? 0) < (listOf.get(own) ?? 0)) own = f;
        const newer = f.updatedMs > current.updatedMs ? f : current;
        if (onEvidence) {
          // The copy that saw the evidence first speaks for the episode: its end, reason and values.
          const first = end(f) < end(current) ? f : end(current) < end(f) ? current : newer;
          current = { ...first, startMs: current.startMs };
          continue;
        }
        const endMs = current.endMs === null || f.endMs === null ? null : Math.max(current.endMs, f.endMs);
        current = { ...newer, startMs: current.startMs, endMs };
      } else {
        if (current && own) out.push(withIdOf(current, own));
        current = { ...f };
        own = f;
      }
    }
    if (current && own) out.push(withIdOf(current, own));
  }
  return out.sort((a, b) => b.startMs - a.startMs);
}

/**
 * `joined` under the row id of its copy `own` where flags carry one (a flag list, a timeline): the
 * copy of the first list, the asking collector's in the fan-out (its own list goes first), so the
 * id a merged list shows is one that collector can acknowledge (POST /api/v1/flags/:id/ack, which
 * repeats it on the peers' copies). Each collector numbers its own rows: another collector's id
 * would name another flag there, or none. So the id keeps the `peer` its copy came tagged with
 * (fanFlags tags a peer's flags), and only that: an episode only a peer holds shows whose id it is,
 * one the asking collector holds shows none, whichever copy the rest came from.
 */
function withIdOf<F extends MergeableFlag>(joined: F, own: F): F {
  const { id, peer } = own as { id?: unknown; peer?: unknown };
  if (id === undefined) return joined;
  const { peer: _, ...rest } = joined as F & { peer?: unknown };
  return { ...(rest as F), id, ...(peer !== undefined ? { peer } : {}) };
}

/**
 * Which Xid opened an xid episode (code, fault, action; "" for another kind or a flag without its
 * values). An escalation closes one xid episode and opens the next at the same instant: joined as
 * copies of one, both would take the later one's fault and action, and the earlier one's time
 * (a workload's Xid, or one NVIDIA says to ignore) would count as down (reports/down-time.ts).
 * Copies of one episode on several collectors were opened by the same Xid event.
 */
function xidOpening(f: Pick<Flag, "kind"> & { values?: Flag["values"] }): string {
  const v = f.kind === "xid" ? f.values : undefined;
  return v ? `${v.code}\u0000${v.fault}\u0000${v.action}` : "";
}

/** An episode as isCopyOf compares it: a flag, or an acknowledged one forwarded to a peer. */
type Episode = Omit<MergeableFlag, "updatedMs"> & { values?: Flag["values"] };

/**
 * Whether `copy` (one collector's flag) is a copy of `episode` (another's) as mergeFlagLists joins
 * them: the same kind, host and GPU, the same opening Xid for an xid, and overlapping in time (an
 * open one reaching to now). How an acknowledgement forwarded to the peers finds each one's copy:
 * the collectors' flag ids mean nothing to each other.
 */
export function isCopyOf(copy: Episode, episode: Episode): boolean {
  const end = (f: Episode) => f.endMs ?? Number.POSITIVE_INFINITY;
  return (
    copy.kind === episode.kind &&
    copy.host === episode.host &&
    copy.gpuUuid === episode.gpuUuid &&
    xidOpening(copy) === xidOpening(episode) &&
    copy.startMs <= end(episode) &&
    episode.startMs <= end(copy)
  );
}

/** Flags as /api/v1/flags lists them: each with its duration, up to its end or to nowMs while open. */
export function withDurations<F extends MergeableFlag>(
  flags: readonly F[],
  nowMs: number,
): (F & { durationMs: number })[] {
  return flags.map((f) => ({ ...f, durationMs: (f.endMs ?? nowMs) - f.startMs }));
}

/**
 * Merged flag lists in the order one collector lists them (/api/v1/flags): open problems most
 * severe, then longest open, first (flags/order.ts); history newest first.
 */
export function mergeFlagAnswers<F extends MergeableFlag & Pick<Flag, "severity" | "id" | "gpuIndex">>(
  lists: readonly (readonly F[])[],
  state: string,
): F[] {
  const merged = mergeFlagLists(lists);
  if (state === "open") merged.sort(compareProblems);
  return merged;
}

/**
 * Per-kind totals summed over collectors: exact while each agent's frames reach one collector (as
 * hosts by status); undefined when any collector gave none.
 */
export function sumKindTotals(
  lists: readonly (Readonly<Record<string, number>> | undefined)[],
): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const counts of lists) {
    if (!counts) return undefined;
    for (const [k, n] of Object.entries(counts)) out[k] = (out[k] ?? 0) + n;
  }
  return out;
}

/**
 * The part of a process session the merge reads (the store's ProcessRow, or a report part's
 * session): its identity (host, GPU, MIG device, pid, start), when it was seen, and for a tenant's
 * piece the stay it lies in.
 */
export interface MergeableProcess {
  host: string;
  gpuUuid: string;
  migUuid: string | null;
  pid: number;
  startMs: number | null;
  firstSeenMs: number;
  lastSeenMs: number;
  peakMemoryMib?: number | null;
  stayStartMs?: number | undefined;
}

const processKey = (p: MergeableProcess) => `${sessionIdentity(p)}\u0000${p.stayStartMs ?? ""}`;

/**
 * One entry per process session (host, GPU, MIG device, pid and start; a tenant's pieces also
 * per stay): seen from the earliest first sighting to the latest last one of every copy, the
 * peak memory the highest, the rest (memory now, SM and memory %, absences, open) the newest
 * copy's. A session whose host's sets reached several collectors (round robin, or an agent that
 * moved) is on each, seen over its share only, and counts once. Sorted by last sighting, newest
 * first (then host, GPU, pid: collectors' row ids do not compare).
 */
export function mergeProcessLists<P extends MergeableProcess>(lists: readonly (readonly P[])[]): P[] {
  const byKey = new Map<string, P>();
  for (const list of lists) {
    for (const p of list) {
      const key = processKey(p);
      const seen = byKey.get(key);
      if (!seen) {
        byKey.set(key, p);
        continue;
      }
      const newer = p.lastSeenMs > seen.lastSeenMs ? p : seen;
      const peak = [seen.peakMemoryMib, p.peakMemoryMib].filter((m): m is number => typeof m === "number");
      byKey.set(key, {
        ...newer,
        firstSeenMs: Math.min(seen.firstSeenMs, p.firstSeenMs),
        ...(peak.length > 0 ? { peakMemoryMib: Math.max(...peak) } : {}),
      });
    }
  }
  return [...byKey.values()].sort(
    (a, b) =>
      b.lastSeenMs - a.lastSeenMs ||
      a.host.localeCompare(b.host) ||
      a.gpuUuid.localeCompare(b.gpuUuid) ||
      a.pid - b.pid,
  );
}
