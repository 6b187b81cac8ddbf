// Pure: one GPU's health timeline (gpus/:id/health) as several collectors answer the same request
// → the one timeline, for the fan-out (http.peers) and `gputel query health GPU --url a,b` alike;
// and the event list (events) of several collectors → one, for the fan-out (fanout-events.ts) and
// `gputel query events --url a,b` alike, every list in the fleet's order (event-cursor.ts).
// Kernel-log events reach every collector (a plain subscription), so each holds the same events
// under its own row ids; a GPU's lost and error episodes are raised where its host's frames went,
// so a GPU that moved between collectors has its episodes on each; its Xid episodes, raised from
// the events, are on all of them.
//
// Events count once by the key each store keeps them unique by (host, kernel boot, kernel
// sequence). Flag episodes join as every merged flag list joins them (mergeFlagLists: overlapping
// episodes of one kind, host and GPU become one, under the id of the first timeline's copy: the
// asking collector's, where it holds one), and an
// acknowledgement is put under the id of the joined episode its flag went into. Down time is the
// union of the collectors' spans (unionEpisodes), as the union of every flag's spans is what one
// collector holding every flag computes, each collector's less the time its reset-required copies
// ran past the joined episode's end (late-ends.ts: under round robin a member without the frame
// that shows the recovery ends its copy a sample late). A tenant's stays (each collector's, from its own leases)
// are joined where they overlap or touch.
import type { Flag, FlagAck } from "../flags/types.js";
import { DOWN_KINDS, type DownKind, stretchMs, unionEpisodes } from "../reports/down-time.js";
import { compareEvents, eventCursor } from "../reports/event-cursor.js";
import type { EventsAnswer, EventView, HealthTimeline } from "../reports/health-types.js";
import { withoutLateEnds } from "./late-ends.js";
import { mergeFlagLists } from "./merge-lists.js";

/**
 * The timelines of one GPU (first the asking collector's) as one: the events of all, once each,
 * newest first and cut at `maxEvents` (`truncated` then, or when any was cut); the range from the
 * earliest start to the latest end. The GPU is placed (host, index) as the timeline with the newest
 * flag change or acknowledgement places it, else as the first. One timeline is returned as it is.
 */
export function mergeHealthTimelines(
  timelines: readonly HealthTimeline[],
  maxEvents: number,
): HealthTimeline {
  const first = timelines[0];
  if (!first) throw new Error("no health timeline to merge");
  if (timelines.length === 1) return first;
  const merged = uniqueEvents(timelines.map((t) => t.events));
  const flags = mergeFlagLists(timelines.map((t) => t.flags)).sort(
    (a, b) => b.startMs - a.startMs || b.id - a.id,
  );
  // Each timeline's stretches less the time its reset-required copies ran past the joined ones.
  const downtime = unionEpisodes(
    timelines.map((t) =>
      withoutLateEnds(
        t.downtime.map((s) => ({ ...s, kinds: s.kinds.filter(isDownKind) })),
        t.flags,
        flags,
      ),
    ),
  );
  const placed = timelines.reduce((best, t) => (newestEntryMs(t) > newestEntryMs(best) ? t : best), first);
  const stays = timelines.some((t) => t.stays !== undefined)
    ? joinStays(timelines.flatMap((t) => t.stays ?? []))
    : undefined;
  return {
    generatedMs: Math.max(...timelines.map((t) => t.generatedMs)),
    uuid: first.uuid,
    host: placed.host,
    index: placed.index,
    fromMs: Math.min(...timelines.map((t) => t.fromMs)),
    toMs: Math.max(...timelines.map((t) => t.toMs)),
    ...(stays ? { stays } : {}),
    events: merged.slice(0, maxEvents),
    flags,
    acknowledgements: joinedAcks(timelines, flags),
    downtime,
    downtimeMs: stretchMs(downtime),
    truncated: timelines.some((t) => t.truncated) || merged.length > maxEvents,
  };
}

/**
 * The event lists of several collectors (`events`, each asked the same query, `limit` and `before`)
 * as one: every event once, in the fleet's order (compareEvents), cut at the limit. The first
 * `limit` of the union are each among the first `limit` of every collector holding them, so the
 * cut pages are enough. Every collector lists and pages events by their key, whatever its row ids,
 * so the merged `next` is the cursor of the last event shown (eventCursor): asked of each, the next
 * page holds every event after it once and none before it.
 */
