// Pure: lease line parts from several collectors → the lines one collector holding every sample
// would give. Per lease the integer sums add up exactly (a GPU that moved between collectors has
// part of its minutes on each); the lease's own window and leased time are the same in every
// part and taken once; the GPU's place is the one the part with the most known time gives.
// Down time is the union of the parts' down stretches (the same episode may be in several parts:
// a host's offline status reaches every collector), so overlaps count once. A GPU that moved
// during the window has its places (host stretches) added per stretch, as the fleet reports' parts.
// A line's count of flags opened is the parts' counts added, or, where every part carries its flag
// episodes, the count of those episodes joined as the merged flag list joins them: under round
// robin every member holds its own copy of a GPU's episode, which counts once.
// Each collector must give its part of every lease exactly once (collector/api/fanout-leases.ts
// asks a collector for the leases it does not hold itself).
import { type DownEpisode, stretchMs, stretchMsIn, unionEpisodes } from "../reports/down-time.js";
import {
  addUses,
  boundEpisodes,
  type LeaseFlagEpisode,
  type LeaseLinePart,
  type LeasePlace,
  type LeaseUse,
  MAX_FLAG_EPISODES,
  USE_KEYS,
} from "../reports/lease-lines.js";
import { withoutLateEnds } from "./late-ends.js";
import { mergeFlagLists } from "./merge-lists.js";

/** The integers that add up across collectors: a line's and a place's use. */
export const SUMMED_INTEGERS = USE_KEYS;
/** The integers of the lease's window: the same in every part. */
const WINDOW = ["fromMs", "toMs", "leasedMs"] as const;
/** Derived from the union of the parts' down stretches (mergeDown). */
const FROM_EPISODES = ["downMs"] as const;

type IntegerKeys<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T];
/** Every integer of a part is summed, a window's or derived: a new one fails to compile until placed above. */
type Unplaced = Exclude<
  IntegerKeys<LeaseLinePart> | IntegerKeys<LeaseUse>,
  (typeof SUMMED_INTEGERS)[number] | (typeof WINDOW)[number] | (typeof FROM_EPISODES)[number]
>;
export const EVERY_INTEGER_PLACED: [Unplaced] extends [never] ? true : never = true;

interface Merging {
  sum: LeaseLinePart;
  placedBy: number;
  parts: LeaseLinePart[];
}

export function mergeLeaseParts(parts: readonly (readonly LeaseLinePart[])[]): LeaseLinePart[] {
  const byLease = new Map<string, Merging>();
  for (const part of parts) {
    for (const p of part) {
      const seen = byLease.get(p.lease);
      if (!seen) {
        byLease.set(p.lease, { sum: { ...p, labels: { ...p.labels } }, placedBy: p.coveredMs, parts: [p] });
        continue;
      }
      seen.parts.push(p);
      const s = seen.sum;
      // The place from the part with the most known time (a collector that never saw the GPU has none).
      if (p.coveredMs > seen.placedBy || (s.host === "" && p.host !== "")) {
        Object.assign(s, { host: p.host, site: p.site, model: p.model });
        seen.placedBy = p.coveredMs;
      }
      for (const k of SUMMED_INTEGERS) s[k] += p[k];
    }
  }
  return [...byLease.values()]
    .map((m) => {
      if (m.parts.length > 1) {
        const joined = joinEpisodes(m.sum, m.parts);
        mergeDown(m.sum, m.parts, joined);
        countJoined(m.sum, joined);
      }
      return m.sum;
    })
    .sort((a, b) => (a.lease < b.lease ? -1 : a.lease > b.lease ? 1 : 0));
}

/**
 * Down time and places of one lease from its parts. Exact while every part sends its stretches;
 * a part that left them out (more than MAX_DOWN_EPISODES) leaves the largest part's figures, line
 * and place, which can fall short when collectors saw different stretches (docs/scaling.md).
 * With the parts' flag episodes `joined`, each part's stretches lose the time its copies of a
 * reset-required ran past the joined one's end (late-ends.ts).
 */
