// Process sessions in SQLite (tables from collector/migrations/085_processes.sql). A set opens
// and extends sessions; the host's newest set also closes the sessions it no longer lists. An
// older set (a replay after an outage) extends what it lists but closes nothing. Writing the same
// set twice changes nothing: the SM and memory shares only grow for a newer sighting. A session
// keeps the absences (why SM % and the like are missing) of its newest set, as its memory. Every
// query binds its parameters; filters are built from fixed SQL fragments.
import type { Database, Statement } from "better-sqlite3";
import type { ProcessAbsence, ValidProcessSet } from "../ingest/validate-processes.js";

/** One process session, as the API answers it. */
export interface ProcessRow {
  id: number;
  host: string;
  gpuUuid: string;
  migUuid: string | null;
  pid: number;
  startMs: number | null;
  name: string;
  uid: number | null;
  user: string | null;
  workloadKind: string;
  containerId: string | null;
  podUid: string | null;
  jobId: string | null;
  unit: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
  memoryMib: number | null;
  peakMemoryMib: number | null;
  /** Mean of the pmon SM % the sets carried; null when pmon gave none. */
  smPct: number | null;
  /** Mean of the pmon memory (bandwidth) % the sets carried (pmon's `mem`); null when pmon gave none. */
  memPct: number | null;
  /** Why fields were absent in the session's newest set (an SM or memory % of null: why pmon gave none). */
  absent: ProcessAbsence[];
  open: boolean;
  /**
   * A tenant's piece of the session only: the start of the tenant's stay it lies in
   * (tenant-processes.ts), which keeps two stays' pieces apart when collectors' lists merge.
   */
  stayStartMs?: number;
}

export interface ProcessQuery {
  gpuUuids?: readonly string[];
  host?: string;
  user?: string;
  jobId?: string;
  podUid?: string;
  containerId?: string;
  /** Sessions seen at or after this time (overlapping [fromMs, toMs)). */
  fromMs?: number;
  toMs?: number;
  /** Only sessions the host's newest set lists, seen at or after this time. */
  currentSinceMs?: number;
  /**
   * Only sessions overlapping one of these windows on their device (a GPU, or the MIG device they
   * ran on): a tenant's lease periods, so that `limit` counts only sessions it may see.
   */
  within?: readonly DeviceWindow[];
  limit: number;
}

/** [fromMs, toMs) on a device (GPU or MIG UUID) of GPU `gpu`. */
export interface DeviceWindow {
  device: string;
  gpu: string;
  fromMs: number;
  toMs: number;
}

interface Row {
  id: number;
  host: string;
  gpu_uuid: string;
  mig_uuid: string;
  pid: number;
  start_ms: number;
  name: string;
  uid: number | null;
  user: string | null;
  workload_kind: string;
  container_id: string | null;
  pod_uid: string | null;
  job_id: string | null;
  unit: string | null;
  first_seen_ms: number;
  last_seen_ms: number;
  last_memory_mib: number | null;
  peak_memory_mib: number | null;
  sm_pct_sum: number;
  sm_pct_count: number;
  mem_pct_sum: number;
  mem_pct_count: number;
  /** JSON of ProcessAbsence[], written by write() from validated absences only. */
  absent: string;
  open: number;
}

const NO_ABSENCES = "[]";

/** A share's mean over the sets that carried it, to 0.1; null when none did. */
function meanPct(sum: number, count: number): number | null {
  return count > 0 ? Math.round((sum / count) * 10) / 10 : null;
}

function toProcess(r: Row): ProcessRow {
  return {
    id: r.id,
    host: r.host,
    gpuUuid: r.gpu_uuid,
    migUuid: r.mig_uuid === "" ? null : r.mig_uuid,
    pid: r.pid,
    startMs: r.start_ms === 0 ? null : r.start_ms,
    name: r.name,
    uid: r.uid,
    user: r.user,
    workloadKind: r.workload_kind,
    containerId: r.container_id,
    podUid: r.pod_uid,
    jobId: r.job_id,
    unit: r.unit,
    firstSeenMs: r.first_seen_ms,
    lastSeenMs: r.last_seen_ms,
    memoryMib: r.last_memory_mib,
    peakMemoryMib: r.peak_memory_mib,
    smPct: meanPct(r.sm_pct_sum, r.sm_pct_count),
    memPct: meanPct(r.mem_pct_sum, r.mem_pct_count),
    absent: r.absent === NO_ABSENCES ? [] : (JSON.parse(r.absent) as ProcessAbsence[]),
    open: r.open === 1,
  };
}

