// Who may use which route. Decided per request on the route the router matched (its
// `config.public`), never on the raw URL: the router decodes percent-encodings before matching,
// so a check on `req.url` can be walked around (`/%61pi/v1/hosts`). Every route is private
// unless it says `config: { public: true }` (only the dashboard's static files do); a request
// that matches no route is private too, so nothing is answered to an unauthenticated caller
// but the 401 itself.
// Without a token (loopback only), the Host header must name this machine or a configured name,
// so a web page cannot read the API by rebinding its own DNS name to 127.0.0.1, and a request that
// changes state must not come from a page of another origin (cross-origin.ts).
// Roles: the bearer token names a principal (http.token: admin; a stored token: its role). A
// private route declares the least role it needs in `config.access` (default "viewer": read
// only); "admin" routes change things; "tenant" routes also answer tenant tokens, scoped by
// the handler to the tenant's own leases. A role short of the route's answers 403.
import type { FastifyInstance } from "fastify";
import { bearerMatches, bearerOf, isLoopbackHost } from "./auth.js";
import { isCrossOriginChange } from "./cross-origin.js";

/** Who is asking: a role, the tenant for tenant tokens, and a name for history rows. */
export interface Principal {
  role: "admin" | "viewer" | "tenant";
  tenant?: string;
  actor: string;
}

/** The least role a route needs. */
export type RouteAccessLevel = "admin" | "viewer" | "tenant";

/** Finds the stored token a presented bearer token is (undefined: none, or revoked). */
export type TokenLookup = (token: string) => Principal | undefined;

declare module "fastify" {
  interface FastifyContextConfig {
    /** Served without the bearer token (holds no data). Routes are private unless this is true. */
    public?: boolean;
    /** The least role a private route needs (default "viewer"). */
    access?: RouteAccessLevel;
  }
  interface FastifyRequest {
    /** Set by the access hook on private routes; null on public ones. */
    principal: Principal | null;
  }
}

/** The route option that makes a route public. */
export const PUBLIC_ROUTE = { config: { public: true } } as const;

export interface AccessPolicy {
  /** The bearer token; undefined only on a loopback bind (createApiServer refuses otherwise). */
  token: string | undefined;
  /** Host names accepted in the Host header besides loopback ones when there is no token. */
  allowedHosts: readonly string[];
  /** Stored role tokens (`gputel token add`); without it only `token` is known. */
  tokens?: TokenLookup;
}

export interface AccessRequest {
  isPublic: boolean;
  authorization: string | undefined;
  host: string | undefined;
}

export type AccessDecision = "allow" | "unauthorized" | "host_not_allowed";

const ADMIN: Principal = { role: "admin", actor: "http.token" };
const LOCAL: Principal = { role: "admin", actor: "loopback" };

/**
 * Who the request is, or why it is refused. Without a configured token (loopback only) the
 * single local operator is admin, unless a stored role token is presented: then its role holds.
 */
export function authenticate(
  req: AccessRequest,
  policy: AccessPolicy,
): Principal | "unauthorized" | "host_not_allowed" {
  const bearer = bearerOf(req.authorization);
  const stored = bearer !== undefined ? policy.tokens?.(bearer) : undefined;
  if (policy.token === undefined) {
    if (!hostAllowed(req.host, policy.allowedHosts)) return "host_not_allowed";
    return stored ?? LOCAL;
  }
  if (bearerMatches(req.authorization, policy.token)) return ADMIN;
  return stored ?? "unauthorized";
}

/** Whether a principal's role reaches a route's level: admin > viewer > tenant. */
export function roleAllows(principal: Principal, level: RouteAccessLevel): boolean {
  if (principal.role === "admin") return true;
  if (principal.role === "viewer") return level !== "admin";
  return level === "tenant";
}

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
  /** The least role it needs (private routes). */
  access: RouteAccessLevel;
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
      table.push({
        method,
        url: route.url,
        public: route.config?.public === true,
        access: route.config?.access ?? "viewer",
      });
  });
  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (req, reply) => {
    const config = req.routeOptions.config;
    const request = {
      isPublic: config?.public === true,
      authorization: req.headers.authorization,
      host: req.headers.host,
    };
    if (decideAccess(request, policy) === "allow" && request.isPublic) return;
    const who = authenticate(request, policy);
    if (who === LOCAL && isCrossOriginChange(req.method, req.headers.origin, req.headers.host)) {
      // The only credential here is being local, which a page on another origin shares.
      reply.code(403).send({
        error: "cross_origin",
        message:
          "without a token, a request that changes state is refused from a page of another origin (Origin header)",
      });
      return reply;
    }
    if (typeof who === "object") {
      const level = config?.access ?? "viewer";
      if (roleAllows(who, level)) {
        req.principal = who;
        return;
      }
      reply.code(403).send({
        error: "forbidden",
        message: `this route needs the ${level} role; the token's role is ${who.role === "tenant" ? `tenant:${who.tenant}` : who.role}`,
      });
      return reply;
    }
    if (who === "unauthorized") {
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