function mergeDown(
  s: LeaseLinePart,
  parts: readonly LeaseLinePart[],
  joined: readonly Joined[] | null,
): void {
  const lists = parts.flatMap((p) =>
    p.down ? [joined && p.flagEpisodes ? withoutLateEnds(p.down, p.flagEpisodes, joined) : p.down] : [],
  );
  const union = unionEpisodes(lists);
  const exact = lists.length === parts.length;
  s.downMs = exact ? stretchMs(union) : Math.max(stretchMs(union), ...parts.map((p) => p.downMs));
  s.down = exact ? boundEpisodes(union) : null;
  if (parts.some((p) => p.places.length > 0)) s.places = mergePlaces(parts, exact ? union : null);
  // Without every stretch, each place keeps its largest part's down time: the line's is at least their sum.
  if (!exact && s.places.length > 0)
    s.downMs = Math.max(
      s.downMs,
      s.places.reduce((n, p) => n + p.downMs, 0),
    );
}

/**
 * A moved GPU's stretches per host from every part, added per stretch (every collector that
 * receives the inventories cuts them at the same instants); a part without places (its GPU did
 * not move, as that collector knows it) counts as one stretch on its host over the window.
 */
function mergePlaces(parts: readonly LeaseLinePart[], union: readonly DownEpisode[] | null): LeasePlace[] {
  const byKey = new Map<string, LeasePlace>();
  for (const p of parts) {
    const pieces: readonly LeasePlace[] =
      p.places.length > 0 ? p.places : p.host !== "" ? [wholeWindow(p)] : [];
    for (const pc of pieces) {
      const key = `${pc.host}\u0000${pc.fromMs}\u0000${pc.toMs}`;
      const seen = byKey.get(key);
      if (!seen) {
        byKey.set(key, { ...pc });
        continue;
      }
      for (const k of SUMMED_INTEGERS) seen[k] += pc[k];
      seen.downMs = Math.max(seen.downMs, pc.downMs);
    }
  }
  const places = [...byKey.values()].sort(
    (a, b) => a.fromMs - b.fromMs || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0),
  );
  if (union) for (const pc of places) pc.downMs = stretchMsIn(union, pc.fromMs, pc.toMs);
  return places.length > 1 ? places : [];
}

function wholeWindow(p: LeaseLinePart): LeasePlace {
  return { host: p.host, site: p.site, fromMs: p.fromMs, toMs: p.toMs, downMs: p.downMs, ...addUses([p]) };
}

type Joined = LeaseFlagEpisode & { gpuUuid: string; updatedMs: number };

/**
 * The lease's flag episodes from every part, joined as the merged flag list joins them
 * (mergeFlagLists: overlapping episodes of one kind on one host are one, an xid one per opening
 * Xid, a reset-required one ending at its earliest copy's end); null unless every part carried
 * its episodes. updatedMs picks whose reason a joined flag shows: nothing read here.
 */
function joinEpisodes(s: LeaseLinePart, parts: readonly LeaseLinePart[]): Joined[] | null {
  const lists: LeaseFlagEpisode[][] = [];
  for (const p of parts) {
    if (!p.flagEpisodes) return null;
    lists.push(p.flagEpisodes);
  }
  return mergeFlagLists(lists.map((l) => l.map((e) => ({ ...e, gpuUuid: s.gpu, updatedMs: 0 }))));
}

/**
 * A line's and its places' flags from the joined episodes, each counted in the place where it
 * began, as a collector holding every sample counts its own; left as the parts' sum without them.
 */
function countJoined(s: LeaseLinePart, joined: readonly Joined[] | null): void {
  if (!joined) {
    // Absent when no part carried any (not asked for them), as on one collector.
    if (s.flagEpisodes) s.flagEpisodes = null;
    return;
  }
  const startsIn = (fromMs: number, toMs: number) =>
    joined.reduce((n, e) => n + (e.startMs >= fromMs && e.startMs < toMs ? 1 : 0), 0);
  s.flags = startsIn(s.fromMs, s.toMs);
  for (const pc of s.places) pc.flags = startsIn(pc.fromMs, pc.toMs);
  const carried = joined.map(({ gpuUuid: _g, updatedMs: _u, ...e }) => e);
  s.flagEpisodes = carried.length <= MAX_FLAG_EPISODES ? carried : null;
}
