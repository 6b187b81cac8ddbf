// Kernel-log events in SQLite (tables from collector/migrations/
// 060_health.sql). Events are stored once per (host, kernel boot id, kernel seq): a re-sent event
// changes nothing. Each Xid stored the first time also raises its running count (xid_counts,
// 096_xid_counts.sql), which retention never lowers: the /metrics counters read that, not the
// events still kept. Every query binds its parameters; filters are built from fixed SQL fragments.
import type { Database, Statement } from "better-sqlite3";
import type { EventWriteResult } from "../ingest/sink.js";
import type { ValidEvent } from "../ingest/validate-event.js";

/** One stored event, as the API answers it. */
export interface EventRow {
  id: number;
  host: string;
  kind: "xid" | "sxid";
  code: number;
  pciBusId: string;
  gpuUuid: string | null;
  gpuIndex: number | null;
  pid: number | null;
  processName: string | null;
  message: string;
  timeMs: number;
  receivedMs: number;
  source: string;
  kernelBootId: string;
  kernelSeq: number;
  action: string;
  applicationLevel: boolean;
}

/**
 * An event's place in the fleet's order, the same on every collector (its row id is not): time,
 * host, kernel boot and sequence, what each store keeps an event unique by plus its time.
 */
export interface EventKey {
  timeMs: number;
  host: string;
  kernelBootId: string;
  kernelSeq: number;
}

/**
 * Where a page ended: an event's key, or (a cursor from before 2026-12-08) a time and this
 * store's row id, read as the key of that row, or as the time alone where no such row is left.
 */
export type EventPosition = EventKey | { timeMs: number; id: number };

export interface EventQuery {
  gpuUuid?: string;
  host?: string;
  kind?: "xid" | "sxid";
  codes?: readonly number[];
  actions?: readonly string[];
  fromMs?: number;
  toMs?: number;
  /** Page: the events after this position in the fleet's order (EVENT_ORDER). */
  before?: EventPosition;
  limit: number;
}

/** Xid events counted per GPU, code and action since the database began (the /metrics counters). */
export interface EventCount {
  host: string;
  /** Null for an event whose bus id the host's inventory did not know. */
  gpuUuid: string | null;
  gpuIndex: number | null;
  code: number;
  action: string;
  /** The catalogue marks the code as the workload's fault (13, 31, 43, 45 …), not the hardware's. */
  applicationLevel: boolean;
  count: number;
}

/** Xid events over a range counted per GPU and code (the health report's input). */
export interface EventGroup {
  host: string;
  gpuUuid: string | null;
  code: number;
  action: string;
  applicationLevel: boolean;
  count: number;
  firstMs: number;
  lastMs: number;
}

/** What the health report groups Xid events by. */
export type EventGroupKey = Pick<EventGroup, "host" | "gpuUuid" | "code" | "action" | "applicationLevel">;

/** One string per group: the health report parts' groups and their merge key them by it. */
export function eventGroupKey(k: EventGroupKey): string {
  return `${k.host}\u0000${k.gpuUuid ?? ""}\u0000${k.code}\u0000${k.action}\u0000${k.applicationLevel}`;
}

/** A group of `k`'s key with no event counted yet, over [firstMs, lastMs]. */
export function emptyEventGroup(k: EventGroupKey, firstMs: number, lastMs: number): EventGroup {
  const { host, gpuUuid, code, action, applicationLevel } = k;
  return { host, gpuUuid, code, action, applicationLevel, count: 0, firstMs, lastMs };
}

/** One Xid event's group (EventGroup's key) and its key (time, host, kernel boot, sequence). */
export interface GroupedEventKey extends EventGroupKey, EventKey {}

/** An events row as SQLite gives it (parked-xids.ts reads it joined too). */
export interface EventColumns {
  id: number;
  host: string;
  kind: string;
  code: number;
  pci_bus_id: string;
  gpu_uuid: string | null;
  gpu_index: number | null;
  pid: number | null;
  process_name: string | null;
  message: string;
  time_ms: number;
  received_ms: number;
  source: string;
  kernel_boot_id: string;
  kernel_seq: number;
  action: string;
  application_level: number;
}

