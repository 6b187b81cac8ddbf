// GET /api/v1/tenants: the dashboard's tenants view (tenants-view.ts). A tenant token gets its
// own row only; an admin or viewer every tenant's, or one with `?tenant=`. With http.peers, every
// collector's leases, GPUs and lease line parts merged (fanout-tenants.ts), with `peers`; a
// tenant's scope goes to the peers as `tenant=`.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { LeaseService } from "../leases/service.js";
import { ApiError } from "../request/errors.js";
import type { QueryBackend } from "./backend.js";
import { type FanOutContext, fanFor } from "./fanout.js";
import { fanTenantsView } from "./fanout-tenants.js";
import { tenantsView } from "./tenants-view.js";

const schema = {
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      tenant: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" },
    },
  },
} as const;

export function registerTenantRoutes(
  app: FastifyInstance,
  backend: QueryBackend,
  leases: LeaseService | undefined,
  fanout: FanOutContext | undefined,
): void {
  app.get<{ Querystring: { tenant?: string } }>(
    "/api/v1/tenants",
    { schema, config: { access: "tenant" } },
    async (req: FastifyRequest<{ Querystring: { tenant?: string } }>) => {
      if (!leases) throw new ApiError(501, "not_implemented", undefined, "no lease store here");
      const p = req.principal;
      const only = p?.role === "tenant" ? p.tenant : req.query.tenant;
      const ctx = fanFor(fanout, req);
      return ctx ? fanTenantsView(ctx, backend, leases, only) : tenantsView(backend, leases, only);
    },
  );
}
