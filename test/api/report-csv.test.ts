// Reports as CSV from the API (?format=csv or Accept: text/csv), written by the one report CSV
// writer, and the downtime report over a real store: a GPU lost for 30 minutes is listed with
// its interval and reason.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { answerRead } from "../../collector/api/read-requests.js";
import type { DowntimeReport, EnergyReport, UtilizationReport } from "../../collector/reports/reports.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { gpuUuid } from "./fleet-fixture.js";
import { type LiveApi, startLiveApi } from "./server-helpers.js";

const MIN = 60_000;
let api: LiveApi;
let lostFrom: number;
beforeAll(async () => {
  api = await startLiveApi();
  const now = api.fleet.nowMs;
  lostFrom = now - 120 * MIN;
  const store = new FlagStore(api.fleet.store.db);
  const f = store.insert(
    {
      kind: "lost",
      severity: "critical",
      host: "node-a",
      gpuUuid: gpuUuid(0, 1),
      gpuIndex: 1,
      site: "fra1",
      labels: { customer: "acme" },
      startMs: lostFrom,
      reason: "GPU fell off the bus",
      values: {},
    },
    lostFrom,
  );
  store.close({ ...f, endMs: lostFrom + 30 * MIN, updatedMs: lostFrom + 30 * MIN });
});
afterAll(async () => {
  await api?.close();
});

function parseCsv(text: string): string[][] {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => line.split(","));
}

