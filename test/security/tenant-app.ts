// The HTTP API over a flag harness's store and engine (health and processes included), with leases and tokens:
// what the tenant-scope tests ask as a tenant.
import type { FastifyInstance } from "fastify";
import { expect } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { StoreHealthBackend } from "../../collector/api/health-backend.js";
import { StoreProcessBackend } from "../../collector/api/process-backend.js";
import { buildApp } from "../../collector/api/server.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import { checkMessage } from "../../collector/ingest/check.js";
import { LeaseService } from "../../collector/leases/service.js";
import { silentLogger } from "../../shared/logger.js";
import { type IProcessRecord, ProcessSet, SCHEMA_VERSION } from "../../shared/proto.js";
import { topicFor } from "../../shared/topics.js";
import { type FlagHarness, HOST, MIN, T0, UUID } from "../collector/health/flag-harness.js";

export const HOUR = 60 * MIN;
/** acme's tenant token (tenantGet's default). */
export const ACME: Record<string, Principal> = {
  gputel_acme: { role: "tenant", tenant: "acme", actor: "t" },
};
/** What a later stay's piece adds to the flag's (or session's) id per stay (docs/leases.md). */
export const STAY_ID_STEP = 2 ** 32;
/** The harness's GPU as an inventory lists it. */
export const GPU = { index: 0, uuid: UUID, name: "NVIDIA H100 80GB HBM3" };
/** A MIG device of the harness's GPU. */
export const MIG = "MIG-00000000-0000-0000-0000-000000000000";
/** The harness's GPU in MIG mode, with MIG as one of its MIG devices. */
export const MIG_GPU = {
  ...GPU,
  mig_mode: true,
  mig_devices: [
    {
      uuid: MIG,
      device_index: 0,
      profile: "3g.40gb",
      gpu_instance_id: 1,
      compute_instance_id: 0,
      sm_count: 42,
      memory_total_mib: 40_192,
      memory_used_mib: 100,
    },
  ],
};

export function tenantApp(
  harness: FlagHarness,
  leases: LeaseService,
  now: () => number,
  adminToken: string,
  tenants: Record<string, Principal>,
): FastifyInstance {
  const backend = new StoreBackend({
    store: harness.store,
    flags: harness.engine,
    health: new StoreHealthBackend({ store: harness.store, flags: harness.engine, now }),
    processes: new StoreProcessBackend({ store: harness.store, flags: harness.engine, now }),
    now,
  });
  return buildApp(backend, adminToken, silentLogger(), undefined, { leases, tokens: (t) => tenants[t] });
}

/** A flag as the flag list shows it (the fields the tenant-scope tests read). */
export interface ShownFlag {
  id: number;
  kind: string;
  host: string;
  gpuUuid: string | null;
  startMs: number;
  endMs: number | null;
}

/** A flag as the flag list shows it, with its sentence and values (withheld or not). */
export interface DetailedFlag extends ShownFlag {
  reason: string;
  values: Record<string, unknown>;
}

/** A GPU's health timeline as the tenant-scope tests read it. */
export interface ShownTimeline {
  host: string;
  fromMs: number;
  toMs: number;
  events: { timeMs: number }[];
  flags: DetailedFlag[];
  stays: { fromMs: number; toMs: number; downOnly?: boolean }[];
  downtime: { fromMs: number; toMs: number; kinds: string[] }[];
  downtimeMs: number;
  acknowledgements: { flagId: number; atMs: number; note: string }[];
}

/** The harness's GPU's health timeline over `query` (from, to), asked with `token` (acme's by default). */
export async function timelineOf(
  app: FastifyInstance,
  query: string,
  token?: string,
): Promise<ShownTimeline> {
  return (await tenantGet(app, `/api/v1/gpus/${UUID}/health?${query}`, token)) as unknown as ShownTimeline;
}

/** GET `url` with `token` (acme's tenant token by default): answered 200, its JSON. */
export async function tenantGet(app: FastifyInstance, url: string, token = "gputel_acme") {
  const r = await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
  expect(r.statusCode).toBe(200);
  return JSON.parse(r.body) as Record<string, unknown>;
}

/** The down time acme's statement counts over the UTC month holding `atMs`. */
export async function statementDownMs(app: FastifyInstance, atMs: number): Promise<number> {
  const month = new Date(atMs).toISOString().slice(0, 7);
  const s = (await tenantGet(app, `/api/v1/reports/statement?month=${month}`)) as {
    total: { downMs: number };
  };
  return s.total.downMs;
}

/** One process set of the harness's host at `atMs`, through the collector's own check, into the store. */
export function storeProcessSet(
  harness: FlagHarness,
  seq: number,
  atMs: number,
  processes: IProcessRecord[],
): void {
  const payload = ProcessSet.encode({
    schema_version: SCHEMA_VERSION,
    host: HOST,
    boot_id: "b1",
    seq,
    timestamp_ms: atMs,
    processes,
  }).finish();
  const checked = checkMessage(topicFor(HOST, "processes"), payload, { username: undefined, nowMs: atMs });
  if (!checked.processes) throw new Error(JSON.stringify(checked.rejections));
  harness.store.writeProcesses(checked.processes, atMs);
}

/**
 * acme's two stays on the harness's GPU: leases over [1h, 2h) and from 3h (until `secondEnd`, 4h
 * by default, or open when null), globex's lease between them (times from T0).
 */
export function twoStays(harness: FlagHarness, now: () => number, secondEnd: number | null = T0 + 4 * HOUR) {
  const leases = new LeaseService(harness.store.leases, now);
  const lease = (id: string, tenant: string, fromMs: number, toMs: number | null) =>
    leases.create(
      { id, device: UUID, tenant, start: fromMs, ...(toMs !== null ? { end: toMs } : {}) },
      "test",
    );
  lease("acme-1", "acme", T0 + HOUR, T0 + 2 * HOUR);
  lease("globex-1", "globex", T0 + 2 * HOUR, T0 + 3 * HOUR);
  lease("acme-2", "acme", T0 + 3 * HOUR, secondEnd);
  return leases;
}
