// The agents' sources' health (agent/sources/supervisor/), as their statuses report it: one row
// per host and source, replaced by each newer status that lists sources (040_agent_sources.sql).
import type { Database as Db, Statement } from "better-sqlite3";
import type { ISourceStatus } from "../../shared/proto.js";

export interface AgentSourceRow {
  host: string;
  source: string;
  restarts: number;
  timeouts: number;
  exits: number;
  stuckChildren: number;
  startFailures: number;
  lastError: string;
  lastErrorMs: number;
  stuck: boolean;
  reportedMs: number;
}

interface Row {
  host: string;
  source: string;
  restarts: number;
  timeouts: number;
  exits: number;
  stuck_children: number;
  start_failures: number;
  last_error: string;
  last_error_ms: number;
  stuck: number;
  reported_ms: number;
}

export class AgentSourceTable {
  private readonly newest: Statement<[number], { reported_ms: number | null }>;
  private readonly clear: Statement<[number]>;
  private readonly insert: Statement<unknown[]>;
  private readonly list: Statement<[], Row>;

  constructor(db: Db) {
    this.newest = db.prepare("SELECT MAX(reported_ms) AS reported_ms FROM agent_sources WHERE host_id = ?");
    this.clear = db.prepare("DELETE FROM agent_sources WHERE host_id = ?");
    this.insert = db.prepare(
      `INSERT INTO agent_sources (host_id, source, restarts, timeouts, exits, stuck_children,
         start_failures, last_error, last_error_ms, stuck, reported_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.list = db.prepare(
      `SELECT h.name AS host, s.source, s.restarts, s.timeouts, s.exits, s.stuck_children,
         s.start_failures, s.last_error, s.last_error_ms, s.stuck, s.reported_ms
       FROM agent_sources s JOIN hosts h ON h.id = s.host_id ORDER BY h.name, s.source`,
    );
  }

  /** Replaces the host's rows unless a newer status already did (the caller's transaction). */
  replace(hostId: number, sources: readonly ISourceStatus[], reportedMs: number): void {
    const newest = this.newest.get(hostId)?.reported_ms ?? null;
    if (newest !== null && newest > reportedMs) return;
    this.clear.run(hostId);
    for (const s of sources) {
      this.insert.run(
        hostId,
        s.name ?? "",
        Number(s.restarts ?? 0),
        Number(s.timeouts ?? 0),
        Number(s.exits ?? 0),
        Number(s.stuck_children ?? 0),
        Number(s.start_failures ?? 0),
        s.last_error ?? "",
        Number(s.last_error_ms ?? 0),
        s.stuck ? 1 : 0,
        reportedMs,
      );
    }
  }

  all(): AgentSourceRow[] {
    return this.list.all().map((r) => ({
      host: r.host,
      source: r.source,
      restarts: r.restarts,
      timeouts: r.timeouts,
      exits: r.exits,
      stuckChildren: r.stuck_children,
      startFailures: r.start_failures,
      lastError: r.last_error,
      lastErrorMs: r.last_error_ms,
      stuck: r.stuck === 1,
      reportedMs: r.reported_ms,
    }));
  }
}
