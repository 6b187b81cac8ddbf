// A tenant token probing past its scope through the API's filters (another tenant's GPU, a host
// label's value): each answer must be the one it would get if the thing asked for did not exist.
// And a flag that goes on after its lease says nothing of the time after it.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { buildApp } from "../../collector/api/server.js";
import { LeaseService } from "../../collector/leases/service.js";
import { silentLogger } from "../../shared/logger.js";
import { buildFleet, type FleetFixture, gpuUuid } from "../api/fleet-fixture.js";

const H = 3_600_000;
const ADMIN = "tenant-probes-admin-token-0123456789";
const TENANTS: Record<string, Principal> = { gputel_acme: { role: "tenant", tenant: "acme", actor: "t" } };

let fleet: FleetFixture;
let app: FastifyInstance;
let leaseEndMs: number;
type FlagRow = { gpuUuid: string | null; startMs: number; endMs: number | null };
const flagsOf = (body: Record<string, unknown>) => body.flags as FlagRow[];

async function get(url: string, token = "gputel_acme") {
  const r = await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
}

beforeAll(() => {
  fleet = buildFleet();
  const now = fleet.nowMs;
  const leases = new LeaseService(fleet.store.leases, () => now);
  leaseEndMs = now - H;
  // acme: node-a's GPU 3 now; node-b's idle GPU 1 (a host labelled customer=globex) until an hour ago.
  leases.create({ id: "acme-now", device: gpuUuid(0, 3), tenant: "acme", start: now - 2 * H }, "test");
  leases.create(
    { id: "acme-past", device: gpuUuid(1, 1), tenant: "acme", start: now - 3 * H, end: leaseEndMs },
    "test",
  );
  leases.create({ id: "globex", device: gpuUuid(2, 1), tenant: "globex", start: now - 3 * H }, "test");
  app = buildApp(fleet.backend, ADMIN, silentLogger(), undefined, { leases, tokens: (t) => TENANTS[t] });
});
afterAll(async () => {
  await app?.close();
  fleet?.close();
});

describe("the flag list for a tenant", () => {
  test("another tenant's GPU, or another host's host:index, answers as an unknown GPU", async () => {
    const unknown = await get("/api/v1/flags?state=all&gpu=GPU-ffffffff");
    expect(unknown.status).toBe(404);
    for (const ref of [gpuUuid(2, 1), "node-c:1", "node-c:0"]) {
      const r = await get(`/api/v1/flags?state=all&gpu=${ref}`);
      expect({ ref, status: r.status, error: r.body.error, parameter: r.body.parameter }).toEqual({
        ref,
        status: 404,
        error: unknown.body.error,
        parameter: unknown.body.parameter,
      });
    }
    // Its own GPU still answers.
    expect((await get(`/api/v1/flags?state=all&gpu=${gpuUuid(1, 1)}`)).status).toBe(200);
  });

  test("a flag that goes on after its lease ended is neither open for it nor longer than the lease", async () => {
    const admin = flagsOf((await get("/api/v1/flags?state=open", ADMIN)).body);
    // The fixture's idle GPU has an open flag, raised during acme's past lease.
    expect(admin.some((f) => f.gpuUuid === gpuUuid(1, 1) && f.startMs < leaseEndMs)).toBe(true);
    const open = flagsOf((await get("/api/v1/flags?state=open")).body);
    expect(open.filter((f) => f.gpuUuid === gpuUuid(1, 1))).toEqual([]);
    const all = flagsOf((await get("/api/v1/flags?state=all")).body).filter(
      (f) => f.gpuUuid === gpuUuid(1, 1),
    );
    expect(all.length).toBeGreaterThan(0);
    for (const f of all) {
      expect(f.endMs).not.toBeNull();
      expect(f.endMs ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(leaseEndMs);
    }
  });
});

describe("host labels stay hidden from a tenant's filters", () => {
  // node-b is labelled customer=globex; acme leased its GPU 1. A filter that tells the two
  // label values apart would show acme the label it is never shown.
  test("the GPU list's label filter", async () => {
    const now = await get("/api/v1/gpus?label=customer:acme");
    const other = await get("/api/v1/gpus?label=customer:nosuchcustomer");
    expect({ status: now.status, gpus: now.body.gpus }).toEqual({
      status: other.status,
      gpus: other.body.gpus,
    });
  });

  test("the flag list's label filter and search", async () => {
    const byLabel = await get("/api/v1/flags?state=all&label=customer:globex");
    const byOther = await get("/api/v1/flags?state=all&label=customer:nosuchcustomer");
    expect({ status: byLabel.status, flags: byLabel.body.flags }).toEqual({
      status: byOther.status,
      flags: byOther.body.flags,
    });
    const search = await get("/api/v1/flags?state=all&q=globex");
    const none = await get("/api/v1/flags?state=all&q=nosuchcustomer");
    expect({ status: search.status, flags: search.body.flags }).toEqual({
      status: none.status,
      flags: none.body.flags,
    });
  });
});
