// Tenant tokens see only the GPUs their tenant leases, only during its lease periods: GPU lists,
// one GPU, series and flags, over a real store and a real HTTP server. Anything else answers
// exactly as a GPU that does not exist (404, same body shape), and a fan-out to a peer carries
// the scope, so the peer's other tenants stay hidden too.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createApiServer } from "../../collector/api/server.js";
import { newToken, storedTokenLookup } from "../../collector/api/tokens.js";
import { LeaseService } from "../../collector/leases/service.js";
import { silentLogger } from "../../shared/logger.js";
import { buildFleet, type FleetFixture, gpuUuid } from "../api/fleet-fixture.js";

const H = 3_600_000;
const ADMIN = "tenant-scope-admin-token-0123456789";

interface Served {
  fleet: FleetFixture;
  url: string;
  stop(): Promise<void>;
}

async function serve(fleet: FleetFixture, peers: string[] = []): Promise<Served> {
  const server = createApiServer({
    backend: fleet.backend,
    listen: { host: "127.0.0.1", port: 0 },
    token: ADMIN,
    logger: silentLogger(),
    peers,
    leases: new LeaseService(fleet.store.leases, () => fleet.nowMs),
    tokens: storedTokenLookup(fleet.store.tokens),
  });
  const { port } = await server.start();
  return { fleet, url: `http://127.0.0.1:${port}`, stop: () => server.stop() };
}

function lease(
  fleet: FleetFixture,
  id: string,
  device: string,
  tenant: string,
  startMs: number,
  endMs?: number,
): void {
  const svc = new LeaseService(fleet.store.leases, () => fleet.nowMs);
  svc.create({ id, device, tenant, start: startMs, ...(endMs !== undefined ? { end: endMs } : {}) }, "test");
}

function tokenFor(fleet: FleetFixture, role: string): string {
  const t = newToken();
  fleet.store.tokens.insert(t.id, role, t.digest, "", fleet.nowMs);
  return t.token;
}

let a: Served;
let b: Served;
let acme: string;
let now: number;

async function get(s: Served, path: string, token: string) {
  const r = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const fleetB = buildFleet({ firstHost: 10, hosts: 1 });
  lease(fleetB, "b-acme", gpuUuid(10, 2), "acme", fleetB.nowMs - 2 * H);
  lease(fleetB, "b-globex", gpuUuid(10, 1), "globex", fleetB.nowMs - 2 * H);
  b = await serve(fleetB);
  const fleetA = buildFleet();
  now = fleetA.nowMs;
  lease(fleetA, "a-hot", gpuUuid(0, 3), "acme", now - 30 * 60_000);
  lease(fleetA, "a-past", gpuUuid(1, 0), "acme", now - 150 * 60_000, now - 60 * 60_000);
  lease(fleetA, "a-globex", gpuUuid(0, 1), "globex", now - 5 * H);
  acme = tokenFor(fleetA, "tenant:acme");
  a = await serve(fleetA, [b.url]);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  a?.fleet.close();
  b?.fleet.close();
});