export function toEvent(r: EventColumns): EventRow {
  return {
    id: r.id,
    host: r.host,
    kind: r.kind === "sxid" ? "sxid" : "xid",
    code: r.code,
    pciBusId: r.pci_bus_id,
    gpuUuid: r.gpu_uuid,
    gpuIndex: r.gpu_index,
    pid: r.pid,
    processName: r.process_name,
    message: r.message,
    timeMs: r.time_ms,
    receivedMs: r.received_ms,
    source: r.source,
    kernelBootId: r.kernel_boot_id,
    kernelSeq: r.kernel_seq,
    action: r.action,
    applicationLevel: r.application_level === 1,
  };
}

/**
 * The fleet's order of events, newest first: every collector lists (and pages) them so, whatever
 * its row ids; ties of one millisecond by host, kernel boot (both compared byte by byte, as
 * compareEvents does) and the newer sequence first. Text columns compare BINARY.
 */
const EVENT_ORDER = "time_ms DESC, host, kernel_boot_id, kernel_seq DESC";

function where(q: Omit<EventQuery, "limit">): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    parts.push(sql);
    params.push(...values);
  };
  if (q.gpuUuid !== undefined) add("gpu_uuid = ?", q.gpuUuid);
  if (q.host !== undefined) add("host = ?", q.host);
  if (q.kind !== undefined) add("kind = ?", q.kind);
  if (q.codes && q.codes.length > 0) add(`code IN (${q.codes.map(() => "?").join(", ")})`, ...q.codes);
  if (q.actions && q.actions.length > 0)
    add(`action IN (${q.actions.map(() => "?").join(", ")})`, ...q.actions);
  if (q.fromMs !== undefined) add("time_ms >= ?", q.fromMs);
  if (q.toMs !== undefined) add("time_ms < ?", q.toMs);
  const b = q.before;
  // Within one millisecond by (host, boot, -seq), as a row value: EVENT_ORDER's ties.
  if (b && "id" in b)
    add(
      `(time_ms < ? OR (time_ms = ? AND (host, kernel_boot_id, -kernel_seq) >
         (SELECT host, kernel_boot_id, -kernel_seq FROM events WHERE id = ? AND time_ms = ?)))`,
      b.timeMs,
      b.timeMs,
      b.id,
      b.timeMs,
    );
  else if (b)
    add(
      "(time_ms < ? OR (time_ms = ? AND (host, kernel_boot_id, -kernel_seq) > (?, ?, ?)))",
      b.timeMs,
      b.timeMs,
      b.host,
      b.kernelBootId,
      -b.kernelSeq,
    );
  return { sql: parts.length > 0 ? `WHERE ${parts.join(" AND ")}` : "", params };
}

export class EventStore {
  private statements?: { insert: Statement; countXid: Statement };

  constructor(private readonly db: Database) {}

  private prepared() {
    this.statements ??= {
      insert: this.db.prepare(
        `INSERT INTO events (host, kernel_boot_id, kernel_seq, kind, code, pci_bus_id, gpu_uuid, gpu_index,
           pid, process_name, message, time_ms, received_ms, source, agent_boot_id, action, application_level)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (host, kernel_boot_id, kernel_seq) DO NOTHING`,
      ),
      countXid: this.db.prepare(
        `INSERT INTO xid_counts (host, gpu_uuid, code, action, application_level, gpu_index, count)
         VALUES (?, ?, ?, ?, ?, ?, 1)
         ON CONFLICT (host, gpu_uuid, code, action, application_level)
         DO UPDATE SET count = count + 1, gpu_index = COALESCE(excluded.gpu_index, gpu_index)`,
      ),
    };
    return this.statements;
  }

