// Property (fast-check): for random leases of random tenants over a real fleet, a tenant token's
// GPU list is exactly the GPUs its tenant leases at this moment, and every other GPU — another
// tenant's, one between its leases, one never leased — answers 404 like a GPU that does not exist.
import fc from "fast-check";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { buildApp } from "../../collector/api/server.js";
import { LeaseService } from "../../collector/leases/service.js";
import { silentLogger } from "../../shared/logger.js";
import { buildFleet, type FleetFixture, gpuUuid } from "../api/fleet-fixture.js";
import { openLeaseStore } from "../collector/leases/store-helpers.js";

const TOKEN = "scope-property-admin-token-0123456789";
const TENANTS = ["acme", "globex", "initech"] as const;
const H = 3_600_000;

let fleet: FleetFixture;
let uuids: string[];
beforeAll(() => {
  fleet = buildFleet({ hours: 1 });
  uuids = fleet.hosts.flatMap((_, h) => Array.from({ length: fleet.gpusPerHost }, (_, i) => gpuUuid(h, i)));
});
afterAll(() => fleet?.close());

const leaseArb = fc.record({
  gpu: fc.integer({ min: 0, max: 11 }),
  tenant: fc.constantFrom(...TENANTS),
  start: fc.integer({ min: -6, max: 2 }),
  hours: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
});

test("a tenant sees exactly the GPUs it leases now; every other GPU is a 404", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(leaseArb, { maxLength: 14 }),
      fc.constantFrom(...TENANTS),
      async (leases, who) => {
        const now = fleet.nowMs;
        const store = openLeaseStore(uuids);
        const service = new LeaseService(store.store.leases, () => now);
        const held = new Set<string>();
        for (const [n, l] of leases.entries()) {
          const startMs = now + l.start * H;
          const endMs = l.hours === null ? null : startMs + l.hours * H;
          try {
            service.create(
              { id: `p${n}`, device: uuids[l.gpu], tenant: l.tenant, start: startMs, end: endMs },
              "prop",
            );
          } catch {
            continue; // a conflict: not leased
          }
          if (l.tenant === who && startMs <= now && (endMs === null || now < endMs))
            held.add(uuids[l.gpu] as string);
        }
        const principal: Principal = { role: "tenant", tenant: who, actor: "prop" };
        const app = buildApp(fleet.backend, TOKEN, silentLogger(), undefined, {
          leases: service,
          tokens: (t) => (t === "gputel_tenant" ? principal : undefined),
        });
        try {
          const headers = { authorization: "Bearer gputel_tenant" };
          const list = await app.inject({ url: "/api/v1/gpus", headers });
          const seen = (list.json() as { gpus: { uuid: string }[] }).gpus.map((g) => g.uuid).sort();
          expect(seen).toEqual([...held].sort());
          const unknown = await app.inject({ url: "/api/v1/gpus/GPU-ffffffff", headers });
          for (const uuid of uuids) {
            const one = await app.inject({ url: `/api/v1/gpus/${uuid}`, headers });
            if (held.has(uuid)) expect(one.statusCode).toBe(200);
            else {
              expect(one.statusCode).toBe(404);
              expect(Object.keys(one.json())).toEqual(Object.keys(unknown.json()));
            }
          }
        } finally {
          await app.close();
          store.close();
        }
      },
    ),
    { numRuns: 15 },
  );
});
