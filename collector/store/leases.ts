// SQL for leases and their history (migration 050_leases.sql). Rows in, Lease objects out; the
// rules live in collector/leases/. Every statement is prepared once per open database.
import type { Database } from "better-sqlite3";
import type { Lease, LeaseSource } from "../leases/model.js";
import type { HistoryEntry, LeaseFilter, LeaseRecords } from "../leases/records.js";

const FAR = Number.MAX_SAFE_INTEGER;

/** The lease columns, in the order of every lease read's raw rows (toLease). */
const LEASE_COLUMNS =
  "id, device, gpu_uuid, tenant, start_ms, end_ms, contract, price_micros, currency, availability_milli, labels, source";
type LeaseTuple = [
  string,
  string,
  string,
  string,
  number,
  number | null,
  string | null,
  number | null,
  string | null,
  number | null,
  string,
  string,
];

/** Labels as stored; most leases have none, and parsing "{}" 20,000 times shows in a month's report. */
function labelsOf(json: string): Record<string, string> {
  return json === "{}" ? {} : (JSON.parse(json) as Record<string, string>);
}

/** A lease read's row (raw: an array, not an object per row, for the 20,000 leases of a month's statements). */
function toLease(r: LeaseTuple): Lease {
  return {
    id: r[0],
    device: r[1],
    gpu: r[2],
    tenant: r[3],
    startMs: r[4],
    endMs: r[5],
    contract: r[6],
    priceMicros: r[7],
    currency: r[8],
    availabilityMilli: r[9],
    labels: labelsOf(r[10]),
    source: r[11] as LeaseSource,
  };
}

