// The HTTP API over a flag harness's store and engine (health included), with leases and tokens:
// what the tenant-scope tests ask as a tenant.
import type { FastifyInstance } from "fastify";
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
