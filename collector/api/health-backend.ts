// What the health routes read and do, over the collector's own parts: the store's events and
// flag acknowledgements, the flag engine (history, acknowledgement). Reads go through the
// store's methods (its SQL stays in collector/store).
import { xidEntry } from "../../shared/xid/xid.js";
import type {
  AckCopyRequest,
  GpuView,
  HealthPart,
  ListedEpisode,
  TimeRange,
} from "../contract/api-contract.js";
import { healthPart } from "../fanout/health-part.js";
import type { FlagEngine } from "../flags/engine.js";
import type { Flag, FlagAck, FlagKind } from "../flags/types.js";
import { isCopyOf } from "../merge/merge-lists.js";
import { type GpuPlace, stretchMs } from "../reports/down-time.js";
import { eventCursor } from "../reports/event-cursor.js";
import { healthReport, placedDowntimeSpans } from "../reports/health-report.js";
import type { EventsAnswer, EventView, HealthReport, HealthTimeline } from "../reports/health-types.js";
import { gpuPlaces } from "../reports/host-changes.js";
import { flagsIn } from "../reports/reports.js";
import type { EventCount, EventQuery, EventRow } from "../store/event-store.js";
import type { Store } from "../store/store.js";

export interface HealthBackend {
  events(query: EventQuery): EventsAnswer;
  timeline(gpu: GpuView, range: TimeRange): HealthTimeline;
  report(range: TimeRange): HealthReport;
  /** This collector's share of the fleet health report, for the merge (HEALTH_PART_PATH). */
  part(range: TimeRange): HealthPart;
  /**
   * Undefined when there is no flag with this id; `{ unlike }` (nothing acknowledged) when it is
   * not a copy of `listed`, the flag the operator was shown. `actor`: who asks (the request's
   * principal), recorded with the acknowledgement.
   */
  acknowledge(
    id: number,
    note: string,
    actor: string,
    listed?: ListedEpisode,
  ): { flag: Flag; ack: FlagAck } | { unlike: Flag } | undefined;
  /**
   * Another collector's acknowledgement of `episode`, repeated on this one's copy of it (same
   * time, note and actor); undefined when it holds no copy.
   */
  acknowledgeCopy(episode: AckCopyRequest): { flag: Flag; ack: FlagAck } | undefined;
  xidCounts(): EventCount[];
}

/** Flag kinds a GPU's health timeline shows. */
export const HEALTH_FLAG_KINDS: readonly FlagKind[] = [
  "xid",
  "reset-required",
  "lost",
  "error",
  "pcie-degraded",
  "nvlink-degraded",
];
/** A collector's copies of one episode read at most (one, or a few where it flapped). */
const ACK_COPIES = 100;
/** Events a timeline lists at most. */
export const TIMELINE_EVENTS = 1000;

export function eventView(e: EventRow): EventView {
  const entry = e.kind === "xid" ? xidEntry(e.code) : undefined;
  return { ...e, mnemonic: entry?.mnemonic ?? null, description: entry?.description ?? null };
}

export class StoreHealthBackend implements HealthBackend {
  constructor(
    private readonly parts: {
      store: Store;
      flags: Pick<FlagEngine, "history" | "acknowledge">;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.parts.now ?? Date.now)();
  }