function where(q: Omit<ProcessQuery, "limit">): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    parts.push(sql);
    params.push(...values);
  };
  if (q.gpuUuids !== undefined)
    add(`gpu_uuid IN (${q.gpuUuids.map(() => "?").join(", ") || "NULL"})`, ...q.gpuUuids);
  if (q.host !== undefined) add("host = ?", q.host);
  if (q.user !== undefined) add("user = ?", q.user);
  if (q.jobId !== undefined) add("job_id = ?", q.jobId);
  if (q.podUid !== undefined) add("pod_uid = ?", q.podUid);
  if (q.containerId !== undefined) add("container_id = ?", q.containerId);
  if (q.fromMs !== undefined) add("last_seen_ms >= ?", q.fromMs);
  if (q.toMs !== undefined) add("first_seen_ms < ?", q.toMs);
  if (q.currentSinceMs !== undefined) add("open = 1 AND last_seen_ms >= ?", q.currentSinceMs);
  if (q.within !== undefined) {
    // JSON has no Infinity: an open lease's end is the largest exact integer.
    const windows = JSON.stringify(
      q.within.map((w) => ({ ...w, toMs: Math.min(w.toMs, Number.MAX_SAFE_INTEGER) })),
    );
    // The GPUs first, through the (gpu_uuid, last_seen_ms) index; the windows only on their rows.
    add("gpu_uuid IN (SELECT w.value ->> 'gpu' FROM json_each(?) AS w)", windows);
    add(
      `EXISTS (SELECT 1 FROM json_each(?) AS w WHERE w.value ->> 'device' IN (gpu_uuid, mig_uuid)
         AND last_seen_ms >= w.value ->> 'fromMs' AND first_seen_ms < w.value ->> 'toMs')`,
      windows,
    );
  }
  return { sql: parts.length > 0 ? `WHERE ${parts.join(" AND ")}` : "", params };
}

/**
 * A session counts as current while the host's newest set lists it and that set is at most this
 * old (the agent's processes.refresh_interval, 60 s by default, must stay below it).
 */
export const CURRENT_WITHIN_MS = 10 * 60_000;

/** Query shapes kept prepared; past it the cache starts again (GPU lists of many lengths make many). */
const MAX_QUERY_SHAPES = 64;

export class ProcessStore {
  /**
   * The list queries by their SQL: a filter's shape recurs (each panel refresh, each idle-held
   * holder's name), so each compiles once, as FlagStore's queries do.
   */
  private readonly queries = new Map<string, Statement>();
  private readonly upsert: Statement;
  private readonly closeAbsent: Statement;
  private readonly newest: Statement;
  private readonly setNewest: Statement;
  private readonly pruneOld: Statement;
  private readonly reportingSince: Statement;

  constructor(private readonly db: Database) {
    this.upsert = db.prepare(`
      INSERT INTO process_sessions (host, gpu_uuid, mig_uuid, pid, start_ms, name, uid, user,
        workload_kind, container_id, pod_uid, job_id, unit, first_seen_ms, last_seen_ms,
        last_memory_mib, peak_memory_mib, sm_pct_sum, sm_pct_count, mem_pct_sum, mem_pct_count,
        absent, open)
      VALUES (@host, @gpu_uuid, @mig_uuid, @pid, @start_ms, @name, @uid, @user, @workload_kind,
        @container_id, @pod_uid, @job_id, @unit, @seen, @seen, @memory, @peak, @sm_sum, @sm_count,
        @mem_sum, @mem_count, @absent, @open)
      ON CONFLICT (host, gpu_uuid, mig_uuid, pid, start_ms) DO UPDATE SET
        first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),
        sm_pct_sum = sm_pct_sum + CASE WHEN excluded.last_seen_ms > last_seen_ms THEN excluded.sm_pct_sum ELSE 0 END,
        sm_pct_count = sm_pct_count + CASE WHEN excluded.last_seen_ms > last_seen_ms THEN excluded.sm_pct_count ELSE 0 END,
        mem_pct_sum = mem_pct_sum + CASE WHEN excluded.last_seen_ms > last_seen_ms THEN excluded.mem_pct_sum ELSE 0 END,
        mem_pct_count = mem_pct_count + CASE WHEN excluded.last_seen_ms > last_seen_ms THEN excluded.mem_pct_count ELSE 0 END,
        last_memory_mib = CASE WHEN excluded.last_seen_ms >= last_seen_ms THEN excluded.last_memory_mib ELSE last_memory_mib END,
        absent = CASE WHEN excluded.last_seen_ms >= last_seen_ms THEN excluded.absent ELSE absent END,
        peak_memory_mib = max(coalesce(peak_memory_mib, 0), coalesce(excluded.peak_memory_mib, 0)),
        open = CASE WHEN excluded.open = 1 THEN 1 ELSE open END,
        last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)`);
    this.closeAbsent = db.prepare(
      "UPDATE process_sessions SET open = 0 WHERE host = ? AND open = 1 AND last_seen_ms < ?",
    );
    this.newest = db.prepare("SELECT timestamp_ms FROM process_sets WHERE host = ?");
    this.setNewest = db.prepare(`
      INSERT INTO process_sets (host, boot_id, seq, timestamp_ms, received_ms) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (host) DO UPDATE SET boot_id = excluded.boot_id, seq = excluded.seq,
        timestamp_ms = excluded.timestamp_ms, received_ms = excluded.received_ms`);
    this.reportingSince = db.prepare("SELECT host FROM process_sets WHERE timestamp_ms >= ?").pluck(true);
    this.pruneOld = db.prepare(
      "DELETE FROM process_sessions WHERE id IN (SELECT id FROM process_sessions WHERE last_seen_ms < ? LIMIT ?)",
    );
  }

