// Kernel-log events and a GPU's health timeline as one tenant sees them: only its leased GPUs'
// events inside its lease periods, and a timeline over each of its stays in the range, clipped to
// them. Flags lose their host labels (they may name other tenants), as in tenant-scope.ts. A stay
// on a MIG device of the GPU shows what the tenant's flag list and statement count of it, the
// GPU's down flags and down time, and none of the GPU's events (each names the process it hit,
// perhaps another MIG tenant's, and the flag list withholds that: tenantFlags).
import type { GpuView, TimeRange } from "../contract/api-contract.js";
import type { Flag, FlagAck } from "../flags/types.js";
import { isDown, stretchMs } from "../reports/down-time.js";
import { compareEvents, eventCursor } from "../reports/event-cursor.js";
import type { EventsAnswer, HealthTimeline } from "../reports/health-types.js";
import type { GpuWhereabouts } from "../reports/host-changes.js";
import type { EventQuery } from "../store/event-store.js";
import { type HealthBackend, TIMELINE_EVENTS } from "./health-backend.js";
import {
  type LeasePeriod,
  type TenantScope,
  tenantFlags,
  WITHHELD_REASON,
  XID_WITHHELD_REASONS,
} from "./tenant-scope.js";

/**
 * Events of the tenant's lease periods (one read per lease piece), newest first, paged as the
 * fleet's. A MIG device's lease shows none of its GPU's (its pieces name the MIG device, which no
 * event does): an Xid names the process it hit, perhaps another MIG tenant's.
 */
export function tenantEvents(
  health: HealthBackend,
  scope: TenantScope,
  query: EventQuery,
  nowMs: number,
): EventsAnswer {
  const from = query.fromMs ?? Number.NEGATIVE_INFINITY;
  const to = query.toMs ?? Number.POSITIVE_INFINITY;
  // Exact periods (step 1 ms): events are instants, no rollup bucket is involved.
  const pieces = scope
    .pieces(from, to, 1)
    .filter((p) => query.gpuUuid === undefined || p.uuid === query.gpuUuid);
  const events = pieces
    .flatMap((p) => {
      // One more than asked per piece tells whether there is a next page.
      const { gpuUuid: _, ...rest } = query;
      return health.events({
        ...rest,
        gpuUuid: p.uuid,
        fromMs: p.fromMs,
        toMs: p.toMs,
        limit: query.limit + 1,
      }).events;
    })
    .sort(compareEvents);
  const page = events.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    generatedMs: nowMs,
    limit: query.limit,
    next: events.length > query.limit && last ? eventCursor(last) : null,
    events: page,
  };
}

/** A stay a tenant's timeline covers; `downOnly` when the tenant held only MIG devices of the GPU. */
export interface TimelineStay extends LeasePeriod {
  downOnly?: true;
}

/**
 * The tenant's stays on this GPU inside the range, oldest first, each cut to the range (its lease
 * periods there, those that touch joined: TenantScope.staysOf), and its stays on the GPU's MIG
 * devices (`downOnly`: its statement counts the GPU's down time in them); empty when none (then:
 * 404). A lease of the whole GPU never overlaps one of its MIG devices (docs/leases.md), so the
 * two kinds of stay never overlap either.
 */
export function tenantStays(scope: TenantScope, uuid: string, range: TimeRange): TimelineStay[] {
  const cut = (s: LeasePeriod) => ({
    startMs: Math.max(s.startMs, range.fromMs),
    endMs: Math.min(s.endMs, range.toMs),
  });
  const migDevices = scope.devicesOn(uuid).filter((device) => device !== uuid);
  return [
    ...scope.staysOf(uuid, range.fromMs, range.toMs).map(cut),
    ...scope
      .staysOf(migDevices, range.fromMs, range.toMs)
      .map((s) => ({ ...cut(s), downOnly: true as const })),
  ].sort((a, b) => a.startMs - b.startMs);
}

/**
 * The timeline over each of the tenant's stays in the range (`stays`, tenantStays), one read per
 * stay, joined (joinTimelines); nothing of the time between them. A `downOnly` stay's part keeps
 * the GPU's down flags and hardware down time alone (downOnlyPart).
 */
export function tenantTimeline(
  health: HealthBackend,
  scope: TenantScope,
  gpu: GpuView,
  stays: readonly TimelineStay[],
  where: GpuWhereabouts,
  nowMs: number,
): HealthTimeline {
  const parts = stays.map((s) => {
    const part = health.timeline(gpu, { fromMs: s.startMs, toMs: s.endMs });
    return s.downOnly ? downOnlyPart(part) : part;
  });
  return joinTimelines(scope, gpu, stays, parts, where, nowMs);
}

