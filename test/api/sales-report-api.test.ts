// /api/v1/reports/sales (issue 15, "Fleet figures") on a real collector, against figures worked
// out by hand: three GPUs, one re-leased from acme to globex, one idle GPU never leased, one
// leased before the collector first saw it (that lease sells only from the first sighting on).
// Exact ms underneath, the rates from them; GPUs for sale now by model with their PFLOPS; CSV;
// `gputel query report sales`; a tenant token is refused (fleet-wide figures).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run as query } from "../../cli/query/cli.js";
import { newToken } from "../../collector/api/tokens.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import type { SalesReport } from "../../collector/reports/sales-report.js";
import { GpuState } from "../../shared/proto.js";
import { leaseRecord } from "../collector/leases/store-helpers.js";
import { runCaptured } from "../helpers/cli.js";
import { startTestCollector, type TestCollector } from "../security/collector-helpers.js";

const TOKEN = "sales-report-admin-token-0123456789";
const MIN = 60_000;
const STEP = 10_000;
// Whole minutes, 150 minutes back: the range [START, START + 120 min) lies wholly before now.
const START = Math.floor((Date.now() - 150 * MIN) / MIN) * MIN;
const END = START + 120 * MIN;
const H100 = "NVIDIA H100 80GB HBM3";
const L40S = "NVIDIA L40S";
const G1 = "GPU-5a1e0001-2222-3333-4444-555555555555";
const G2 = "GPU-5a1e0002-2222-3333-4444-555555555555";
const G3 = "GPU-5a1e0003-2222-3333-4444-555555555555";

let c: TestCollector;
let acmeToken = "";

/** A host's frames every 10 s over [fromMs, toMs); `util(uuid, ts)` gives each GPU's reading. */
function frames(
  host: string,
  site: string,
  uuids: readonly string[],
  fromMs: number,
  toMs: number,
  util: (uuid: string, ts: number) => number,
): ValidFrame[] {
  const out: ValidFrame[] = [];
  for (let ts = fromMs, seq = 1; ts < toMs; ts += STEP, seq++)
    out.push({
      host,
      boot_id: "boot-1",
      seq,
      timestamp_ms: ts,
      interval_ms: STEP,
      site,
      labels: {},
      gpus: uuids.map((uuid, index) => ({
        index,
        uuid,
        state: GpuState.GPU_STATE_OK,
        utilization_gpu_pct: util(uuid, ts),
      })),
    } as ValidFrame);
  return out;
}

/** The host's inventory, received at `atMs`: the GPUs' first sighting. */
function inventory(host: string, site: string, gpus: readonly [string, string][], atMs: number) {
  c.running.store.writeInventory(
    {
      host,
      timestamp_ms: atMs,
      driver_version: "550.54.15",
      site,
      labels: {},
      gpus: gpus.map(([uuid, name], index) => ({ index, uuid, name, serial: `s${index}`, pci_bus_id: "" })),
    },
    atMs,
  );
}