  /** Stores one set (call inside the caller's transaction). */
  write(set: ValidProcessSet, receivedAtMs: number): void {
    const newest = this.newest.get(set.host) as { timestamp_ms: number } | undefined;
    const isNewest = newest === undefined || set.timestampMs >= newest.timestamp_ms;
    for (const p of set.processes) {
      const peak = Math.max(p.peakMemoryMib ?? 0, p.usedMemoryMib ?? 0);
      this.upsert.run({
        host: set.host,
        gpu_uuid: p.gpuUuid,
        mig_uuid: p.migUuid,
        pid: p.pid,
        start_ms: p.startMs,
        name: p.name,
        uid: p.uid,
        user: p.user,
        workload_kind: p.workloadKind,
        container_id: p.containerId,
        pod_uid: p.podUid,
        job_id: p.jobId,
        unit: p.unit,
        seen: set.timestampMs,
        memory: p.usedMemoryMib,
        peak: p.usedMemoryMib === null && p.peakMemoryMib === null ? null : peak,
        sm_sum: p.smPct ?? 0,
        sm_count: p.smPct === null ? 0 : 1,
        mem_sum: p.memPct ?? 0,
        mem_count: p.memPct === null ? 0 : 1,
        absent: p.absent.length === 0 ? NO_ABSENCES : JSON.stringify(p.absent),
        open: isNewest ? 1 : 0,
      });
    }
    if (!isNewest) return;
    // A truncated set does not list every process: it closes nothing.
    if (!set.truncated) this.closeAbsent.run(set.host, set.timestampMs);
    this.setNewest.run(set.host, set.bootId, set.seq, set.timestampMs, receivedAtMs);
  }

  query(q: ProcessQuery): ProcessRow[] {
    const w = where(q);
    const rows = this.prepared(
      `SELECT * FROM process_sessions ${w.sql} ORDER BY last_seen_ms DESC, id DESC LIMIT ?`,
    ).all(...w.params, q.limit) as Row[];
    return rows.map(toProcess);
  }

  private prepared(sql: string): Statement {
    let stmt = this.queries.get(sql);
    if (!stmt) {
      if (this.queries.size >= MAX_QUERY_SHAPES) this.queries.clear();
      stmt = this.db.prepare(sql);
      this.queries.set(sql, stmt);
    }
    return stmt;
  }

  /** The sessions running now (see CURRENT_WITHIN_MS), biggest memory first. */
  current(q: Omit<ProcessQuery, "currentSinceMs" | "fromMs" | "toMs"> & { nowMs: number }): ProcessRow[] {
    const { nowMs, ...rest } = q;
    return this.query({ ...rest, currentSinceMs: nowMs - CURRENT_WITHIN_MS }).sort(
      (a, b) => (b.memoryMib ?? 0) - (a.memoryMib ?? 0),
    );
  }

  /**
   * The hosts whose newest set is recent enough for its sessions to count as current: of the
   * others the collector cannot say what runs on their GPUs now.
   */
  reportingHosts(nowMs: number): Set<string> {
    return new Set(this.reportingSince.all(nowMs - CURRENT_WITHIN_MS) as string[]);
  }

  /**
   * Deletes at most `batch` sessions last seen before `beforeMs`; returns how many. Open ones too:
   * a host that went silent for good never sends the set that would close its sessions.
   */
  prune(beforeMs: number, batch: number): number {
    return this.pruneOld.run(beforeMs, batch).changes;
  }
}
