// Flags history and rule timers in SQLite (tables from collector/migrations/010_flags.sql): the
// FlagRecords the flag engine writes through (collector/flags/types.ts).
// Every query binds its parameters; filters are built from fixed SQL fragments only.
import type { Database, Statement } from "better-sqlite3";
import type {
  Flag,
  FlagAck,
  FlagEpisode,
  FlagFilter,
  FlagKind,
  FlagRecords,
  FlagStart,
  FlagStartQuery,
  FlagValues,
  HistoryQuery,
  NewFlag,
  Severity,
} from "../flags/types.js";

interface FlagRow {
  id: number;
  kind: string;
  severity: string;
  host: string;
  gpu_uuid: string | null;
  gpu_index: number | null;
  site: string;
  labels: string;
  start_ms: number;
  end_ms: number | null;
  reason: string;
  vals: string;
  updated_ms: number;
}

function toFlag(row: FlagRow): Flag {
  return {
    id: row.id,
    kind: row.kind as FlagKind,
    severity: row.severity as Severity,
    host: row.host,
    gpuUuid: row.gpu_uuid,
    gpuIndex: row.gpu_index,
    site: row.site,
    labels: JSON.parse(row.labels) as Record<string, string>,
    startMs: row.start_ms,
    endMs: row.end_ms,
    reason: row.reason,
    values: JSON.parse(row.vals) as FlagValues,
    updatedMs: row.updated_ms,
  };
}

function where(filter: HistoryQuery, openOnly: boolean): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (openOnly) parts.push("end_ms IS NULL");
  if (filter.kinds && filter.kinds.length > 0) {
    parts.push(`kind IN (${filter.kinds.map(() => "?").join(", ")})`);
    params.push(...filter.kinds);
  }
  if (filter.host !== undefined) {
    parts.push("host = ?");
    params.push(filter.host);
  }
  if (filter.site !== undefined) {
    parts.push("site = ?");
    params.push(filter.site);
  }
  if (filter.label) {
    parts.push("EXISTS (SELECT 1 FROM json_each(flags.labels) AS l WHERE l.key = ? AND l.value = ?)");
    params.push(filter.label[0], filter.label[1]);
  }
  if (filter.within) {
    // One JSON parameter per list: a model's thousands of GPUs stay within SQLite's parameter limit.
    // Each side seeks its own index (091): the GPUs' by (gpu_uuid, start_ms), the hosts' by
    // (host, start_ms); `+` keeps the planner from reading every host-level episode instead.
    parts.push(
      "(gpu_uuid IN (SELECT value FROM json_each(?)) OR (+gpu_uuid IS NULL AND host IN (SELECT value FROM json_each(?))))",
    );
    params.push(JSON.stringify(filter.within.uuids), JSON.stringify(filter.within.hosts));
  }
  if (filter.severities) {
    parts.push(`severity IN (${filter.severities.map(() => "?").join(", ") || "NULL"})`);
    params.push(...filter.severities);
  }
  if (filter.fromMs !== undefined) {
    parts.push("(end_ms IS NULL OR end_ms >= ?)");
    params.push(filter.fromMs);
  }
  if (filter.toMs !== undefined) {
    parts.push("start_ms <= ?");
    params.push(filter.toMs);
  }
  return { sql: parts.length > 0 ? `WHERE ${parts.join(" AND ")}` : "", params };
}

export class FlagStore implements FlagRecords {
  private statements?: {
    insert: Statement;
    update: Statement;
    close: Statement;
    saveState: Statement;
  };

  /** The history and open-flag queries by their SQL: a filter's shape recurs, so each compiles once. */
  private readonly queries = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  private query(sql: string): Statement {
    let stmt = this.queries.get(sql);
    if (!stmt) {
      if (this.queries.size >= 64) this.queries.clear(); // kinds lists make shapes; keep a bounded set
      stmt = this.db.prepare(sql);
      this.queries.set(sql, stmt);
    }
    return stmt;
  }

