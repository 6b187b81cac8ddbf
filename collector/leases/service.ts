// Lease operations as the API, the import and the label watcher use them: fields are read and
// checked (model.ts), the rules applied at the service's clock (rules.ts), and each operation is
// written with its history row in one transaction, so nothing is ever half-written.
import { randomBytes } from "node:crypto";
import { ApiError, badParam } from "../request/errors.js";
import { LeaseError, leaseNotFound, unknownDevice } from "./errors.js";
import { parseInstant } from "./instant.js";
import { checkNewLease, type Lease, type LeaseSource, notText, readLeaseFields } from "./model.js";
import type { LeaseFilter, LeaseRecords } from "./records.js";
import { assertNoConflict, checkDelete, planEdit, planEnd } from "./rules.js";

export interface ImportRecord {
  /** Where the record starts in its file (1-based), for error messages. */
  line: number;
  fields: Record<string, unknown>;
}

export interface ImportResult {
  created: string[];
  updated: string[];
  unchanged: string[];
}

export class LeaseService {
  constructor(
    private readonly store: LeaseRecords,
    readonly now: () => number = Date.now,
    /**
     * Runs each write transaction: the API's runs it with a short wait for another process's
     * lock (Store.shortWait), so a locked database answers 503 store_busy instead of stalling.
     */
    private readonly writes: <T>(fn: () => T) => T = (fn) => fn(),
  ) {}

  /** fn in one transaction, run by `writes`. */
  private write<T>(fn: () => T): T {
    return this.writes(() => this.store.transaction(fn));
  }

  get(id: string): Lease {
    const lease = this.store.get(id);
    if (!lease) throw leaseNotFound(id);
    return lease;
  }

  list(filter: LeaseFilter): Lease[] {
    return this.store.list(filter);
  }

  history(id: string) {
    this.get(id);
    return this.store.history(id);
  }

  /** Runs fn in one transaction (service calls inside it join it). */
  transaction<T>(fn: () => T): T {
    return this.write(fn);
  }

  /** The lease in force on a device at a time (reports, tenant scope, the label watcher). */
  inForce(device: string, atMs: number): Lease | undefined {
    return this.store.inForce(device, atMs);
  }

  create(raw: Record<string, unknown>, actor: string, source: LeaseSource = "api"): Lease {
    return this.write(() => this.createIn(raw, actor, source, this.now()));
  }

  edit(id: string, raw: Record<string, unknown>, actor: string): Lease {
    return this.write(() => this.editIn(this.get(id), raw, actor, this.now()).lease);
  }

  end(id: string, at: unknown, actor: string, nowMs = this.now()): Lease {
    return this.write(() => {
      const before = this.get(id);
      const atMs = at === undefined ? nowMs : parseInstant("end", at, nowMs);
      const after = planEnd(before, atMs, nowMs);
      // An end later than the lease's current one extends it, possibly over the next lease.
      assertNoConflict(after, this.store.onGpu(after.gpu, after.startMs, after.endMs));
      this.store.update(after, nowMs);
      this.store.record(id, nowMs, actor, "end", before, after);
      return after;
    });
  }

  remove(id: string, actor: string): void {
    this.write(() => {
      const nowMs = this.now();
      const before = this.get(id);
      checkDelete(before, nowMs);
      this.store.delete(id);
      this.store.record(id, nowMs, actor, "delete", before, null);
    });
  }

  /**
   * All records or none: each is created, or (its id exists) edited by the same rules as PATCH;
   * a record equal to the stored lease changes nothing, so importing a file twice is a no-op.
   * An error names the record's line and field.
   */
  importAll(records: readonly ImportRecord[], actor: string): ImportResult {
    const result: ImportResult = { created: [], updated: [], unchanged: [] };
    const nowMs = this.now();
    const seen = new Map<string, number>();
    this.write(() => {
      for (const { line, fields } of records) {
        try {
          const id = fields.id;
          if (id === undefined || id === null || id === "")
            throw badParam("id", "is required in an import (it makes re-imports idempotent)");
          // Given, but not text (`"id": 1001`): said so, not that it is missing.
          if (typeof id !== "string") throw notText("id", id);
          const first = seen.get(id);
          if (first !== undefined)
            throw badParam("id", `${JSON.stringify(id)} is already used on line ${first}`);
          seen.set(id, line);
          const existing = this.store.get(id);
          if (!existing) {
            this.createIn(fields, actor, "import", nowMs);
            result.created.push(id);
          } else {
            const { changed } = this.editIn(existing, fields, actor, nowMs);
            (changed ? result.updated : result.unchanged).push(id);
          }
        } catch (error) {
          throw error instanceof ApiError ? atLine(error, line) : error;
        }
      }
    });
    return result;
  }

  private createIn(raw: Record<string, unknown>, actor: string, source: LeaseSource, nowMs: number): Lease {
    const f = readLeaseFields(raw, nowMs);
    checkNewLease(f);
    const id = f.id ?? `L-${randomBytes(6).toString("hex")}`;
    if (this.store.get(id))
      throw new LeaseError(409, "lease_exists", "id", `a lease ${JSON.stringify(id)} exists already`);
    const device = f.device as string;
    const lease: Lease = {
      id,
      device,
      gpu: this.resolveGpu(device),
      tenant: f.tenant as string,
      startMs: f.startMs as number,
      endMs: f.endMs ?? null,
      contract: f.contract ?? null,
      priceMicros: f.priceMicros ?? null,
      currency: f.currency ?? null,
      availabilityMilli: f.availabilityMilli ?? null,
      labels: f.labels ?? {},
      source,
    };
    assertNoConflict(lease, this.store.onGpu(lease.gpu, lease.startMs, lease.endMs));
    this.store.insert(lease, nowMs);
    this.store.record(id, nowMs, actor, "create", null, lease);
    return lease;
  }

  private editIn(
    before: Lease,
    raw: Record<string, unknown>,
    actor: string,
    nowMs: number,
  ): { lease: Lease; changed: boolean } {
    const f = readLeaseFields(raw, nowMs);
    const after = planEdit(before, f, nowMs);
    if (after.device !== before.device) after.gpu = this.resolveGpu(after.device);
    if (JSON.stringify(after) === JSON.stringify(before)) return { lease: before, changed: false };
    assertNoConflict(after, this.store.onGpu(after.gpu, after.startMs, after.endMs));
    this.store.update(after, nowMs);
    this.store.record(before.id, nowMs, actor, "edit", before, after);
    return { lease: after, changed: true };
  }

  /**
   * The GPU a device is on. A whole GPU must have reported to this collector; a MIG device must be
   * in its GPU's latest inventory (mig_devices), and is on that GPU.
   */
  private resolveGpu(device: string): string {
    if (device.startsWith("GPU-") && this.store.knownGpu(device)) return device;
    const parent = device.startsWith("MIG-") ? this.store.migParent(device) : undefined;
    if (parent !== undefined) return parent;
    throw unknownDevice(device);
  }
}

/** The same error with the import line in its message and body. */
function atLine(e: ApiError, line: number): LeaseError {
  const where = e.parameter !== undefined ? `line ${line}, field ${e.parameter}` : `line ${line}`;
  return new LeaseError(e.statusCode, e.error, e.parameter, `${where}: ${e.message}`, { ...e.extra, line });
}