/**
 * A stay on a MIG device of the GPU, as far as the tenant's flag list and statement concede it:
 * the GPU's down flags (isDown: tenantFlags then shows them as the list does, an Xid's details
 * withheld) and hardware down time. No events: an Xid event names the process it hit, perhaps
 * another MIG tenant's. No acknowledgements: an operator's note may name it too, and the flag
 * list shows none.
 */
function downOnlyPart(part: HealthTimeline): HealthTimeline {
  return { ...part, events: [], flags: part.flags.filter(isDown), acknowledgements: [], truncated: false };
}

/**
 * One timeline from the stays' own (`parts`, one per stay, oldest first; pure): their events
 * (newest first, at most TIMELINE_EVENTS), acknowledgements and down time side by side, and the
 * flag episodes as the tenant's flag list shows them (tenantFlags: once per stay, each clipped to
 * it at both ends, without host labels) that meet one of the stays. The down time adds up the
 * stays', as the statement counts the lease periods'.
 */
export function joinTimelines(
  scope: TenantScope,
  gpu: Pick<GpuView, "uuid" | "host" | "index">,
  stays: readonly TimelineStay[],
  parts: readonly HealthTimeline[],
  where: GpuWhereabouts,
  nowMs: number,
): HealthTimeline {
  const first = stays[0];
  const last = stays[stays.length - 1];
  if (!first || !last) throw new Error("joinTimelines needs at least one stay");
  const events = parts.flatMap((t) => t.events).sort(compareEvents);
  const flags = new Map(parts.flatMap((t) => t.flags).map((f) => [f.id, f]));
  const meets = (f: Flag) => stays.some((s) => meetsStay(f, s));
  // Each flag's entries as the tenant's flag list shows them, by the flag's stored id.
  const entries = new Map(
    [...flags.values()].map((f) => [f.id, tenantFlags(scope, [f], where, nowMs).filter(meets)]),
  );
  const downtime = parts.flatMap((t) => t.downtime);
  return {
    generatedMs: nowMs,
    uuid: gpu.uuid,
    host: gpu.host,
    index: gpu.index,
    fromMs: first.startMs,
    toMs: last.endMs,
    stays: stays.map((s) => ({
      fromMs: s.startMs,
      toMs: s.endMs,
      ...(s.downOnly ? { downOnly: true as const } : {}),
    })),
    events: events.slice(0, TIMELINE_EVENTS),
    flags: [...entries.values()].flat().sort((a, b) => b.startMs - a.startMs || b.id - a.id),
    acknowledgements: parts.flatMap((t, i) => {
      const stay = stays[i];
      return stay ? tenantAcks(t.acknowledgements, stay, entries) : [];
    }),
    downtime,
    downtimeMs: stretchMs(downtime),
    truncated: parts.some((t) => t.truncated) || events.length > TIMELINE_EVENTS,
  };
}

function meetsStay(f: Pick<Flag, "startMs" | "endMs">, s: LeasePeriod): boolean {
  return f.startMs < s.endMs && (f.endMs ?? Number.POSITIVE_INFINITY) >= s.startMs;
}

/**
 * The acknowledgements made in one stay (`acks`, read over it), each under the id of the entry it
 * belongs to: its flag's entry in that stay (the latest begun by the acknowledgement), as the
 * tenant's flag list numbers it (stayPieceId). One whose flag has no entry in the stay is left out
 * (the tenant does not see what it acknowledges); one of an entry whose sentence is withheld
 * (an Xid that may be another tenant's, or an Xid's details written outside the lease) has its
 * note withheld the same way.
 */
function tenantAcks(
  acks: readonly FlagAck[],
  stay: LeasePeriod,
  entries: ReadonlyMap<number, readonly Flag[]>,
): FlagAck[] {
  const out: FlagAck[] = [];
  for (const ack of acks) {
    const inStay = (entries.get(ack.flagId) ?? []).filter((e) => meetsStay(e, stay));
    const begun = inStay.filter((e) => e.startMs <= ack.atMs);
    const entry = begun[begun.length - 1] ?? inStay[0];
    if (!entry) continue;
    // A note on an xid entry whose details were written outside the lease (a flag a previous
    // tenant's Xid opened) may name that tenant's process as the withheld sentence does.
    const withheld =
      XID_WITHHELD_REASONS.includes(entry.reason) ||
      (entry.kind === "xid" && entry.reason === WITHHELD_REASON);
    // Who acknowledged it (an operator's token) is the fleet's business, not the tenant's.
    out.push({ ...ack, flagId: entry.id, actor: "", ...(withheld ? { note: entry.reason } : {}) });
  }
  return out;
}
