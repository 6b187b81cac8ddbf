// The health routes over a real store and flag engine: events (filters, bounds, pages), a GPU's
// health timeline, the fleet health report, acknowledgements (token-protected) and /metrics.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { routeAccess } from "../../../collector/api/access.js";
import { StoreHealthBackend } from "../../../collector/api/health-backend.js";
import { buildApp } from "../../../collector/api/server.js";
import { StoreBackend } from "../../../collector/api/store-backend.js";
import { silentLogger } from "../../../shared/logger.js";
import { xidEvent } from "./events.js";
import { type FlagHarness, flagHarness, MIN, T0, UUID } from "./flag-harness.js";

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

const NOW = T0 + 2 * 3600_000;

function setup(token?: string): { app: FastifyInstance; h: FlagHarness } {
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
  const backend = new StoreBackend({
    store: harness.store,
    flags: harness.engine,
    health: new StoreHealthBackend({ store: harness.store, flags: harness.engine, now }),
    now,
  });
  app = buildApp(backend, token, silentLogger());
  return { app, h: harness };
}

async function get(a: FastifyInstance, url: string, headers: Record<string, string> = {}) {
  const r = await a.inject({ method: "GET", url, headers: { host: "127.0.0.1", ...headers } });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> & { [k: string]: unknown } };
}

describe("GET /api/v1/events", () => {
  it("lists events newest first with the catalogue's names, filtered and paged", async () => {
    const { app } = setup();
    const all = await get(app, `/api/v1/events?from=${T0}&to=${NOW}`);
    expect(all.status).toBe(200);
    const events = all.body.events as { code: number; mnemonic: string; gpuUuid: string | null }[];
    expect(events.map((e) => e.code)).toEqual([48, 79, 79, 13]);
    expect(events[1]?.mnemonic).toBe("ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS");
    expect(events[0]?.gpuUuid).toBeNull();
    const byGpu = await get(app, `/api/v1/events?gpu=node-1:0&code=79,13&action=reboot&from=${T0}&to=${NOW}`);
    expect((byGpu.body.events as unknown[]).length).toBe(2);
    const page1 = await get(app, `/api/v1/events?limit=3&from=${T0}&to=${NOW}`);
    expect((page1.body.events as unknown[]).length).toBe(3);
    const page2 = await get(app, `/api/v1/events?limit=3&from=${T0}&to=${NOW}&before=${page1.body.next}`);
    expect((page2.body.events as { code: number }[]).map((e) => e.code)).toEqual([13]);
    expect(page2.body.next).toBeNull();
  });

  it("pages past more events of one millisecond than a page holds, JSON and CSV alike, each once", async () => {
    const { app, h } = setup();
    const at = T0 + 5000;
    h.xid([...Array(25).keys()].map((i) => xidEvent(100 + i, 13, { time_ms: at })));
    const seqs = async (csv: boolean) => {
      const seen: number[] = [];
      let before: string | undefined;
      for (let round = 0; round < 10; round++) {
        const cursor = before === undefined ? "" : `&before=${encodeURIComponent(before)}`;
        const url = `/api/v1/events?limit=10&from=${T0}&to=${NOW}${cursor}${csv ? "&format=csv" : ""}`;
        const r = await app.inject({ method: "GET", url, headers: { host: "127.0.0.1" } });
        expect(r.statusCode, r.body).toBe(200);
        if (csv) {
          const [head = "", ...rows] = r.body.trim().split("\n");
          const seq = head.split(",").indexOf("kernel_seq");
          seen.push(...rows.map((row) => Number(row.split(",")[seq])));
        } else seen.push(...(r.json() as { events: { kernelSeq: number }[] }).events.map((e) => e.kernelSeq));
        const next = csv ? r.headers["x-gputel-next"] : (r.json() as { next: string | null }).next;
        if (next === undefined || next === null) return seen;
        before = String(next);
      }
      throw new Error("no last page");
    };
    // The 25 of one millisecond newest sequence first, then the four before it.
    const expected = [...[...Array(25).keys()].map((i) => 124 - i), 4, 3, 2, 1];
    expect(await seqs(false)).toEqual(expected);
    expect(await seqs(true)).toEqual(expected);
  });

  it("still pages after a cursor of time and row id (from a collector before 2026-12-08)", async () => {
    const { app } = setup();
    const first = await get(app, `/api/v1/events?limit=2&from=${T0}&to=${NOW}`);
    const [, second] = first.body.events as { id: number; timeMs: number }[];
    const old = `${second?.timeMs}:${second?.id}`;
    const rest = await get(app, `/api/v1/events?limit=10&from=${T0}&to=${NOW}&before=${old}`);
    expect((rest.body.events as { kernelSeq: number }[]).map((e) => e.kernelSeq)).toEqual([2, 1]);
  });

  it.each([
    ["action=explode", "action"],
    ["limit=100000", "limit"],
    ["code=abc", "code"],
    ["gpu=GPU-nope", "gpu"],
    ["colour=red", "colour"],
  ])("refuses %s", async (query, parameter) => {
    const { app } = setup();
    const r = await get(app, `/api/v1/events?${query}`);
    expect([400, 404]).toContain(r.status);
    expect(r.body.parameter).toBe(parameter);
  });
});

