// Who may use which route. Decided per request on the route the router matched (its
// `config.public`), never on the raw URL: the router decodes percent-encodings before matching,
// so a check on `req.url` can be walked around (`/%61pi/v1/hosts`). Every route is private
// unless it says `config: { public: true }` (only the dashboard's static files do); a request
// that matches no route is private too, so nothing is answered to an unauthenticated caller
// but the 401 itself.
// Without a token (loopback only), the Host header must name this machine or a configured name,
// so a web page cannot read the API by rebinding its own DNS name to 127.0.0.1.
import type { FastifyInstance } from "fastify";
import { bearerMatches, isLoopbackHost } from "./auth.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Served without the bearer token (holds no data). Routes are private unless this is true. */
    public?: boolean;
  }
}

/** The route option that makes a route public. */
export const PUBLIC_ROUTE = { config: { public: true } } as const;

export interface AccessPolicy {
  /** The bearer token; undefined only on a loopback bind (createApiServer refuses otherwise). */
  token: string | undefined;
  /** Host names accepted in the Host header besides loopback ones when there is no token. */
  allowedHosts: readonly string[];
}

export interface AccessRequest {
  isPublic: boolean;
  authorization: string | undefined;
  host: string | undefined;
}

export type AccessDecision = "allow" | "unauthorized" | "host_not_allowed";

/** The name part of a Host header, lower-cased: "[::1]:8080" → "[::1]", "Example.org." → "example.org". */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  const name = h.startsWith("[") ? h.slice(0, h.indexOf("]") + 1) : h.replace(/:\d*$/, "");
  return name.replace(/\.$/, "");
}

export function hostAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  if (header === undefined || header === "") return false;
  const name = hostName(header);
  if (name === "") return false;
  if (isLoopbackHost(name)) return true;
  return allowed.some((a) => {
    const n = a.toLowerCase().replace(/\.$/, "");
    return n === name || `[${n}]` === name;
  });
}

export function decideAccess(req: AccessRequest, policy: AccessPolicy): AccessDecision {
  if (policy.token === undefined)
    return hostAllowed(req.host, policy.allowedHosts) ? "allow" : "host_not_allowed";
  if (req.isPublic) return "allow";
  return bearerMatches(req.authorization, policy.token) ? "allow" : "unauthorized";
}

export interface RouteAccess {
  method: string;
  url: string;
  public: boolean;
}

const routeTables = new WeakMap<FastifyInstance, RouteAccess[]>();

/** Every route registered after installAccessControl, with its access (tests walk them all). */
export function routeAccess(app: FastifyInstance): readonly RouteAccess[] {
  return routeTables.get(app) ?? [];
}

/** Call before any route is registered. */
export function installAccessControl(app: FastifyInstance, policy: AccessPolicy): void {
  const table: RouteAccess[] = [];
  routeTables.set(app, table);
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods)
      table.push({ method, url: route.url, public: route.config?.public === true });
  });
  app.addHook("onRequest", async (req, reply) => {
    const decision = decideAccess(
      {
        isPublic: req.routeOptions.config?.public === true,
        authorization: req.headers.authorization,
        host: req.headers.host,
      },
      policy,
    );
    if (decision === "allow") return;
    if (decision === "unauthorized") {
      reply.code(401).header("www-authenticate", 'Bearer realm="gputel"').send({
        error: "unauthorized",
        message: "a valid `Authorization: Bearer <token>` header is required",
      });
    } else {
      reply.code(403).send({
        error: "host_not_allowed",
        message:
          "the Host header names neither this machine nor one of http.allowed_hosts (without a token the API answers only loopback names)",
      });
    }
    return reply;
  });
}
