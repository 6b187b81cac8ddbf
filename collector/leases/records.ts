// What the lease service needs of storage (collector/store/leases.ts implements it), so that
// collector/leases/ depends on no storage module and storage may use the lease types.
import type { Lease } from "./model.js";

export interface LeaseFilter {
  tenant?: string;
  /** Leases of this device, or of the MIG devices of this GPU. */
  device?: string;
  /** Leases overlapping [fromMs, toMs); an instant t is [t, t + 1). */
  fromMs?: number;
  toMs?: number;
  limit: number;
}

export interface HistoryEntry {
  id: number;
  leaseId: string;
  atMs: number;
  actor: string;
  action: string;
  before: Lease | null;
  after: Lease | null;
}

export interface LeaseRecords {
  get(id: string): Lease | undefined;
  inForce(device: string, atMs: number): Lease | undefined;
  onGpu(gpu: string, fromMs: number, toMs: number | null): Lease[];
  list(filter: LeaseFilter): Lease[];
  insert(lease: Lease, nowMs: number): void;
  update(lease: Lease, nowMs: number): void;
  delete(id: string): void;
  record(
    leaseId: string,
    atMs: number,
    actor: string,
    action: string,
    before: Lease | null,
    after: Lease | null,
  ): void;
  history(leaseId: string): HistoryEntry[];
  knownGpu(uuid: string): boolean;
  /** The GPU a recorded MIG device (MIG-…) is on, from the latest inventories; undefined when none. */
  migParent(migUuid: string): string | undefined;
  /** Runs fn in one transaction: all of it is written, or nothing. */
  transaction<T>(fn: () => T): T;
}
