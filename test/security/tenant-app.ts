// The HTTP API over a flag harness's store and engine (health included), with leases and tokens:
// what the tenant-scope tests ask as a tenant.
import type { FastifyInstance } from "fastify";
import { expect } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { StoreHealthBackend } from "../../collector/api/health-backend.js";
import { buildApp } from "../../collector/api/server.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import type { LeaseService } from "../../collector/leases/service.js";
import { silentLogger } from "../../shared/logger.js";
import type { FlagHarness } from "../collector/health/flag-harness.js";

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
