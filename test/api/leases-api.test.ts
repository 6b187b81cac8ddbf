// /api/v1/leases on a real collector (embedded broker, SQLite file, HTTP on a loopback port):
// create, list with filters, get with history, edit, end, delete, import; bad input answers
// 400/404/409 with a JSON body naming the field and writes nothing; roles gate each route.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { newToken } from "../../collector/api/tokens.js";
import { frameFor } from "../collector/leases/store-helpers.js";
import { startTestCollector, type TestCollector } from "../security/collector-helpers.js";

const TOKEN = "leases-admin-token-0123456789";
const G1 = "GPU-11111111-2222-3333-4444-555555555555";
const G2 = "GPU-66666666-2222-3333-4444-555555555555";
const H = 3_600_000;
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

let c: TestCollector;
const tokens: Record<string, string> = {};

async function call(method: string, path: string, body?: unknown, token = TOKEN) {
  const response = await fetch(`${c.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const json = (response.headers.get("content-type") ?? "").includes("json");
  return { status: response.status, body: json ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

beforeAll(async () => {
  c = await startTestCollector({ token: TOKEN });
  c.running.store.writeFrames([frameFor("host-a", [G1, G2], NOW - 20 * H)], NOW);
  for (const role of ["viewer", "tenant:acme"]) {
    const t = newToken();
    c.running.store.tokens.insert(t.id, role, t.digest, "", NOW);
    tokens[role] = t.token;
  }
});
afterAll(async () => {
  await c?.close();
});

describe("lease administration", () => {
  test("create, get with history, list by tenant, device, time", async () => {
    const a = await call("POST", "/api/v1/leases", {
      id: "acme-1",
      device: G1,
      tenant: "acme",
      start: iso(NOW - 10 * H),
      end: iso(NOW - 5 * H),
      pricePerGpuHour: 2.5,
      currency: "EUR",
      committedAvailabilityPct: 99.5,
      labels: { contract_tier: "gold" },
    });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ id: "acme-1", state: "ended", pricePerGpuHour: 2.5, currency: "EUR" });
    expect(
      (
        await call("POST", "/api/v1/leases", {
          id: "globex-1",
          device: G1,
          tenant: "globex",
          start: iso(NOW - 5 * H),
        })
      ).status,
    ).toBe(201);
    const got = await call("GET", "/api/v1/leases/acme-1");
    expect(got.body.history).toMatchObject([{ action: "create", actor: "http.token", before: null }]);
    const ids = async (q: string) =>
      ((await call("GET", `/api/v1/leases${q}`)).body.leases as { id: string }[]).map((l) => l.id);
    expect(await ids("?tenant=acme")).toEqual(["acme-1"]);
    expect(await ids(`?device=${G1}&at=${NOW - 6 * H}`)).toEqual(["acme-1"]);
    expect(await ids(`?at=${iso(NOW)}`)).toEqual(["globex-1"]);
    expect(await ids(`?from=${iso(NOW - 6 * H)}&to=${iso(NOW - 4 * H)}`)).toEqual(["acme-1", "globex-1"]);
  });

  test("bad input: status and field, nothing written", async () => {
    const base = { device: G2, tenant: "acme", start: iso(NOW + H) };
    const cases: [unknown, number, string, string][] = [
      [{ ...base, device: G1, start: iso(NOW) }, 409, "device", "lease_conflict"],
      [{ ...base, device: "GPU-00000000-dead" }, 404, "device", "unknown_device"],
      [{ ...base, end: iso(NOW) }, 400, "end", "bad_request"],
      [{ ...base, pricePerGpuHour: -2, currency: "EUR" }, 400, "pricePerGpuHour", "bad_request"],
      [{ ...base, pricePerGpuHour: 2, currency: "EURO" }, 400, "currency", "bad_request"],
      [{ ...base, id: "acme-1" }, 409, "id", "lease_exists"],
    ];
    for (const [body, status, parameter, error] of cases) {
      const r = await call("POST", "/api/v1/leases", body);
      expect({ status: r.status, parameter: r.body.parameter, error: r.body.error }).toEqual({
        status,
        parameter,
        error,
      });
      expect(typeof r.body.message).toBe("string");
    }
    const conflict = await call("POST", "/api/v1/leases", { ...base, device: G1, start: iso(NOW) });
    expect(conflict.body.conflict).toBe("globex-1");
    expect(((await call("GET", `/api/v1/leases?device=${G2}`)).body.leases as unknown[]).length).toBe(0);
    expect((await call("GET", "/api/v1/leases/nope")).status).toBe(404);
  });

  test("edit future fields, end, delete only before the start", async () => {
    const s = await call("POST", "/api/v1/leases", {
      id: "g2-next",
      device: G2,
      tenant: "acme",
      start: iso(NOW + 2 * H),
    });
    expect(s.status).toBe(201);
    const p = await call("PATCH", "/api/v1/leases/g2-next", {
      tenant: "initech",
      pricePerGpuHour: "1.25",
      currency: "USD",
    });
    expect(p.body).toMatchObject({ tenant: "initech", pricePerGpuHour: 1.25, state: "scheduled" });
    const locked = await call("PATCH", "/api/v1/leases/globex-1", { tenant: "acme" });
    expect([locked.status, locked.body.parameter, locked.body.error]).toEqual([
      409,
      "tenant",
      "lease_locked",
    ]);
    const past = await call("POST", "/api/v1/leases/globex-1/end", { at: iso(NOW - H) });
    expect([past.status, past.body.parameter]).toEqual([409, "end"]);
    const ended = await call("POST", "/api/v1/leases/globex-1/end", {});
    expect(ended.status).toBe(200);
    expect(ended.body.endMs as number).toBeGreaterThanOrEqual(NOW);
    expect((await call("DELETE", "/api/v1/leases/globex-1")).status).toBe(409);
    expect((await call("DELETE", "/api/v1/leases/g2-next")).body).toEqual({ deleted: "g2-next" });
    const history = (await call("GET", "/api/v1/leases/globex-1")).body.history as { action: string }[];
    expect(history.map((h) => h.action)).toEqual(["create", "end"]);
  });

  test("import: all or nothing, line and field named; a second run changes nothing", async () => {
    const records = [
      {
        line: 2,
        fields: { id: "imp-1", device: G2, tenant: "acme", start: iso(NOW - 20 * H), end: iso(NOW - 19 * H) },
      },
      {
        line: 3,
        fields: { id: "imp-2", device: G2, tenant: "acme", start: iso(NOW - 19 * H), end: iso(NOW - 18 * H) },
      },
    ];
    const bad = await call("POST", "/api/v1/leases/import", {
      records: [
        ...records,
        { line: 4, fields: { id: "imp-3", device: G2, tenant: "acme", start: "yesterday" } },
      ],
    });
    expect([bad.status, bad.body.parameter, bad.body.line]).toEqual([400, "start", 4]);
    expect((await call("GET", "/api/v1/leases/imp-1")).status).toBe(404);
    expect((await call("POST", "/api/v1/leases/import", { records })).body).toEqual({
      created: ["imp-1", "imp-2"],
      updated: [],
      unchanged: [],
    });
    expect((await call("POST", "/api/v1/leases/import", { records })).body).toEqual({
      created: [],
      updated: [],
      unchanged: ["imp-1", "imp-2"],
    });
  });
});

test("an id or tenant that is not text is named as such, not as missing or as a bad name", async () => {
  const r = await call("POST", "/api/v1/leases/import", {
    records: [{ line: 7, fields: { id: 1001, device: G2, tenant: "acme", start: iso(NOW + 90 * H) } }],
  });
  // It answered "is required in an import", though the record gives an id.
  expect([r.status, r.body.parameter, r.body.line, r.body.message]).toEqual([
    400,
    "id",
    7,
    "line 7, field id: must be text (a JSON string), not 1001",
  ]);
  // And `"tenant": 42` read "42 is not a tenant name (letters, digits, …)".
  const tenant = await call("POST", "/api/v1/leases", { device: G2, tenant: 42, start: iso(NOW + 90 * H) });
  expect([tenant.status, tenant.body.parameter, tenant.body.message]).toEqual([
    400,
    "tenant",
    "must be text (a JSON string), not 42",
  ]);
});

test("an import body of several MiB is read (20,000 leases are about 4.3 MB); other bodies stay at 4 KiB", async () => {
  const big = { records: [{ line: 1, fields: { id: "big", contract: "x".repeat(5 * 1024 * 1024) } }] };
  const r = await call("POST", "/api/v1/leases/import", big);
  expect([r.status, r.body.parameter]).toEqual([400, "contract"]);
  const small = await call("POST", "/api/v1/leases", { device: G2, tenant: "x", contract: "x".repeat(5000) });
  expect(small.status).toBe(413);
});

describe("roles", () => {
  test("viewer reads leases and /metrics but cannot change leases", async () => {
    const viewer = tokens.viewer as string;
    expect((await call("GET", "/api/v1/leases", undefined, viewer)).status).toBe(200);
    expect((await call("GET", "/metrics", undefined, viewer)).status).toBe(200);
    const r = await call(
      "POST",
      "/api/v1/leases",
      { device: G2, tenant: "x", start: iso(NOW + 9 * H) },
      viewer,
    );
    expect([r.status, r.body.error]).toEqual([403, "forbidden"]);
  });

  test("a tenant token on admin and viewer routes: 403, nothing changed", async () => {
    const tenant = tokens["tenant:acme"] as string;
    for (const [method, path, body] of [
      ["GET", "/api/v1/leases", undefined],
      ["GET", "/metrics", undefined],
      ["GET", "/api/v1/hosts", undefined],
      ["POST", "/api/v1/leases", { device: G2, tenant: "acme", start: iso(NOW + 9 * H) }],
      ["DELETE", "/api/v1/leases/imp-1", undefined],
    ] as const) {
      const r = await call(method, path, body, tenant);
      expect({ path, status: r.status }).toEqual({ path, status: 403 });
    }
    expect((await call("GET", "/api/v1/leases/imp-1")).status).toBe(200);
  });

  test("a revoked or unknown token is 401", async () => {
    const t = newToken();
    c.running.store.tokens.insert(t.id, "admin", t.digest, "", NOW);
    expect((await call("GET", "/api/v1/leases", undefined, t.token)).status).toBe(200);
    c.running.store.tokens.revoke(t.id, NOW);
    expect((await call("GET", "/api/v1/leases", undefined, t.token)).status).toBe(401);
    expect((await call("GET", "/api/v1/leases", undefined, `${t.token}x`)).status).toBe(401);
  });
});
