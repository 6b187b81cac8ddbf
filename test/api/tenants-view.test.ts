// GET /api/v1/tenants over a real store: each tenant's leased GPUs now, busy share today and this
// month, idle-held GPUs now, availability against its SLA; a tenant token sees its own row only.
// And the leases that ended in the last 30 days (the range of the health timeline the dashboard
// opens for them), newest end first, so a tenant can still open the down time of a lease it no
// longer holds.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { buildApp } from "../../collector/api/server.js";
import { LeaseService } from "../../collector/leases/service.js";
import { silentLogger } from "../../shared/logger.js";
import { buildFleet, type FleetFixture, gpuUuid } from "./fleet-fixture.js";

const TOKEN = "tenants-view-admin-token-0123456789";
const MIN = 60_000;
const H = 60 * MIN;
const acme: Principal = { role: "tenant", tenant: "acme", actor: "t" };

let fleet: FleetFixture;
let app: FastifyInstance;
beforeAll(() => {
  fleet = buildFleet();
  const now = fleet.nowMs;
  const leases = new LeaseService(fleet.store.leases, () => now);
  // Busy GPU (host 0's hot GPU 3) for acme; an idle-held GPU (GPU 2) for initech with an SLA.
  leases.create({ id: "l-acme", device: gpuUuid(0, 3), tenant: "acme", start: now - 30 * MIN }, "t");
  leases.create(
    {
      id: "l-ini",
      device: gpuUuid(0, 2),
      tenant: "initech",
      start: now - 2 * H,
      committedAvailabilityPct: 99.5,
    },
    "t",
  );
  app = buildApp(fleet.backend, TOKEN, silentLogger(), undefined, {
    leases,
    tokens: (t) => (t === "gputel_acme" ? acme : undefined),
  });
});
afterAll(async () => {
  await app?.close();
  fleet?.close();
});

type Row = Record<string, unknown> & { tenant: string; gpus: { uuid: string; sinceMs: number }[] };

async function tenants(token: string, query = ""): Promise<Row[]> {
  const r = await app.inject({
    url: `/api/v1/tenants${query}`,
    headers: { authorization: `Bearer ${token}` },
  });
  expect(r.statusCode).toBe(200);
  return (r.json() as { tenants: Row[] }).tenants;
}

describe("GET /api/v1/tenants", () => {
  test("every tenant's figures for an admin", async () => {
    const rows = await tenants(TOKEN);
    expect(rows.map((r) => r.tenant)).toEqual(["acme", "initech"]);
    const [a, i] = rows as [Row, Row];
    expect(a).toMatchObject({
      leasedGpus: 1,
      idleHeldNow: 0,
      utilizationToday: 1,
      slaAvailability: null,
      slaMet: null,
    });
    expect(a.gpus).toEqual([
      { uuid: gpuUuid(0, 3), host: "node-a", index: 3, leaseId: "l-acme", sinceMs: fleet.nowMs - 30 * MIN },
    ]);
    expect(i).toMatchObject({ leasedGpus: 1, idleHeldNow: 1, utilizationToday: 0, availabilityMonth: 1 });
    expect(i.slaAvailability).toBeCloseTo(0.995, 9);
    expect(i.slaMet).toBe(true);
  });

  test("a tenant token gets its own row only, whatever it asks", async () => {
    expect((await tenants("gputel_acme")).map((r) => r.tenant)).toEqual(["acme"]);
    expect((await tenants("gputel_acme", "?tenant=initech")).map((r) => r.tenant)).toEqual(["acme"]);
    expect((await tenants(TOKEN, "?tenant=initech")).map((r) => r.tenant)).toEqual(["initech"]);
  });
});

describe("GET /api/v1/tenants: the leases ended in the last 30 days", () => {
  const DAY = 24 * H;
  let ended: FleetFixture;
  let endedApp: FastifyInstance;
  beforeAll(() => {
    ended = buildFleet();
    const now = ended.nowMs;
    const leases = new LeaseService(ended.store.leases, () => now);
    const add = (id: string, device: string, tenant: string, start: number, end?: number) =>
      leases.create({ id, device, tenant, start, ...(end !== undefined ? { end } : {}) }, "t");
    add("acme-now", gpuUuid(0, 3), "acme", now - H);
    add("acme-ended", gpuUuid(0, 1), "acme", now - 3 * H, now - H);
    add("acme-ended-earlier", gpuUuid(0, 2), "acme", now - 20 * DAY, now - 10 * DAY);
    add("acme-long-ago", gpuUuid(0, 0), "acme", now - 40 * DAY, now - 31 * DAY);
    add("globex-ended", gpuUuid(1, 0), "globex", now - 5 * H, now - 4 * H);
    endedApp = buildApp(ended.backend, TOKEN, silentLogger(), undefined, {
      leases,
      tokens: (t) => (t === "gputel_acme" ? acme : undefined),
    });
  });
  afterAll(async () => {
    await endedApp?.close();
    ended?.close();
  });

  async function endedOf(token: string) {
    const r = await endedApp.inject({
      url: "/api/v1/tenants",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(r.statusCode).toBe(200);
    return r.json() as { endedFromMs: number; ended: Record<string, unknown>[] };
  }

  test("newest end first, each with its device, the GPU's place, its lease and span", async () => {
    const now = ended.nowMs;
    const a = await endedOf(TOKEN);
    expect(a.endedFromMs).toBe(now - 30 * DAY);
    const at = (tenant: string, host: number, index: number, leaseId: string, from: number, to: number) => ({
      tenant,
      uuid: gpuUuid(host, index),
      host: `node-${"abc"[host]}`,
      index,
      leaseId,
      sinceMs: now - from,
      endMs: now - to,
    });
    expect(a.ended).toEqual([
      at("acme", 0, 1, "acme-ended", 3 * H, H),
      at("globex", 1, 0, "globex-ended", 5 * H, 4 * H),
      at("acme", 0, 2, "acme-ended-earlier", 20 * DAY, 10 * DAY),
    ]);
  });

  test("a tenant token gets its own ended leases only", async () => {
    expect((await endedOf("gputel_acme")).ended.map((e) => e.leaseId)).toEqual([
      "acme-ended",
      "acme-ended-earlier",
    ]);
  });
});