describe("a tenant token", () => {
  test("lists only the GPUs it leases now, here and on the peer, without host labels", async () => {
    const r = await get(a, "/api/v1/gpus", acme);
    expect(r.status).toBe(200);
    const gpus = r.body.gpus as { uuid: string; labels: object }[];
    expect(gpus.map((g) => g.uuid).sort()).toEqual([gpuUuid(0, 3), gpuUuid(10, 2)].sort());
    for (const g of gpus) expect(g.labels).toEqual({});
    expect(r.body.total).toBe(2);
  });

  test("asking for another tenant's view still gets its own", async () => {
    const r = await get(a, "/api/v1/gpus?tenant=globex", acme);
    expect((r.body.gpus as { uuid: string }[]).map((g) => g.uuid).sort()).toEqual(
      [gpuUuid(0, 3), gpuUuid(10, 2)].sort(),
    );
  });

  test("another tenant's GPU, a GPU after its lease, and an unknown GPU answer the same 404", async () => {
    const unknown = await get(a, "/api/v1/gpus/GPU-ffffffff", acme);
    for (const id of [gpuUuid(0, 1), gpuUuid(1, 0), "node-a:1", gpuUuid(2, 2)]) {
      const r = await get(a, `/api/v1/gpus/${id}`, acme);
      expect({ id, status: r.status, error: r.body.error, parameter: r.body.parameter }).toEqual({
        id,
        status: 404,
        error: unknown.body.error,
        parameter: unknown.body.parameter,
      });
    }
    expect((await get(a, `/api/v1/gpus/${gpuUuid(0, 3)}`, acme)).status).toBe(200);
  });

  test("a series shows only buckets inside its lease periods", async () => {
    const from = now - 3 * H;
    const path = `/api/v1/gpus/${gpuUuid(1, 0)}/series?metrics=utilization_gpu_pct&from=${from}&to=${now}&step=10m`;
    const r = await get(a, path, acme);
    expect(r.status).toBe(200);
    const t = r.body.t as number[];
    const avg = (r.body.metrics as Record<string, { avg: (number | null)[] }>).utilization_gpu_pct?.avg ?? [];
    const inside = (ts: number) => ts >= now - 150 * 60_000 && ts + 600_000 <= now - 60 * 60_000;
    expect(t.some(inside)).toBe(true);
    t.forEach((ts, i) => {
      if (!inside(ts)) expect(avg[i]).toBeNull();
      else expect(avg[i]).not.toBeNull();
    });
    const outside = `/api/v1/gpus/${gpuUuid(1, 0)}/series?from=${now - 50 * 60_000}&to=${now}`;
    expect((await get(a, outside, acme)).status).toBe(404);
    expect((await get(a, `/api/v1/gpus/${gpuUuid(0, 1)}/series`, acme)).status).toBe(404);
  });

  test("flags: only its GPUs' flags within its periods", async () => {
    const all = await get(a, "/api/v1/flags?state=all", ADMIN);
    expect((all.body.flags as unknown[]).length).toBeGreaterThan(1);
    const r = await get(a, "/api/v1/flags?state=all", acme);
    const flags = r.body.flags as { gpuUuid: string | null; startMs: number; labels: object }[];
    expect(flags.length).toBeGreaterThan(0);
    for (const f of flags) {
      expect([gpuUuid(0, 3), gpuUuid(1, 0), gpuUuid(10, 2)]).toContain(f.gpuUuid);
      expect(f.labels).toEqual({});
      if (f.gpuUuid === gpuUuid(0, 3)) expect(f.startMs).toBeGreaterThanOrEqual(now - 30 * 60_000);
    }
  });

  test("flags: totals and pages count only the tenant's flags", async () => {
    // Paging is refused with peers: ask this collector alone, as a peer would be asked.
    const local = async (query: string) => {
      const r = await fetch(`${a.url}/api/v1/flags?${query}`, {
        headers: { authorization: `Bearer ${acme}`, "x-gputel-fanout": "1" },
      });
      expect(r.status).toBe(200);
      return (await r.json()) as { flags: { id: number; gpuUuid: string | null }[] } & Record<
        string,
        unknown
      >;
    };
    const whole = await local("state=all");
    const mine = whole.flags;
    expect(mine.length).toBeGreaterThan(0);
    for (const f of mine) expect([gpuUuid(0, 3), gpuUuid(1, 0)]).toContain(f.gpuUuid);
    expect(whole.total).toBe(mine.length);
    const byKind = whole.totalsByKind as Record<string, number>;
    expect(Object.values(byKind).reduce((x, y) => x + y, 0)).toBe(mine.length);
    // The fleet's own total is larger: the tenant's is counted after scoping, not before.
    const fleet = await fetch(`${a.url}/api/v1/flags?state=all`, {
      headers: { authorization: `Bearer ${ADMIN}`, "x-gputel-fanout": "1" },
    });
    expect(((await fleet.json()) as { total: number }).total).toBeGreaterThan(mine.length);
    const first = await local(`state=all&limit=${mine.length}`);
    expect(first.flags.map((f) => f.id)).toEqual(mine.map((f) => f.id));
    expect(first).toMatchObject({ total: mine.length, truncated: false, next: null });
    const past = await local(`state=all&offset=${mine.length}`);
    expect(past.flags).toEqual([]);
    expect(past.total).toBe(mine.length);
    // Through the fan-out, the totals are the collectors' scoped totals summed.
    const merged = await get(a, "/api/v1/flags?state=all", acme);
    expect(merged.body.total).toBe((merged.body.flags as unknown[]).length);
  });

  // Summary, cells and reports are scoped now (tenant-scope-fleet.test.ts); the host list stays a fleet route.
  test("the host list, lease administration, the peers' part routes and /metrics: 403", async () => {
    // A part route takes `tenant=` from the collector that asks: a tenant token may not name another.
    const parts = ["report-part", "fleet-part", "process-part?tenant=globex", "lease-parts", "health-part"];
    for (const path of [
      "/api/v1/hosts",
      "/api/v1/leases",
      "/metrics",
      ...parts.map((p) => `/api/v1/fanout/${p}`),
    ]) {
      const r = await fetch(`${a.url}${path}`, { headers: { authorization: `Bearer ${acme}` } });
      expect({ path, status: r.status }).toEqual({ path, status: 403 });
    }
    // The routes are there: the fleet's token passes (this fleet has no process data: 501 there).
    expect((await get(a, "/api/v1/fanout/lease-parts", ADMIN)).status).toBe(200);
    expect((await get(a, "/api/v1/fanout/process-part?tenant=globex", ADMIN)).status).toBe(501);
  });
});

test("an admin may ask for a tenant's view with ?tenant=", async () => {
  const r = await get(a, "/api/v1/gpus?tenant=globex", ADMIN);
  expect((r.body.gpus as { uuid: string }[]).map((g) => g.uuid).sort()).toEqual(
    [gpuUuid(0, 1), gpuUuid(10, 1)].sort(),
  );
});