  private prepared() {
    this.statements ??= {
      insert: this.db.prepare(
        `INSERT INTO flags (kind, severity, host, gpu_uuid, gpu_index, site, labels, start_ms, end_ms, reason, vals, updated_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
      ),
      update: this.db.prepare("UPDATE flags SET reason = ?, vals = ?, updated_ms = ? WHERE id = ?"),
      close: this.db.prepare(
        "UPDATE flags SET end_ms = ?, reason = ?, vals = ?, updated_ms = ? WHERE id = ?",
      ),
      saveState: this.db.prepare(
        "INSERT INTO flag_rule_state (key, state, updated_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms",
      ),
    };
    return this.statements;
  }

  insert(flag: NewFlag, nowMs: number): Flag {
    const info = this.prepared().insert.run(
      flag.kind,
      flag.severity,
      flag.host,
      flag.gpuUuid,
      flag.gpuIndex,
      flag.site,
      JSON.stringify(flag.labels),
      flag.startMs,
      flag.reason,
      JSON.stringify(flag.values),
      nowMs,
    );
    return { ...flag, id: Number(info.lastInsertRowid), endMs: null, updatedMs: nowMs };
  }

  update(flag: Flag): void {
    this.prepared().update.run(flag.reason, JSON.stringify(flag.values), flag.updatedMs, flag.id);
  }

  close(flag: Flag): void {
    this.prepared().close.run(flag.endMs, flag.reason, JSON.stringify(flag.values), flag.updatedMs, flag.id);
  }

  openFlags(filter: FlagFilter = {}): Flag[] {
    const w = where(filter, true);
    const rows = this.query(`SELECT * FROM flags ${w.sql} ORDER BY start_ms`).all(...w.params) as FlagRow[];
    return rows.map(toFlag);
  }

  history(query: HistoryQuery = {}): Flag[] {
    const w = where(query, false);
    const limit = Math.min(Math.max(1, Math.floor(query.limit ?? 1000)), 10_000);
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const rows = this.query(
      `SELECT * FROM flags ${w.sql} ORDER BY start_ms DESC, id DESC LIMIT ? OFFSET ?`,
    ).all(...w.params, limit, offset) as FlagRow[];
    return rows.map(toFlag);
  }

  flagStarts(query: FlagStartQuery): FlagStart[] {
    // Both shapes read the (gpu_uuid, start_ms) index alone (091): no row, no JSON to decode.
    const sql =
      query.uuids !== undefined
        ? `SELECT gpu_uuid AS gpuUuid, start_ms AS startMs FROM flags
            WHERE gpu_uuid IN (SELECT value FROM json_each(?)) AND start_ms >= ? AND start_ms < ?`
        : `SELECT gpu_uuid AS gpuUuid, start_ms AS startMs FROM flags
            WHERE gpu_uuid IS NOT NULL AND start_ms >= ? AND start_ms < ?`;
    const params = query.uuids !== undefined ? [JSON.stringify(query.uuids)] : [];
    return this.query(sql).all(...params, query.fromMs, query.toMs) as FlagStart[];
  }

  flagEpisodes(query: FlagStartQuery): FlagEpisode[] {
    // Those that began in the range, and those begun before it that were open at its start (a
    // copy on another collector may have begun in it); no labels nor reasons decoded. Of some GPUs,
    // by their (gpu_uuid, start_ms) index; of the fleet, the earlier ones by the end_ms index
    // (`+start_ms` keeps the planner off the start index, which would read all history before).
    const cols = `gpu_uuid AS gpuUuid, kind, host, start_ms AS startMs, end_ms AS endMs,
      CASE kind WHEN 'xid' THEN json_object('code', json_extract(vals, '$.code'),
        'fault', json_extract(vals, '$.fault'), 'action', json_extract(vals, '$.action')) END AS opening`;
    const { fromMs, toMs } = query;
    const [sql, params] =
      query.uuids !== undefined
        ? [
            `SELECT ${cols} FROM flags WHERE gpu_uuid IN (SELECT value FROM json_each(?))
               AND start_ms < ? AND (start_ms >= ? OR end_ms >= ? OR end_ms IS NULL)`,
            [JSON.stringify(query.uuids), toMs, fromMs, fromMs],
          ]
        : [
            `SELECT ${cols} FROM flags WHERE gpu_uuid IS NOT NULL AND start_ms >= ? AND start_ms < ?
             UNION ALL SELECT ${cols} FROM flags WHERE gpu_uuid IS NOT NULL AND end_ms >= ? AND +start_ms < ?
             UNION ALL SELECT ${cols} FROM flags WHERE gpu_uuid IS NOT NULL AND end_ms IS NULL AND +start_ms < ?`,
            [fromMs, toMs, fromMs, fromMs, fromMs],
          ];
    const rows = this.query(sql).all(...params) as (Omit<FlagEpisode, "values"> & {
      opening: string | null;
    })[];
    return rows.map(({ opening, ...e }) => (opening === null ? e : { ...e, values: JSON.parse(opening) }));
  }

  /** Records an operator's acknowledgement (table from 060_health.sql). */
  addAck(ack: Omit<FlagAck, "id">): FlagAck {
    const info = this.db
      .prepare(
        "INSERT INTO flag_acks (flag_id, host, gpu_uuid, kind, note, at_ms, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(ack.flagId, ack.host, ack.gpuUuid, ack.kind, ack.note, ack.atMs, ack.actor);
    return { ...ack, id: Number(info.lastInsertRowid) };
  }

  /** Acknowledgements of one GPU's flags in [fromMs, toMs), oldest first (at most 1000). */
  acksOf(gpuUuid: string, fromMs: number, toMs: number): FlagAck[] {
    return this.db
      .prepare(
        `SELECT id, flag_id AS flagId, host, gpu_uuid AS gpuUuid, kind, note, at_ms AS atMs, actor FROM flag_acks
         WHERE gpu_uuid = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms LIMIT 1000`,
      )
      .all(gpuUuid, fromMs, toMs) as FlagAck[];
  }

  /** One flag by id, open or closed. */
  byId(id: number): Flag | undefined {
    const row = this.db.prepare("SELECT * FROM flags WHERE id = ?").get(id) as FlagRow | undefined;
    return row ? toFlag(row) : undefined;
  }

  /** How many episodes of each kind the history query matches (no limit): the true totals. */
  historyCounts(query: HistoryQuery = {}): Map<FlagKind, number> {
    const w = where(query, false);
    const rows = this.db
      .prepare(`SELECT kind, count(*) AS n FROM flags ${w.sql} GROUP BY kind`)
      .all(...w.params) as { kind: string; n: number }[];
    return new Map(rows.map((r) => [r.kind as FlagKind, r.n]));
  }

  loadRuleStates(): Map<string, string> {
    const rows = this.db.prepare("SELECT key, state FROM flag_rule_state").all() as {
      key: string;
      state: string;
    }[];
    return new Map(rows.map((r) => [r.key, r.state]));
  }

  saveRuleStates(entries: Iterable<[string, string]>, nowMs: number): void {
    const save = this.prepared().saveState;
    this.transaction(() => {
      for (const [key, state] of entries) save.run(key, state, nowMs);
    });
  }

  /** Runs fn in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn)();
  }
}
