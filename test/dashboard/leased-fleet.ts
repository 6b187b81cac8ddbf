// A fleet fixture (real store, real flag engine) served by the real API with leases and stored
// tokens, for the dashboard's tenant tests: the caller adds the leases, and gets a tenant token.
import { createApiServer } from "../../collector/api/server.js";
import { newToken, storedTokenLookup } from "../../collector/api/tokens.js";
import { LeaseService } from "../../collector/leases/service.js";
import { silentLogger } from "../../shared/logger.js";
import { buildFleet, type FleetFixture } from "../api/fleet-fixture.js";

export interface LeasedFleet {
  fleet: FleetFixture;
  url: string;
  /** A stored `tenant:NAME` token for `tenant`. */
  tokenFor(tenant: string): string;
  /** A stored token with `role` (`admin`, `viewer` or `tenant:NAME`). */
  tokenWithRole(role: string): string;
  close(): Promise<void>;
}

export async function startLeasedFleet(options: {
  hours: number;
  /** The collector's own http.token (admin). */
  admin: string;
  lease(service: LeaseService, nowMs: number): void;
}): Promise<LeasedFleet> {
  const fleet = buildFleet({ hours: options.hours });
  const leases = new LeaseService(fleet.store.leases, () => fleet.nowMs);
  options.lease(leases, fleet.nowMs);
  const server = createApiServer({
    backend: fleet.backend,
    listen: { host: "127.0.0.1", port: 0 },
    token: options.admin,
    logger: silentLogger(),
    leases,
    tokens: storedTokenLookup(fleet.store.tokens),
  });
  const url = `http://127.0.0.1:${(await server.start()).port}`;
  const tokenWithRole = (role: string) => {
    const t = newToken();
    fleet.store.tokens.insert(t.id, role, t.digest, "", fleet.nowMs);
    return t.token;
  };
  return {
    fleet,
    url,
    tokenFor: (tenant) => tokenWithRole(`tenant:${tenant}`),
    tokenWithRole,
    async close() {
      await server.stop();
      fleet.close();
    },
  };
}