function leaseStatements(db: Database) {
  const p = (sql: string) => db.prepare(sql);
  const raw = (sql: string) => db.prepare(sql).raw(true);
  return {
    get: raw(`SELECT ${LEASE_COLUMNS} FROM leases WHERE id = ?`),
    inForce: raw(
      `SELECT ${LEASE_COLUMNS} FROM leases WHERE device = ? AND start_ms <= ? ORDER BY start_ms DESC LIMIT 1`,
    ),
    onGpu: raw(
      `SELECT ${LEASE_COLUMNS} FROM leases WHERE gpu_uuid = ? AND start_ms < ? AND (end_ms IS NULL OR end_ms > ?)
        ORDER BY start_ms`,
    ),
    // One statement per filter shape, so each seeks its own index: a generic "@tenant IS NULL OR
    // tenant = @tenant" plans once for every shape and read every lease started before `to`.
    list: raw(
      `SELECT ${LEASE_COLUMNS} FROM leases WHERE start_ms < @to AND (end_ms IS NULL OR end_ms > @from)
       ORDER BY start_ms, id LIMIT @limit`,
    ),
    listTenant: raw(
      `SELECT ${LEASE_COLUMNS} FROM leases
       WHERE tenant = @tenant AND (@device IS NULL OR device = @device OR gpu_uuid = @device)
         AND start_ms < @to AND (end_ms IS NULL OR end_ms > @from)
       ORDER BY start_ms, id LIMIT @limit`,
    ),
    listDevice: raw(
      `SELECT ${LEASE_COLUMNS} FROM leases
       WHERE (device = @device OR gpu_uuid = @device)
         AND start_ms < @to AND (end_ms IS NULL OR end_ms > @from)
       ORDER BY start_ms, id LIMIT @limit`,
    ),
    insert: p(
      `INSERT INTO leases (id, device, gpu_uuid, tenant, start_ms, end_ms, contract, price_micros, currency,
         availability_milli, labels, source, created_ms, updated_ms)
       VALUES (@id, @device, @gpu, @tenant, @startMs, @endMs, @contract, @priceMicros, @currency,
         @availabilityMilli, @labels, @source, @now, @now)`,
    ),
    update: p(
      `UPDATE leases SET device = @device, gpu_uuid = @gpu, tenant = @tenant, start_ms = @startMs,
         end_ms = @endMs, contract = @contract, price_micros = @priceMicros, currency = @currency,
         availability_milli = @availabilityMilli, labels = @labels, updated_ms = @now
       WHERE id = @id`,
    ),
    delete: p("DELETE FROM leases WHERE id = ?"),
    history: p(
      "INSERT INTO lease_history (lease_id, at_ms, actor, action, before, after) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    historyOf: p("SELECT * FROM lease_history WHERE lease_id = ? ORDER BY id"),
    // NOCASE folds ASCII only, as tenant names are (TENANT_PATTERN); no index serves it, and
    // only `gputel token add` asks, once.
    tenantsNamed: p(
      "SELECT DISTINCT tenant FROM leases WHERE tenant = ? COLLATE NOCASE ORDER BY tenant",
    ).pluck(true),
    knownGpu: p("SELECT 1 FROM gpus WHERE uuid = ?").pluck(true),
    migParent: p(
      "SELECT g.uuid FROM mig_devices m JOIN gpus g ON g.id = m.gpu_id WHERE m.uuid = ? ORDER BY m.updated_ms DESC LIMIT 1",
    ).pluck(true),
  };
}

/** The lease tables (050_leases.sql); the rules are the LeaseService's (collector/leases/). */
export type { HistoryEntry, LeaseFilter };

export class LeaseStore implements LeaseRecords {
  private readonly s: ReturnType<typeof leaseStatements>;

  constructor(private readonly db: Database) {
    this.s = leaseStatements(db);
  }

  get(id: string): Lease | undefined {
    const row = this.s.get.get(id) as LeaseTuple | undefined;
    return row ? toLease(row) : undefined;
  }

  /** The lease in force on `device` at `atMs`, if any (one index seek). */
  inForce(device: string, atMs: number): Lease | undefined {
    const row = this.s.inForce.get(device, atMs) as LeaseTuple | undefined;
    if (!row) return undefined;
    const lease = toLease(row);
    return lease.endMs !== null && lease.endMs <= atMs ? undefined : lease;
  }

  /** Leases on `gpu` (whole or its MIG devices) overlapping [fromMs, toMs); toMs null: open. */
  onGpu(gpu: string, fromMs: number, toMs: number | null): Lease[] {
    return (this.s.onGpu.all(gpu, toMs ?? FAR, fromMs) as LeaseTuple[]).map(toLease);
  }

  list(filter: LeaseFilter): Lease[] {
    const stmt =
      filter.tenant !== undefined
        ? this.s.listTenant
        : filter.device !== undefined
          ? this.s.listDevice
          : this.s.list;
    const params = { from: filter.fromMs ?? -FAR, to: filter.toMs ?? FAR, limit: filter.limit };
    const rows = stmt.all(
      filter.tenant !== undefined
        ? { ...params, tenant: filter.tenant, device: filter.device ?? null }
        : filter.device !== undefined
          ? { ...params, device: filter.device }
          : params,
    ) as LeaseTuple[];
    return rows.map(toLease);
  }

  insert(lease: Lease, nowMs: number): void {
    this.s.insert.run({ ...lease, labels: JSON.stringify(lease.labels), now: nowMs });
  }

  update(lease: Lease, nowMs: number): void {
    this.s.update.run({ ...lease, labels: JSON.stringify(lease.labels), now: nowMs });
  }

  delete(id: string): void {
    this.s.delete.run(id);
  }

  /** The tenants any lease names that are `name` up to ASCII case (the exact one among them if any). */
  tenantsNamed(name: string): string[] {
    return this.s.tenantsNamed.all(name) as string[];
  }

  record(
    leaseId: string,
    atMs: number,
    actor: string,
    action: string,
    before: Lease | null,
    after: Lease | null,
  ): void {
    const json = (l: Lease | null) => (l === null ? null : JSON.stringify(l));
    this.s.history.run(leaseId, atMs, actor, action, json(before), json(after));
  }

  history(leaseId: string): HistoryEntry[] {
    const rows = this.s.historyOf.all(leaseId) as {
      id: number;
      lease_id: string;
      at_ms: number;
      actor: string;
      action: string;
      before: string | null;
      after: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      leaseId: r.lease_id,
      atMs: r.at_ms,
      actor: r.actor,
      action: r.action,
      before: r.before === null ? null : (JSON.parse(r.before) as Lease),
      after: r.after === null ? null : (JSON.parse(r.after) as Lease),
    }));
  }

  /** A GPU UUID this collector has stored. */
  knownGpu(uuid: string): boolean {
    return this.s.knownGpu.get(uuid) !== undefined;
  }

  migParent(migUuid: string): string | undefined {
    return this.s.migParent.get(migUuid) as string | undefined;
  }

  /**
   * Runs fn in one transaction: all of it is written, or nothing. The write lock is taken first
   * (BEGIN IMMEDIATE), so a lock another process holds is met before anything is read or written.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