export function mergeEventAnswers(answers: readonly EventsAnswer[]): EventsAnswer {
  const first = answers[0];
  if (!first) throw new Error("no event list to merge");
  if (answers.length === 1) return first;
  const all = uniqueEvents(answers.map((a) => a.events));
  const events = all.slice(0, first.limit);
  const last = events[events.length - 1];
  const more = all.length > first.limit || answers.some((a) => a.next !== null);
  return {
    generatedMs: Math.max(...answers.map((a) => a.generatedMs)),
    limit: first.limit,
    next: more && last ? eventCursor(last) : null,
    events,
  };
}

/** Events of several lists, once each (the first copy), in the fleet's order. */
function uniqueEvents(lists: readonly (readonly EventView[])[]): EventView[] {
  const events = new Map<string, EventView>();
  for (const list of lists) for (const e of list) if (!events.has(eventKey(e))) events.set(eventKey(e), e);
  return [...events.values()].sort(compareEvents);
}

/** What each store keeps an event unique by (migrations/060_health.sql): its row ids differ. */
function eventKey(e: Pick<EventView, "host" | "kernelBootId" | "kernelSeq">): string {
  return `${e.host}\u0000${e.kernelBootId}\u0000${e.kernelSeq}`;
}

function isDownKind(kind: string): kind is DownKind {
  return (DOWN_KINDS as readonly string[]).includes(kind);
}

/**
 * Each acknowledgement under the id of the joined episode its flag (in its own timeline) went
 * into; one whose flag is not in its timeline keeps its id. The same acknowledgement from two
 * collectors counts once. Oldest first, as one collector lists them.
 */
function joinedAcks(timelines: readonly HealthTimeline[], joined: readonly Flag[]): FlagAck[] {
  const out = new Map<string, FlagAck>();
  for (const t of timelines)
    for (const ack of t.acknowledgements) {
      const own = t.flags.find((f) => f.id === ack.flagId);
      const into = own && joined.find((j) => sameEpisode(j, own));
      const entry = { ...ack, flagId: into ? into.id : ack.flagId };
      const key = `${entry.flagId}\u0000${entry.atMs}\u0000${entry.note}`;
      if (!out.has(key)) out.set(key, entry);
    }
  return [...out.values()].sort((a, b) => a.atMs - b.atMs);
}

/** Whether joined episode `j` holds `f` (same kind, host and GPU, and f starts within it). */
function sameEpisode(j: Flag, f: Flag): boolean {
  return (
    j.kind === f.kind &&
    j.host === f.host &&
    j.gpuUuid === f.gpuUuid &&
    j.startMs <= f.startMs &&
    (j.endMs === null || f.startMs <= j.endMs)
  );
}

/**
 * The time of the timeline's newest flag change or acknowledgement; -Infinity when it has none.
 * Not its events: every collector holds them, so they do not tell where the GPU's frames went.
 */
function newestEntryMs(t: HealthTimeline): number {
  return Math.max(
    Number.NEGATIVE_INFINITY,
    ...t.flags.map((f) => f.updatedMs),
    ...t.acknowledgements.map((a) => a.atMs),
  );
}

/** Ranges joined where they overlap or touch, oldest first. */
function joinRanges(ranges: readonly { fromMs: number; toMs: number }[]): { fromMs: number; toMs: number }[] {
  const out: { fromMs: number; toMs: number }[] = [];
  for (const r of [...ranges].sort((a, b) => a.fromMs - b.fromMs)) {
    const last = out[out.length - 1];
    if (last && r.fromMs <= last.toMs) last.toMs = Math.max(last.toMs, r.toMs);
    else out.push({ fromMs: r.fromMs, toMs: r.toMs });
  }
  return out;
}

type Stay = NonNullable<HealthTimeline["stays"]>[number];

/** A tenant's stays from every collector: whole-GPU stays and MIG ones (`downOnly`) joined apart. */
function joinStays(stays: readonly Stay[]): Stay[] {
  const whole = joinRanges(stays.filter((s) => !s.downOnly));
  const downOnly = joinRanges(stays.filter((s) => s.downOnly)).map((s) => ({
    ...s,
    downOnly: true as const,
  }));
  return [...whole, ...downOnly].sort((a, b) => a.fromMs - b.fromMs);
}
