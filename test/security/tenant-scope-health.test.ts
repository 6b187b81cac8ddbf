// Kernel-log events and a GPU's health timeline for a tenant token: only its leased GPU's
// events inside its lease period; the timeline clipped to that period, its flags without host
// labels; outside the lease (or another tenant's view) the same 404 as an unknown GPU.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { LeaseService } from "../../collector/leases/service.js";
import { eventsCsv } from "../../collector/reports/health-csv.js";
import type { EventView } from "../../collector/reports/health-types.js";
import { xidEvent } from "../collector/health/events.js";
import { type FlagHarness, flagHarness, T0, UUID } from "../collector/health/flag-harness.js";
import { tenantApp } from "./tenant-app.js";

const NOW = T0 + 2 * 3600_000;
const TOKEN = "tenant-health-admin-token-0123456789";
const TENANTS: Record<string, Principal> = {
  gputel_acme: { role: "tenant", tenant: "acme", actor: "t" },
  gputel_globex: { role: "tenant", tenant: "globex", actor: "t" },
};

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

function setup(): FastifyInstance {
  h = flagHarness();
  const harness = h;
  harness.frame(T0, { gpu_recovery_action: 0 }, { host_sample: { uptime_seconds: 100 } });
  harness.xid([
    xidEvent(1, 13, { time_ms: T0 + 1000 }),
    xidEvent(2, 79, { time_ms: T0 + 2000, pid: null, process_name: "" }),
    xidEvent(3, 79, { time_ms: T0 + 3000, pid: null, process_name: "" }),
    xidEvent(4, 48, { time_ms: T0 + 4000, gpu_uuid: "", gpu_index: null, pci_bus_id: "0000:41:00" }),
  ]);
  const now = () => NOW;
  const leases = new LeaseService(harness.store.leases, now);
  // acme held the GPU for [T0 + 1.5 s, T0 + 2.5 s): only the event at T0 + 2 s is its own.
  leases.create({ id: "l-acme", device: UUID, tenant: "acme", start: T0 + 1500, end: T0 + 2500 }, "test");
  app = tenantApp(harness, leases, now, TOKEN, TENANTS);
  return app;
}

async function get(a: FastifyInstance, url: string, token: string) {
  const r = await a.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
}

const range = `from=${T0}&to=${NOW}`;
type Ev = { code: number; timeMs: number; gpuUuid: string | null };

describe("GET /api/v1/events for a tenant", () => {
  it("lists only its GPU's events inside its lease; the admin still sees all", async () => {
    const a = setup();
    const all = await get(a, `/api/v1/events?${range}`, TOKEN);
    expect((all.body.events as Ev[]).map((e) => e.code)).toEqual([48, 79, 79, 13]);
    const mine = await get(a, `/api/v1/events?${range}`, "gputel_acme");
    expect(mine.status).toBe(200);
    expect((mine.body.events as Ev[]).map((e) => [e.code, e.timeMs])).toEqual([[79, T0 + 2000]]);
    const byGpu = await get(a, `/api/v1/events?gpu=${UUID}&${range}`, "gputel_acme");
    expect((byGpu.body.events as Ev[]).map((e) => e.timeMs)).toEqual([T0 + 2000]);
    const other = await get(a, `/api/v1/events?${range}`, "gputel_globex");
    expect(other.body.events).toEqual([]);
  });

  it("answers the CLI's CSV (eventsCsv) of the events its JSON lists, no more", async () => {
    const a = setup();
    const csv = async (token: string, ask: { format?: string; accept?: string }) => {
      const r = await a.inject({
        method: "GET",
        url: `/api/v1/events?${range}${ask.format ? `&format=${ask.format}` : ""}`,
        headers: { authorization: `Bearer ${token}`, ...(ask.accept ? { accept: ask.accept } : {}) },
      });
      expect([r.statusCode, r.headers["content-type"]]).toEqual([200, "text/csv; charset=utf-8"]);
      return r.body;
    };
    for (const token of ["gputel_acme", "gputel_globex", TOKEN]) {
      const json = await get(a, `/api/v1/events?${range}`, token);
      const expected = eventsCsv(json.body.events as EventView[]);
      // It answered JSON only.
      expect(await csv(token, { format: "csv" })).toBe(expected);
      expect(await csv(token, { accept: "text/csv" })).toBe(expected);
    }
    // acme's one event (T0 + 2 s), globex's none, the admin's four: a header and a line each.
    const lines = async (token: string) => (await csv(token, { format: "csv" })).split("\n").length - 2;
    expect([await lines("gputel_acme"), await lines("gputel_globex"), await lines(TOKEN)]).toEqual([1, 0, 4]);
  });

  it("pages as the fleet's list does", async () => {
    const a = setup();
    const first = await get(a, `/api/v1/events?${range}&limit=1`, "gputel_acme");
    expect(first.body.next).toBeNull();
    expect((first.body.events as Ev[]).length).toBe(1);
  });

  it("another tenant's GPU and a range outside the lease answer as an unknown GPU", async () => {
    const a = setup();
    const unknown = await get(a, `/api/v1/events?gpu=GPU-ffffffff&${range}`, "gputel_acme");
    const outside = await get(a, `/api/v1/events?gpu=${UUID}&from=${T0 + 2600}&to=${NOW}`, "gputel_acme");
    const globex = await get(a, `/api/v1/events?gpu=${UUID}&${range}`, "gputel_globex");
    for (const r of [outside, globex]) {
      expect(r.status).toBe(404);
      expect(Object.keys(r.body)).toEqual(Object.keys(unknown.body));
      expect(r.body.parameter).toBe(unknown.body.parameter);
    }
  });
});