describe("health timeline, report, acknowledgement, metrics", () => {
  it("shows a GPU's events, flags and downtime, and the fleet's RMA candidates", async () => {
    const { app } = setup();
    const timeline = await get(app, `/api/v1/gpus/${UUID}/health?from=${T0}&to=${NOW}`);
    expect(timeline.status).toBe(200);
    expect((timeline.body.events as unknown[]).length).toBe(3);
    const kinds = (timeline.body.flags as { kind: string }[]).map((f) => f.kind).sort();
    expect(kinds).toEqual(["reset-required", "xid", "xid"]);
    // reset-required open since the first Xid 79 until now.
    expect(timeline.body.downtimeMs).toBe(NOW - (T0 + 2000));
    const report = await get(app, `/api/v1/reports/health?from=${T0}&to=${NOW}`);
    expect(report.status).toBe(200);
    const body = report.body as unknown as {
      xid: {
        total: number;
        byCode: { code: number; count: number }[];
        byHost: { host: string; hardware: number }[];
      };
      hardwareDowntime: { gpuHours: number; gpus: number };
      rmaCandidates: { uuid: string; reasons: string[] }[];
    };
    expect(body.xid.total).toBe(4);
    expect(body.xid.byCode[0]).toMatchObject({ code: 79, count: 2 });
    // Xid 13 is the workload's: not a hardware Xid.
    expect(body.xid.byHost).toEqual([{ host: "node-1", count: 4, hardware: 3 }]);
    expect(body.hardwareDowntime.gpus).toBe(1);
    expect(body.rmaCandidates).toEqual([
      expect.objectContaining({ uuid: UUID, reasons: ["fell off the bus 2 times (Xid 79)"] }),
    ]);
  });

  it("gives the downtime each tenant's leased GPUs had, from the stored leases", async () => {
    const { app, h } = setup();
    const H = 3600_000;
    h.store.leases.insert(
      {
        id: "lease-acme",
        device: UUID,
        gpu: UUID,
        tenant: "acme",
        startMs: T0 - H,
        endMs: T0 + H,
        contract: null,
        priceMicros: null,
        currency: null,
        availabilityMilli: null,
        labels: {},
        source: "api",
      },
      T0,
    );
    const report = await get(app, `/api/v1/reports/health?from=${T0}&to=${NOW}`);
    // reset-required from the first Xid 79 (T0 + 2 s) until now (T0 + 2 h): acme's lease ended at T0 + 1 h.
    expect(report.body.tenantDowntime).toEqual({
      byTenant: [{ tenant: "acme", hours: 0.999, downtimeMs: H - 2000, gpus: 1, leases: ["lease-acme"] }],
      unleasedGpuHours: 1,
    });
  });

  it("keeps the Xid counters on /metrics from falling when retention prunes the events", async () => {
    const { app, h } = setup();
    const xidLines = async () => {
      const r = await app.inject({ method: "GET", url: "/metrics", headers: { host: "127.0.0.1" } });
      return r.body.split("\n").filter((l) => /^gputel_(gpu_)?xid_events_total\{/.test(l));
    };
    const before = await xidLines();
    expect(before).toContain('gputel_xid_events_total{code="79",action="reboot"} 2');
    // Far past the longest retention tier: every stored event goes.
    const later = NOW + 10 * 365 * 24 * 3600_000;
    while (h.store.pruneEvents(later) > 0);
    expect((await get(app, `/api/v1/events?from=${T0}&to=${NOW}`)).body.events).toEqual([]);
    expect(await xidLines()).toEqual(before);
  });

  it("acknowledges a flag with the token, records the note, and closes reset-required", async () => {
    const { app, h } = setup("s3cret-token-for-tests");
    const flag = h.open("reset-required");
    const url = `/api/v1/flags/${flag?.id}/ack`;
    const payload = { note: "GPU reseated, dcgmi diag -r 3 passed" };
    const denied = await app.inject({ method: "POST", url, payload });
    expect(denied.statusCode).toBe(401);
    const auth = { authorization: "Bearer s3cret-token-for-tests" };
    const ok = await app.inject({ method: "POST", url, payload, headers: auth });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().flag.endMs).toBe(NOW);
    expect(h.open("reset-required")).toBeUndefined();
    const timeline = await get(app, `/api/v1/gpus/${UUID}/health?from=${T0}&to=${NOW + MIN}`, auth);
    expect(timeline.body.acknowledgements).toEqual([expect.objectContaining({ note: payload.note })]);
    const missing = await app.inject({
      method: "POST",
      url: "/api/v1/flags/999999/ack",
      payload,
      headers: auth,
    });
    expect(missing.statusCode).toBe(404);
    const empty = await app.inject({ method: "POST", url, payload: { note: "" }, headers: auth });
    expect(empty.statusCode).toBe(400);
    expect(
      routeAccess(app).filter((r) => r.url.startsWith("/api/") && /ack|health|events/.test(r.url)),
    ).toSatisfy((routes: { public: boolean }[]) => routes.length >= 3 && routes.every((r) => !r.public));
  });

  it("counts Xid events by code and action, and per GPU, on /metrics", async () => {
    const { app } = setup();
    const r = await app.inject({ method: "GET", url: "/metrics", headers: { host: "127.0.0.1" } });
    expect(r.body).toContain('gputel_xid_events_total{code="79",action="reboot"} 2');
    expect(r.body).toContain('gputel_xid_events_total{code="13",action="restart-app"} 1');
    const perGpu = r.body.split("\n").filter((l) => l.startsWith("gputel_gpu_xid_events_total{"));
    // Per GPU too, an event of a bus id the inventory did not know under an empty uuid.
    expect(perGpu).toEqual([
      'gputel_gpu_xid_events_total{host="node-1",gpu="",uuid="",code="48",action="investigate",workload_fault="false"} 1',
      'gputel_gpu_xid_events_total{host="node-1",gpu="0",uuid="GPU-test-0",code="13",action="restart-app",workload_fault="true"} 1',
      'gputel_gpu_xid_events_total{host="node-1",gpu="0",uuid="GPU-test-0",code="79",action="reboot",workload_fault="false"} 2',
    ]);
  });
});