  events(query: EventQuery): EventsAnswer {
    // One more than asked tells whether there is a next page.
    const rows = this.parts.store.events().list({ ...query, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      generatedMs: this.now(),
      limit: query.limit,
      next: rows.length > query.limit && last ? eventCursor(last) : null,
      events: page.map(eventView),
    };
  }

  timeline(gpu: GpuView, range: TimeRange): HealthTimeline {
    const now = this.now();
    const events = this.parts.store
      .events()
      .list({ gpuUuid: gpu.uuid, ...range, limit: TIMELINE_EVENTS + 1 });
    const places = this.placesOf(gpu, range);
    const flags = this.flagsOn(gpu.uuid, places);
    const downtime = placedDowntimeSpans(gpu.uuid, flags, places, now);
    return {
      generatedMs: now,
      uuid: gpu.uuid,
      host: gpu.host,
      index: gpu.index,
      ...range,
      events: events.slice(0, TIMELINE_EVENTS).map(eventView),
      flags,
      acknowledgements: this.parts.store.flagStore().acksOf(gpu.uuid, range.fromMs, range.toMs),
      downtime,
      downtimeMs: stretchMs(downtime),
      truncated: events.length > TIMELINE_EVENTS,
    };
  }

  /** Where the GPU was over the range: one place per host between its moves (the downtime report's stretches). */
  private placesOf(gpu: GpuView, range: TimeRange): GpuPlace[] {
    const store = this.parts.store;
    const known = store.gpuByUuid(gpu.uuid);
    if (!known) return [{ host: gpu.host, ...range }];
    return gpuPlaces(store, known.id, range.fromMs, range.toMs);
  }

  /**
   * The GPU's health episodes raised on each place's host while it was there, newest first: a
   * flag carries the host whose frames raised it, so a moved GPU's episodes on earlier hosts are
   * read there (and another host's claim on its UUID is not read as its own).
   */
  private flagsOn(uuid: string, places: readonly GpuPlace[]): Flag[] {
    const byId = new Map<number, Flag>();
    // This GPU's only, in the store's read: a host's other GPUs' newest 10,000 (one flaky GPU's
    // timeouts) pushed its own out of a read filtered afterwards.
    const gpu = { uuids: [uuid], hosts: [] };
    for (const place of places)
      for (const f of flagsIn(this.parts.flags, place.fromMs, place.toMs, {
        kinds: HEALTH_FLAG_KINDS,
        host: place.host,
        within: gpu,
      }))
        byId.set(f.id, f);
    return [...byId.values()].sort((a, b) => b.startMs - a.startMs || b.id - a.id);
  }

  report(range: TimeRange): HealthReport {
    const store = this.parts.store;
    return healthReport({
      ...range,
      nowMs: this.now(),
      groups: store.events().groups(range.fromMs, range.toMs),
      flags: this.reportFlags(range),
      modelOf: this.models(),
      leasesOn: (uuid) => store.leases.onGpu(uuid, range.fromMs, range.toMs),
    });
  }

  part(range: TimeRange): HealthPart {
    const { store } = this.parts;
    return healthPart({
      store,
      ...range,
      nowMs: this.now(),
      flags: this.reportFlags(range),
      modelOf: this.models(),
    });
  }

  /**
   * Every episode of the range the report reads, paged: one read's 10,000 newest (a flaky GPU's
   * timeouts, a fleet's lost GPUs after an outage) left the older down time and RMA reasons out.
   */
  private reportFlags(range: TimeRange): Flag[] {
    return flagsIn(this.parts.flags, range.fromMs, range.toMs, {
      kinds: ["lost", "reset-required", "error"],
    });
  }

  /** Each GPU's model as this collector knows it ("" when unknown). */
  private models(): (uuid: string) => string {
    const models = new Map(this.parts.store.fleetGpus().map((g) => [g.uuid, g.model]));
    return (uuid) => models.get(uuid) ?? "";
  }

  acknowledge(
    id: number,
    note: string,
    actor: string,
    listed?: ListedEpisode,
  ): { flag: Flag; ack: FlagAck } | { unlike: Flag } | undefined {
    // A short wait for another process's lock: a locked database answers 503 store_busy.
    return this.parts.store.shortWait(() => {
      const flag = listed ? this.parts.store.flagStore().byId(id) : undefined;
      // The flag as listed, compared as the merge joins copies (an xid's opening where given).
      if (
        flag &&
        listed &&
        !isCopyOf(flag, { ...listed, endMs: listed.endMs ?? null, values: listed.values ?? flag.values })
      )
        return { unlike: flag };
      return this.parts.flags.acknowledge(id, note, this.now(), actor);
    });
  }

  acknowledgeCopy(episode: AckCopyRequest): { flag: Flag; ack: FlagAck } | undefined {
    const { kind, host, gpuUuid } = episode;
    return this.parts.store.shortWait(() => {
      const copies = this.parts.flags
        .history({
          kinds: [kind],
          host,
          within: gpuUuid === null ? { uuids: [], hosts: [host] } : { uuids: [gpuUuid], hosts: [] },
          fromMs: episode.startMs,
          toMs: episode.endMs ?? episode.atMs,
          limit: ACK_COPIES,
        })
        .filter((f) => isCopyOf(f, episode));
      // The open copy is the one the acknowledgement closes; else the newest (its note recorded).
      const copy = copies.find((f) => f.endMs === null) ?? copies[0];
      return copy
        ? this.parts.flags.acknowledge(copy.id, episode.note, episode.atMs, episode.actor)
        : undefined;
    });
  }

  xidCounts(): EventCount[] {
    return this.parts.store.events().xidCounts();
  }
}
