// The fleet-wide reads (summary, wall-screen cells, usage reports) for a tenant token: counted
// from its own leased GPUs over its own lease periods only, here and on a fan-out peer, with the
// same engine the fleet's figures come from (a tenant's report row equals the admin's report of
// that GPU over the lease's whole minutes).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../cli/query/cli.js";
import { gpuCsv, summaryCsv } from "../../collector/api/answer-csv.js";
import { createApiServer } from "../../collector/api/server.js";
import { newToken, storedTokenLookup } from "../../collector/api/tokens.js";
import type { GpuView, Summary } from "../../collector/contract/api-contract.js";
import { LeaseService } from "../../collector/leases/service.js";
import { silentLogger } from "../../shared/logger.js";
import { buildFleet, type FleetFixture, gpuUuid } from "../api/fleet-fixture.js";

const H = 3_600_000;
const MIN = 60_000;
const ADMIN = "tenant-fleet-admin-token-0123456789";

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
) {
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

async function get(s: Served, path: string, token: string, local = false) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (local) headers["x-gputel-fanout"] = "1";
  const r = await fetch(`${s.url}${path}`, { headers });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const up = (t: number) => Math.ceil(t / MIN) * MIN;
const down = (t: number) => Math.floor(t / MIN) * MIN;

beforeAll(async () => {
  const fleetB = buildFleet({ firstHost: 10, hosts: 1 });
  lease(fleetB, "b-acme", gpuUuid(10, 2), "acme", fleetB.nowMs - 2 * H);
  lease(fleetB, "b-globex", gpuUuid(10, 1), "globex", fleetB.nowMs - 2 * H);
  b = await serve(fleetB);
  const fleetA = buildFleet();
  now = fleetA.nowMs;
  lease(fleetA, "a-hot", gpuUuid(0, 3), "acme", now - 30 * MIN - 1234);
  lease(fleetA, "a-past", gpuUuid(1, 0), "acme", now - 150 * MIN + 500, now - 60 * MIN + 500);
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

type Row = { key: string; busyGpuHours: number; idleHeldGpuHours: number; idleGpuHours: number };

/** The admin's utilization row of one GPU over [from, to). */
async function adminRow(uuid: string, from: number, to: number): Promise<Row> {
  const r = await get(a, `/api/v1/reports/utilization?by=gpu&from=${from}&to=${to}`, ADMIN, true);
  const row = (r.body.groups as Row[]).find((g) => g.key.includes(uuid));
  if (!row) throw new Error(`no row for ${uuid}`);
  return row;
}

describe("a tenant token's summary", () => {
  test("counts only its GPUs leased now, here and on the peer; no other tenant's hosts", async () => {
    const r = await get(a, "/api/v1/summary", acme);
    expect(r.status).toBe(200);
    const s = r.body as {
      gpus: { total: number };
      hosts: { total: number };
      utilization: { now: { busy: number; known: number }; range: Record<string, number> };
      peers: { asked: number; missing: string[] };
    };
    expect(s.gpus.total).toBe(2); // node-a GPU 3 here, node-k GPU 2 on the peer
    expect(s.hosts.total).toBe(2);
    expect(s.utilization.now).toMatchObject({ busy: 1, known: 2 });
    expect(s.peers).toMatchObject({ asked: 1, missing: [] });
    // The fleet's summary is larger: the tenant's is not the fleet's relabelled.
    const fleet = await get(a, "/api/v1/summary", ADMIN);
    expect((fleet.body.gpus as { total: number }).total).toBe(16);
  });

  test("range usage is its lease pieces' usage exactly (whole minutes inside each lease)", async () => {
    const local = await get(a, "/api/v1/summary", acme, true);
    const range = (local.body.utilization as { range: Record<string, number> }).range;
    const hot = await adminRow(gpuUuid(0, 3), up(now - 30 * MIN - 1234), down(now));
    const past = await adminRow(gpuUuid(1, 0), up(now - 150 * MIN + 500), down(now - 60 * MIN + 500));
    expect(range.busyHours).toBeCloseTo(hot.busyGpuHours + past.busyGpuHours, 9);
    expect(range.busyHours).toBeGreaterThan(1.9);
    expect(range.idleHeldHours).toBe(0);
    // The peer's leased GPU is idle-held for its 2 h lease: it arrives through the fan-out.
    const merged = await get(a, "/api/v1/summary", acme);
    const m = (merged.body.utilization as { range: Record<string, number> }).range;
    expect(m.idleHeldHours).toBeGreaterThan(1.9);
    expect(m.busyHours).toBeCloseTo(range.busyHours ?? 0, 9);
  });
});

describe("the summary and a GPU as CSV", () => {
  /** The route asked for CSV by `format=csv` and by `Accept: text/csv`: the body, checked to be the same. */
  async function csvOf(path: string, token: string): Promise<{ status: number; text: string }> {
    const auth = { authorization: `Bearer ${token}` };
    const byFormat = await fetch(`${a.url}${path}${path.includes("?") ? "&" : "?"}format=csv`, {
      headers: auth,
    });
    const byAccept = await fetch(`${a.url}${path}`, { headers: { ...auth, accept: "text/csv" } });
    const text = await byFormat.text();
    expect(await byAccept.text()).toBe(text);
    expect(byAccept.status).toBe(byFormat.status);
    if (byFormat.status === 200) {
      expect(byFormat.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(byFormat.headers.get("content-disposition")).toMatch(
        /^attachment; filename="gputel-[\w.-]+\.csv"$/,
      );
    }
    return { status: byFormat.status, text };
  }

  /** `gputel query ARGS --csv` against the fan-out front with this token: its standard output. */
  async function cli(token: string, ...args: string[]): Promise<string> {
    let out = "";
    const io = {
      stdout: (t: string) => {
        out += t;
      },
      stderr: () => {},
      env: { GPUTEL_API_TOKEN: token },
      isTTY: false,
    };
    expect(await run([...args, "--csv", "--url", a.url], io)).toBe(0);
    return out;
  }

  test("/api/v1/summary answers the CSV gputel query summary prints, a tenant's from its own JSON", async () => {
    const from = now - 6 * H;
    const path = `/api/v1/summary?from=${from}&to=${now}`;
    const csv: Record<string, string> = {};
    for (const [who, token] of [
      ["admin", ADMIN],
      ["acme", acme],
    ] as const) {
      const json = await get(a, path, token);
      // It answered JSON only, whatever was asked.
      const r = await csvOf(path, token);
      expect(r.status).toBe(200);
      expect(r.text, who).toBe(summaryCsv(json.body as unknown as Summary));
      expect(r.text, who).toBe(await cli(token, "summary", "--since", String(from), "--until", String(now)));
      csv[who] = r.text;
    }
    // acme's 2 GPUs (here and on the peer), the fleet's 16.
    expect(csv.acme?.split("\n")[1]).toMatch(/^gpus,,2,gpus,/);
    expect(csv.admin?.split("\n")[1]).toMatch(/^gpus,,16,gpus,/);
  });

  test("/api/v1/gpus/:id answers the CSV gputel query gpu ID prints; another tenant's GPU is 404 as in JSON", async () => {
    const hot = gpuUuid(0, 3);
    for (const token of [ADMIN, acme]) {
      const json = await get(a, `/api/v1/gpus/${hot}`, token);
      expect(json.status).toBe(200);
      const r = await csvOf(`/api/v1/gpus/${hot}`, token);
      expect(r.status).toBe(200);
      expect(r.text).toBe(gpuCsv(json.body as unknown as GpuView));
      expect(r.text).toBe(await cli(token, "gpu", hot));
      expect(r.text.split("\n")[1]).toMatch(new RegExp(`^gpu,node-a:3,node-a,3,${hot},`));
    }
    // On the peer, reached through the fan-out.
    const peers = gpuUuid(10, 2);
    const there = await get(a, `/api/v1/gpus/${peers}`, acme);
    expect((await csvOf(`/api/v1/gpus/${peers}`, acme)).text).toBe(gpuCsv(there.body as unknown as GpuView));
    // globex's GPU: acme gets the same 404 as in JSON, no CSV of it.
    const globex = gpuUuid(0, 1);
    const refused = await csvOf(`/api/v1/gpus/${globex}`, acme);
    expect(refused.status).toBe(404);
    expect(refused.text).not.toContain("entry,");
    expect((await csvOf(`/api/v1/gpus/${globex}`, ADMIN)).status).toBe(200);
  });
});

describe("a tenant token's reports", () => {
  test("utilization by GPU: one row per GPU it leased in the range, each equal to the admin's over its lease", async () => {
    const r = await get(a, "/api/v1/reports/utilization?by=gpu", acme, true);
    expect(r.status).toBe(200);
    const rows = r.body.groups as Row[];
    expect(rows).toHaveLength(2);
    const past = rows.find((g) => g.key.includes(gpuUuid(1, 0)));
    const expected = await adminRow(gpuUuid(1, 0), up(now - 150 * MIN + 500), down(now - 60 * MIN + 500));
    expect(past?.busyGpuHours).toBe(expected.busyGpuHours);
    expect(rows.some((g) => g.key.includes(gpuUuid(0, 1)))).toBe(false);
  });

  test("energy by site counts only its GPUs' lease time", async () => {
    const mine = await get(a, "/api/v1/reports/energy?by=site", acme, true);
    const fleet = await get(a, "/api/v1/reports/energy?by=site", ADMIN, true);
    const kwh = (r: { body: Record<string, unknown> }) => (r.body.total as { energyKwh: number }).energyKwh;
    expect(kwh(mine)).toBeGreaterThan(0);
    expect(kwh(mine)).toBeLessThan(kwh(fleet) / 5);
  });

  test("through the fan-out the answer says it is this collector's only", async () => {
    const r = await get(a, "/api/v1/reports/utilization", acme);
    expect(r.status).toBe(200);
    expect(r.body.fanout).toBe("local only");
  });

  test("grouping by a host label and the thermal report are refused", async () => {
    const label = await get(a, "/api/v1/reports/utilization?by=label:customer", acme, true);
    expect(label).toMatchObject({ status: 400, body: { parameter: "by" } });
    const thermal = await get(a, "/api/v1/reports/thermal", acme, true);
    expect(thermal.status).toBe(403);
    expect((await get(a, "/api/v1/reports/health", acme)).status).toBe(403);
  });
});

describe("a tenant token's wall-screen cells", () => {
  test("hold only its GPUs leased now, here and on the peer, and no other host", async () => {
    const r = await get(a, "/api/v1/fleet/cells?layout=true", acme);
    expect(r.status).toBe(200);
    const cells = r.body as { gpus: { state: number[] }; layout: unknown };
    expect(cells.gpus.state).toHaveLength(2);
    const text = JSON.stringify(cells.layout);
    expect(text).toContain("node-a");
    expect(text).toContain("node-k");
    expect(text).not.toContain("node-b");
    expect(text).not.toContain("globex");
    const local = await get(a, "/api/v1/fleet/cells", acme, true);
    expect((local.body.gpus as { state: number[] }).state).toHaveLength(1);
  });
});