describe("report CSV", () => {
  test("utilization: one line per group and TOTAL, busy share and mean utilization side by side, equal to the JSON", async () => {
    const json = (await api.get("/api/v1/reports/utilization?from=24h&by=host")).body as UtilizationReport;
    const r = await api.get("/api/v1/reports/utilization?from=24h&by=host&format=csv");
    expect(r.status).toBe(200);
    const [header, ...rows] = parseCsv(r.text);
    expect(header?.[0]).toBe("group");
    const rate = header?.indexOf("utilization_pct") ?? -1;
    const mean = header?.indexOf("mean_utilization_pct") ?? -1;
    expect(mean).toBe(rate + 1);
    expect(rows.map((row) => row[0])).toEqual(["node-a", "node-b", "node-c", "TOTAL"]);
    // The busy share as a percentage, as the lease CSVs write theirs (the JSON keeps the 0–1 ratio).
    expect(Number(rows[0]?.[rate])).toBe(Number(((json.groups[0]?.utilizationRate ?? 0) * 100).toFixed(3)));
    expect(Number(rows[0]?.[mean])).toBe(json.meanUtilizationPct?.groups["node-a"]);
    expect(Number(rows[3]?.[mean])).toBe(json.meanUtilizationPct?.total);
    // Busy GPUs run at 90–99 %: the average load is not the busy share.
    expect(Number(rows[0]?.[mean])).toBeGreaterThan(40);
  });

  test("every fleet report's CSV names its columns in snake_case with units, as the lease, health and process CSVs", async () => {
    const headers: Record<string, string> = {};
    for (const kind of ["utilization", "energy", "thermal", "capacity", "downtime", "sales"]) {
      const r = await api.get(`/api/v1/reports/${kind}?from=24h&format=csv`);
      expect(r.status, kind).toBe(200);
      headers[kind] = r.text.split("\n")[0] ?? "";
    }
    expect(headers).toEqual({
      utilization:
        "group,gpus,busy_gpu_h,idle_gpu_h,idle_held_gpu_h,unknown_gpu_h,unknown_reported_gpu_h,no_data_gpu_h,utilization_pct,mean_utilization_pct,utilization_including_unknown_pct",
      energy: "group,gpus,energy_kwh,idle_energy_kwh,wasted_pct",
      thermal:
        "group,gpus,overheat_gpu_h,overheat_episodes,throttled_gpu_h,throttled_episodes,throttle_lost_gpu_min",
      capacity: "group,gpus,installed_pflops,used_pflops",
      downtime: "gpu,host,index,uuid,model,site,group,from,to,for_ms,kinds,reasons",
      sales:
        "group,gpus,installed_ms,leased_ms,busy_ms,installed_gpu_h,leased_gpu_h,busy_gpu_h,sold_pct,used_pct,gpus_now,leased_now,for_sale_now,for_sale_pflops",
    });
    // Shares are percentages (the JSON's ratios × 100), hours and kWh as the JSON has them.
    const energy = (await api.get("/api/v1/reports/energy?from=24h&by=host")).body as EnergyReport;
    const total = parseCsv((await api.get("/api/v1/reports/energy?from=24h&by=host&format=csv")).text).at(-1);
    expect(total).toEqual([
      "TOTAL",
      String(energy.total.gpus),
      String(energy.total.energyKwh),
      String(energy.total.idleEnergyKwh),
      String(Number(((energy.total.wastedShare ?? 0) * 100).toFixed(3))),
    ]);
  });

  test("Accept: text/csv asks for CSV too, named as an attachment", async () => {
    const r = await fetch(`${api.url}/api/v1/reports/energy?from=24h&by=label:customer`, {
      headers: { accept: "text/csv" },
    });
    expect(r.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(r.headers.get("content-disposition")).toMatch(
      /^attachment; filename="gputel-energy-\d{8}T\d{4}Z-\d{8}T\d{4}Z\.csv"$/,
    );
    const rows = parseCsv(await r.text());
    expect(rows.map((row) => row[0])).toEqual(["group", "acme", "globex", "TOTAL"]);
    const json = await api.get("/api/v1/reports/energy?from=24h&by=label:customer", {
      accept: "application/json",
    });
    expect(json.text.startsWith("{")).toBe(true);
  });

  test("by GPU, CSV names GPUs host:index (the JSON keeps UUIDs)", async () => {
    const r = await api.get("/api/v1/reports/thermal?from=24h&by=gpu&format=csv");
    const groups = parseCsv(r.text).map((row) => row[0]);
    expect(groups).toContain("node-a:3");
    expect(groups.some((g) => g?.startsWith("GPU-"))).toBe(false);
  });

  test("downtime: the lost GPU with its interval and reason; totals by site", async () => {
    const r = (await api.get("/api/v1/reports/downtime?from=24h&by=site")).body as DowntimeReport;
    expect(r.kind).toBe("downtime");
    expect(r.down.map((d) => [d.gpu, d.downMs])).toEqual([["node-a:1", 30 * MIN]]);
    expect(r.down[0]?.intervals[0]).toMatchObject({
      fromMs: lostFrom,
      kinds: ["lost"],
      reasons: ["GPU fell off the bus"],
    });
    const fra = r.groups.find((g) => g.key === "fra1");
    expect(fra).toMatchObject({ downGpus: 1, downIntervals: 1, downGpuHours: 0.5, lostGpuHours: 0.5 });
    expect(r.groups.find((g) => g.key === "ams2")?.downGpus).toBe(0);
    const csv = parseCsv((await api.get("/api/v1/reports/downtime?from=24h&by=site&format=csv")).text);
    expect(csv[0]).toEqual([
      "gpu",
      "host",
      "index",
      "uuid",
      "model",
      "site",
      "group",
      "from",
      "to",
      "for_ms",
      "kinds",
      "reasons",
    ]);
    expect(csv.slice(1)).toEqual([
      [
        "node-a:1",
        "node-a",
        "1",
        gpuUuid(0, 1),
        "NVIDIA H100 80GB HBM3",
        "fra1",
        "fra1",
        new Date(lostFrom).toISOString(),
        new Date(lostFrom + 30 * MIN).toISOString(),
        String(30 * MIN),
        "lost",
        "GPU fell off the bus",
      ],
    ]);
  });

  test("the read worker's request answers the downtime report the same (the route's answer)", async () => {
    const now = api.fleet.nowMs;
    const fromRoute = (await api.get(`/api/v1/reports/downtime?from=${now - 86_400_000}&to=${now}&by=site`))
      .body as DowntimeReport;
    const fromWorker = answerRead(api.fleet.store, new FlagStore(api.fleet.store.db), {
      op: "report",
      kind: "downtime",
      fromMs: now - 86_400_000,
      toMs: now,
      groupBy: "site",
      nowMs: now,
    });
    expect(fromWorker).toEqual(fromRoute);
  });

  test("format is checked", async () => {
    expect((await api.get("/api/v1/reports/energy?format=xml")).status).toBe(400);
  });
});
