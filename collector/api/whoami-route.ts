// GET /api/v1/whoami: the role of the token presented (and a tenant token's tenant), so a client
// such as the dashboard can leave out the routes its role is refused (403) instead of asking
// them to find out. Every role may ask it (access "tenant", the least); it names no token id or
// actor. Without a token on a loopback bind the local operator is admin, as access.ts decides.
import type { FastifyInstance } from "fastify";
import { query } from "./schemas.js";

// No parameters: an unknown one answers 400, as on every route.
const schema = { querystring: query({}) } as const;

export interface WhoamiAnswer {
  role: "admin" | "viewer" | "tenant";
  /** The tenant a `tenant:NAME` token speaks for; null for admin and viewer. */
  tenant: string | null;
}

export function registerWhoamiRoute(app: FastifyInstance): void {
  app.get("/api/v1/whoami", { schema, config: { access: "tenant" } }, async (req): Promise<WhoamiAnswer> => {
    const p = req.principal;
    // The access hook sets a principal on every private route; none here would be a bug there.
    if (!p) throw new Error("whoami without a principal");
    return { role: p.role, tenant: p.role === "tenant" ? (p.tenant ?? null) : null };
  });
}