describe("GET /api/v1/gpus/:id/health for a tenant", () => {
  it("is clipped to its lease period, flags without host labels", async () => {
    const a = setup();
    const r = await get(a, `/api/v1/gpus/${UUID}/health?${range}`, "gputel_acme");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ fromMs: T0 + 1500, toMs: T0 + 2500 });
    expect((r.body.events as Ev[]).map((e) => e.timeMs)).toEqual([T0 + 2000]);
    const flags = r.body.flags as { startMs: number; labels: object }[];
    for (const f of flags) {
      expect(f.labels).toEqual({});
      expect(f.startMs).toBeGreaterThanOrEqual(T0 + 1500);
    }
    const admin = await get(a, `/api/v1/gpus/${UUID}/health?${range}`, TOKEN);
    expect((admin.body.events as Ev[]).length).toBe(3);
  });

  it("a flag that went on after the lease ends at the lease's end", async () => {
    const a = setup();
    const admin = await get(a, `/api/v1/gpus/${UUID}/health?${range}`, TOKEN);
    const goesOn = (admin.body.flags as { startMs: number; endMs: number | null }[]).filter(
      (f) => f.startMs < T0 + 2500 && (f.endMs === null || f.endMs > T0 + 2500),
    );
    expect(goesOn.length).toBeGreaterThan(0);
    const r = await get(a, `/api/v1/gpus/${UUID}/health?${range}`, "gputel_acme");
    const flags = r.body.flags as { endMs: number | null }[];
    expect(flags.length).toBeGreaterThan(0);
    for (const f of flags) expect(f.endMs ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(T0 + 2500);
  });

  it("another tenant, or a range outside the lease: 404 like an unknown GPU", async () => {
    const a = setup();
    const unknown = await get(a, `/api/v1/gpus/GPU-ffffffff/health?${range}`, "gputel_acme");
    expect(unknown.status).toBe(404);
    for (const [url, token] of [
      [`/api/v1/gpus/${UUID}/health?${range}`, "gputel_globex"],
      [`/api/v1/gpus/${UUID}/health?from=${T0 + 2500}&to=${NOW}`, "gputel_acme"],
      [`/api/v1/gpus/node-1:0/health?from=${T0}&to=${T0 + 1500}`, "gputel_acme"],
    ] as const) {
      const r = await get(a, url, token);
      expect({ url, status: r.status, keys: Object.keys(r.body) }).toEqual({
        url,
        status: 404,
        keys: Object.keys(unknown.body),
      });
    }
  });
});
