// GET /api/v1/tenants over a real store: each tenant's leased GPUs now, busy share today and this
// month, idle-held GPUs now, availability against its SLA; a tenant token sees its own row only.
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