  /** Inserts in the caller's transaction; what was already stored is left alone and not returned. */
  insert(events: readonly ValidEvent[], receivedAtMs: number): EventWriteResult {
    const { insert, countXid } = this.prepared();
    const fresh: ValidEvent[] = [];
    for (const e of events) {
      const info = insert.run(
        e.host,
        e.kernelBootId,
        e.kernelSeq,
        e.kind,
        e.code,
        e.pciBusId,
        e.gpuUuid,
        e.gpuIndex,
        e.pid,
        e.processName,
        e.message,
        e.timeMs,
        receivedAtMs,
        e.source,
        e.agentBootId,
        e.action,
        e.applicationLevel ? 1 : 0,
      );
      if (info.changes === 0) continue;
      fresh.push(e);
      if (e.kind === "xid")
        countXid.run(e.host, e.gpuUuid ?? "", e.code, e.action, e.applicationLevel ? 1 : 0, e.gpuIndex);
    }
    return { stored: fresh.length, duplicates: events.length - fresh.length, fresh };
  }

  /** In the fleet's order (EVENT_ORDER), at most `limit` (the caller bounds it). */
  list(query: EventQuery): EventRow[] {
    const w = where(query);
    const rows = this.db
      .prepare(`SELECT * FROM events ${w.sql} ORDER BY ${EVENT_ORDER} LIMIT ?`)
      .all(...w.params, query.limit) as EventColumns[];
    return rows.map(toEvent);
  }

  /**
   * Every Xid event ever stored, per GPU, code and action (bounded: GPUs with events × codes),
   * pruned ones included: a counter that only rises.
   */
  xidCounts(): EventCount[] {
    const rows = this.db
      .prepare(
        `SELECT host, NULLIF(gpu_uuid, '') AS gpuUuid, gpu_index AS gpuIndex, code, action,
                application_level AS app, count
         FROM xid_counts
         ORDER BY host, gpu_uuid, code, action`,
      )
      .all() as (Omit<EventCount, "applicationLevel"> & { app: number })[];
    return rows.map(({ app, ...c }) => ({ ...c, applicationLevel: app === 1 }));
  }

  /** Xid events in [fromMs, toMs) per host, GPU and code. */
  groups(fromMs: number, toMs: number): EventGroup[] {
    const rows = this.db
      .prepare(
        `SELECT host, gpu_uuid AS gpuUuid, code, action, application_level AS app, COUNT(*) AS count,
                MIN(time_ms) AS firstMs, MAX(time_ms) AS lastMs
         FROM events WHERE kind = 'xid' AND time_ms >= ? AND time_ms < ?
         GROUP BY host, gpu_uuid, code, action, application_level
         ORDER BY host, gpu_uuid, code, action, application_level`,
      )
      .all(fromMs, toMs) as (Omit<EventGroup, "applicationLevel"> & { app: number })[];
    return rows.map(({ app, ...g }) => ({ ...g, applicationLevel: app === 1 }));
  }

  /**
   * Xid events in [fromMs, toMs), at most `limit`, each with its group (as `groups` keys it) and
   * the key the table keeps it unique by: what a health report part carries, so that collectors
   * holding the same events count them once. Ordered as `groups`, then by kernel boot and sequence.
   */
  keys(fromMs: number, toMs: number, limit: number): GroupedEventKey[] {
    const rows = this.db
      .prepare(
        `SELECT host, gpu_uuid AS gpuUuid, code, action, application_level AS app,
                kernel_boot_id AS kernelBootId, kernel_seq AS kernelSeq, time_ms AS timeMs
         FROM events WHERE kind = 'xid' AND time_ms >= ? AND time_ms < ?
         ORDER BY host, gpu_uuid, code, action, application_level, kernel_boot_id, kernel_seq
         LIMIT ?`,
      )
      .all(fromMs, toMs, limit) as (Omit<GroupedEventKey, "applicationLevel"> & { app: number })[];
    return rows.map(({ app, ...k }) => ({ ...k, applicationLevel: app === 1 }));
  }

  /** Deletes events older than beforeMs, at most `batch` rows; returns how many went (uses events_time). */
  prune(beforeMs: number, batch: number): number {
    return this.db
      .prepare("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time_ms < ? LIMIT ?)")
      .run(beforeMs, batch).changes;
  }
}
