// Roles on routes: which routes answer which role, taken from the app's own route table, so a
// new route is closed to tenants (default viewer) unless it is scoped on purpose; and the
// principal each kind of presented token gets.
import { describe, expect, test } from "vitest";
import { authenticate, type Principal, roleAllows, routeAccess } from "../../collector/api/access.js";
import { buildApp } from "../../collector/api/server.js";
import { silentLogger } from "../../shared/logger.js";

const TOKEN = "roles-test-token-0123456789";

test("tenant routes are exactly the scoped ones; admin routes exactly the lease changes and flag acknowledgements (a peer's too)", async () => {
  const app = buildApp({} as never, TOKEN, silentLogger());
  await app.ready();
  const table = routeAccess(app).filter((r) => !r.public && r.method !== "HEAD");
  const by = (level: string) =>
    table
      .filter((r) => r.access === level)
      .map((r) => `${r.method} ${r.url}`)
      .sort();
  expect(by("tenant")).toEqual([
    "GET /api/v1/events",
    "GET /api/v1/flags",
    "GET /api/v1/fleet/cells",
    "GET /api/v1/gpus",
    "GET /api/v1/gpus/:id",
    "GET /api/v1/gpus/:id/health",
    "GET /api/v1/gpus/:id/processes",
    "GET /api/v1/gpus/:id/series",
    "GET /api/v1/processes",
    "GET /api/v1/reports/:kind",
    "GET /api/v1/reports/leases",
    "GET /api/v1/reports/processes",
    "GET /api/v1/reports/statement",
    "GET /api/v1/summary",
    "GET /api/v1/tenants",
    "GET /api/v1/whoami",
  ]);
  expect(by("viewer")).toContain("GET /api/v1/reports/health");
  expect(by("viewer")).toContain("GET /api/v1/hosts");
  expect(by("admin")).toEqual([
    "DELETE /api/v1/leases/:id",
    "PATCH /api/v1/leases/:id",
    "POST /api/v1/fanout/ack",
    "POST /api/v1/flags/:id/ack",
    "POST /api/v1/leases",
    "POST /api/v1/leases/:id/end",
    "POST /api/v1/leases/import",
  ]);
  expect(by("viewer")).toContain("GET /metrics");
  expect(by("viewer")).toContain("GET /api/v1/leases");
  await app.close();
});

describe("authenticate", () => {
  const tenant: Principal = { role: "tenant", tenant: "acme", actor: "token:t1" };
  const lookup = (t: string) => (t === "gputel_acme" ? tenant : undefined);
  const req = (authorization?: string, host = "127.0.0.1:8080") => ({ isPublic: false, host, authorization });

  test("with http.token: it is admin, a stored token its role, anything else unauthorized", () => {
    const policy = { token: TOKEN, allowedHosts: [], tokens: lookup };
    expect(authenticate(req(`Bearer ${TOKEN}`), policy)).toMatchObject({
      role: "admin",
      actor: "http.token",
    });
    expect(authenticate(req("Bearer gputel_acme"), policy)).toEqual(tenant);
    expect(authenticate(req("Bearer gputel_other"), policy)).toBe("unauthorized");
    expect(authenticate(req(), policy)).toBe("unauthorized");
  });

  test("loopback without http.token: the local operator is admin; a stored token keeps its role", () => {
    const policy = { token: undefined, allowedHosts: [], tokens: lookup };
    expect(authenticate(req(), policy)).toMatchObject({ role: "admin", actor: "loopback" });
    expect(authenticate(req("Bearer gputel_acme"), policy)).toEqual(tenant);
    expect(authenticate(req(undefined, "evil.example"), policy)).toBe("host_not_allowed");
  });

  test("admin > viewer > tenant", () => {
    const p = (role: Principal["role"]): Principal => ({ role, actor: "x" });
    const grid = (["admin", "viewer", "tenant"] as const).map((r) =>
      (["admin", "viewer", "tenant"] as const).map((level) => roleAllows(p(r), level)),
    );
    expect(grid).toEqual([
      [true, true, true],
      [false, true, true],
      [false, false, true],
    ]);
  });
});