async function get(path: string, token = TOKEN, accept = "application/json") {
  const response = await fetch(`${c.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept } });
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    text: await response.text(),
  };
}

beforeAll(async () => {
  c = await startTestCollector({ token: TOKEN });
  const store = c.running.store;
  // host-a (fra1): G1 busy (50 %) for 90 minutes then idle, G2 idle throughout; both seen at START.
  inventory(
    "host-a",
    "fra1",
    [
      [G1, H100],
      [G2, H100],
    ],
    START,
  );
  const a = frames("host-a", "fra1", [G1, G2], START, END, (uuid, ts) =>
    uuid === G1 && ts < START + 90 * MIN ? 50 : 0,
  );
  // host-b (ams2): G3 first seen 30 minutes in, busy throughout.
  inventory("host-b", "ams2", [[G3, L40S]], START + 30 * MIN);
  const b = frames("host-b", "ams2", [G3], START + 30 * MIN, END, () => 50);
  for (const list of [a, b])
    for (let i = 0; i < list.length; i += 100) store.writeFrames(list.slice(i, i + 100), Date.now());
  const lease = (id: string, gpu: string, tenant: string, startMs: number, endMs: number | null) =>
    store.leases.insert(leaseRecord({ id, gpu, tenant, startMs, endMs }), START);
  lease("acme-1", G1, "acme", START, START + 60 * MIN);
  lease("globex-1", G1, "globex", START + 60 * MIN, null);
  // Recorded from an hour before the collector knew G3; ended 90 minutes in: G3 is for sale now.
  lease("initech-1", G3, "initech", START - 60 * MIN, START + 90 * MIN);
  const t = newToken();
  store.tokens.insert(t.id, "tenant:acme", t.digest, "", Date.now());
  acmeToken = t.token;
});
afterAll(async () => {
  await c?.close();
});

describe("the sales report", () => {
  test("by model: installed, leased and busy ms as worked out by hand; rates; GPUs for sale with PFLOPS", async () => {
    const r = await get(`/api/v1/reports/sales?from=${START}&to=${END}`);
    expect(r.status).toBe(200);
    const s = JSON.parse(r.text) as SalesReport;
    expect([s.kind, s.groupBy, s.fromMs, s.toMs]).toEqual(["sales", "model", START, END]);
    const pick = (x: SalesReport["total"]) => [
      x.key,
      x.gpus,
      x.installedMs,
      x.leasedMs,
      x.busyMs,
      x.gpusNow,
      x.leasedNow,
      x.forSaleNow,
    ];
    // Installed: G1 and G2 120 min each, G3 90 (from its first sighting). Leased: G1 acme 60 +
    // globex 60 (open, up to the range's end); G3 60 (from its first sighting to the lease's end).
    // Busy in leases: acme 60, globex 30 (G1 idles after 90 min), initech 60.
    expect(s.groups.map(pick)).toEqual([
      [H100, 2, 240 * MIN, 120 * MIN, 90 * MIN, 2, 1, 1],
      [L40S, 1, 90 * MIN, 60 * MIN, 60 * MIN, 1, 0, 1],
    ]);
    expect(pick(s.total)).toEqual(["total", 3, 330 * MIN, 180 * MIN, 150 * MIN, 3, 1, 2]);
    expect(s.total.soldRate).toBe(180 / 330);
    expect(s.total.usedRate).toBe(150 / 180);
    expect(s.total.leasedGpuHours).toBe(3);
    expect([s.groups[0]?.soldRate, s.groups[0]?.usedRate]).toEqual([0.5, 0.75]);
    expect([s.groups[1]?.soldRate, s.groups[1]?.usedRate]).toEqual([60 / 90, 1]);
    // For sale now: G2 (H100 SXM, 989.4 dense TFLOPS) and G3 (L40S, 362.05), whatever the grouping.
    expect(s.forSale.map((m) => [m.model, m.tableModel, m.denseFp16Tflops, m.gpus])).toEqual([
      [H100, "H100 SXM", 989.4, 1],
      [L40S, "L40S", 362.05, 1],
    ]);
    expect(s.forSale[0]?.pflops).toBeCloseTo(0.9894, 10);
    expect(s.forSale[1]?.pflops).toBeCloseTo(0.36205, 10);
    expect(s.total.forSalePflops).toBeCloseTo(1.35145, 10);
    expect(s.unknownModels).toEqual([]);
  });

  test("by site, and a range that ends before a lease's start", async () => {
    const s = JSON.parse(
      (await get(`/api/v1/reports/sales?from=${START}&to=${END}&by=site`)).text,
    ) as SalesReport;
    expect(s.groups.map((g) => [g.key, g.installedMs, g.leasedMs, g.busyMs])).toEqual([
      ["ams2", 90 * MIN, 60 * MIN, 60 * MIN],
      ["fra1", 240 * MIN, 120 * MIN, 90 * MIN],
    ]);
    const early = JSON.parse(
      (await get(`/api/v1/reports/sales?from=${START}&to=${START + 30 * MIN}`)).text,
    ) as SalesReport;
    // Before G3 was seen: G1 and G2 installed 30 min each, G1 leased to acme for all of it.
    expect([early.total.installedMs, early.total.leasedMs, early.total.busyMs]).toEqual([
      60 * MIN,
      30 * MIN,
      30 * MIN,
    ]);
    expect(early.total.soldRate).toBe(0.5);
    expect(early.total.gpus).toBe(2);
  });

  test("CSV: a group column, the rows' columns, a TOTAL line; bad grouping names the parameter", async () => {
    const r = await get(`/api/v1/reports/sales?from=${START}&to=${END}`, TOKEN, "text/csv");
    expect(r.type).toContain("text/csv");
    const [header, , , total] = r.text.trim().split(/\r?\n/);
    expect(header?.startsWith("group,gpus,installed_ms,leased_ms,busy_ms,")).toBe(true);
    expect(header).toContain("sold_pct,used_pct");
    expect(total?.startsWith(`TOTAL,3,${330 * MIN},${180 * MIN},${150 * MIN},`)).toBe(true);
    const bad = await get("/api/v1/reports/sales?by=tenant");
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ parameter: "by" });
  });

  test("a tenant token may not see fleet-wide sales figures", async () => {
    const r = await get(`/api/v1/reports/sales?from=${START}&to=${END}`, acmeToken);
    expect(r.status).toBe(403);
    expect(r.text).not.toContain("globex");
  });

  test("gputel query report sales: a table with the GPUs for sale, CSV equal to the API's", async () => {
    const cli = (args: string[]) =>
      runCaptured(
        query,
        ["report", "sales", "--since", String(START), "--until", String(END), "--url", c.url, ...args],
        { GPUTEL_API_TOKEN: TOKEN },
      );
    const t = await cli([]);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/MODEL\s+GPUS\s+INSTALLED h\s+LEASED h\s+BUSY h\s+SOLD\s+USED/);
    expect(t.out).toMatch(/TOTAL\s+3\s+5\.5\s+3\.0\s+2\.5\s+54\.5 %\s+83\.3 %\s+3\s+1\s+2\s+1\.35/);
    expect(t.out).toContain("GPUs for sale now");
    expect(t.out).toMatch(/NVIDIA L40S\s+1\s+362\.1\s+0\.362/);
    const csv = await cli(["--format", "csv"]);
    const api = await get(`/api/v1/reports/sales?from=${START}&to=${END}&format=csv`);
    expect(csv.out).toBe(api.text);
    const json = JSON.parse((await cli(["--json"])).out) as SalesReport;
    expect(json.total.leasedMs).toBe(180 * MIN);
  });
});
