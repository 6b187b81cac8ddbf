// GET /api/v1/tenants: the dashboard's tenants view (tenants-view.ts). A tenant token gets its
// own row only; an admin or viewer every tenant's, or one with `?tenant=`. This collector's
// leases and GPUs only: with http.peers the answer says "local only" rather than pass it off
// as the fleet's.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FANOUT_HEADER } from "../fanout/fan-out.js";
import type { LeaseService } from "../leases/service.js";
import { ApiError } from "../request/errors.js";
import type { QueryBackend } from "./backend.js";
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
  peers: readonly string[],
): void {
  app.get<{ Querystring: { tenant?: string } }>(
    "/api/v1/tenants",
    { schema, config: { access: "tenant" } },
    async (req: FastifyRequest<{ Querystring: { tenant?: string } }>) => {
      if (!leases) throw new ApiError(501, "not_implemented", undefined, "no lease store here");
      const p = req.principal;
      const only = p?.role === "tenant" ? p.tenant : req.query.tenant;
      const view = await tenantsView(backend, leases, only);
      const fanned = peers.length > 0 && req.headers[FANOUT_HEADER] === undefined;
      return fanned ? { ...view, fanout: "local only" } : view;
    },
  );
}
