import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { GpuView, HostView, SeriesView, Summary } from "../../collector/contract/api-contract.js";
import type { Flag } from "../../collector/flags/types.js";
import type {
  CapacityReport,
  EnergyReport,
  ThermalReport,
  UtilizationReport,
} from "../../collector/reports/reports.js";
import { type LiveApi, startLiveApi } from "./server-helpers.js";

let api: LiveApi;
beforeAll(async () => {
  api = await startLiveApi();
});
afterAll(async () => {
  await api?.close();
});

async function ok<T>(path: string): Promise<T> {
  const r = await api.get(path);
  expect(r.status, `${path}: ${r.text}`).toBe(200);
  return r.body as T;
}

describe("endpoints over a real store", () => {
  test("summary counts GPUs, hosts, open flags and the utilization rate now and over a range", async () => {
    const s = await ok<Summary>("/api/v1/summary?from=24h");
    expect(s.gpus.total).toBe(12);
    expect(s.hosts.total).toBe(3);
    expect(s.gpus.byState).toEqual({ ok: 12 });
    expect(s.flags.byKind).toEqual({ overheat: 1, idle: 3, "idle-held": 3 });
    expect(s.utilization.now).toEqual({ busy: 6, known: 12, rate: 0.5 });
    // 3 h of data: 2 busy GPUs of 4 on every host.
    expect(s.utilization.range.utilizationRate).toBeCloseTo(0.5, 2);
    expect(s.utilization.range.busyHours).toBeCloseTo(18, 0);
    expect(s.utilization.range.toMs - s.utilization.range.fromMs).toBe(86_400_000);
  });

  test("hosts lists every host with its GPU and flag counts", async () => {
    const { hosts } = await ok<{ hosts: HostView[] }>("/api/v1/hosts");
    expect(hosts.map((h) => h.name)).toEqual(["node-a", "node-b", "node-c"]);
    expect(hosts[0]).toMatchObject({ site: "fra1", gpus: 4, openFlags: 3, labels: { customer: "acme" } });
  });

  test("gpus gives latest values, state, open flags and inventory; filters narrow it", async () => {
    const all = await ok<{ gpus: GpuView[]; total: number }>("/api/v1/gpus");
    expect(all.total).toBe(12);
    const hot = all.gpus.find((g) => g.uuid === api.fleet.hotUuid);
    expect(hot?.values.temperature_gpu_celsius).toBe(90);
    expect(hot?.flags.map((f) => f.kind)).toEqual(["overheat"]);
    expect(hot?.inventory).toMatchObject({
      serial: "1652303",
      slowdownTemperatureC: 87,
      driverVersion: "550.54.15",
    });
    expect((await ok<{ total: number }>("/api/v1/gpus?host=node-b")).total).toBe(4);
    expect((await ok<{ total: number }>("/api/v1/gpus?site=ams2")).total).toBe(4);
    expect((await ok<{ total: number }>("/api/v1/gpus?label=customer:acme")).total).toBe(8);
    expect((await ok<{ total: number }>("/api/v1/gpus?flag=overheat")).total).toBe(1);
    expect((await ok<{ total: number }>("/api/v1/gpus?state=lost")).total).toBe(0);
    expect((await ok<{ total: number }>("/api/v1/gpus?model=NVIDIA%20H100%2080GB%20HBM3")).total).toBe(12);
    const limited = await ok<{ gpus: GpuView[]; truncated: boolean }>("/api/v1/gpus?limit=5");
    expect(limited.gpus).toHaveLength(5);
    expect(limited.truncated).toBe(true);
  });

  test("gpus/:id by UUID and by host:index; unknown is 404", async () => {
    const a = await ok<GpuView>(`/api/v1/gpus/${api.fleet.hotUuid}`);
    const b = await ok<GpuView>("/api/v1/gpus/node-a:3");
    expect(b.uuid).toBe(a.uuid);
    expect(a.flags[0]?.kind).toBe("overheat");
    const missing = await api.get("/api/v1/gpus/node-z:9");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: "not_found", parameter: "id" });
  });

  test("series: tier by step, min/max/avg per point, the slowdown line", async () => {
    const raw = await ok<SeriesView>(
      "/api/v1/gpus/node-a:3/series?metrics=temperature_gpu_celsius,power_draw_watts&from=1h&step=10s",
    );
    expect(raw.tier).toBe("raw");
    // Buckets align to the step: 360 steps of 10 s, plus one when `from` falls inside a bucket.
    expect(raw.t.length).toBeGreaterThanOrEqual(360);
    expect(raw.t.length).toBeLessThanOrEqual(361);
    expect(raw.metrics.temperature_gpu_celsius?.max.filter((v) => v === 90).length).toBeGreaterThan(350);
    expect(raw.slowdownTemperatureC).toBe(87);
    const minute = await ok<SeriesView>("/api/v1/gpus/node-a:0/series?from=6h&step=5m");
    expect(minute.tier).toBe("1m");
    expect(Object.keys(minute.metrics)).toEqual([
      "utilization_gpu_pct",
      "temperature_gpu_celsius",
      "power_draw_watts",
      "memory_used_mib",
    ]);
    const power = minute.metrics.power_draw_watts;
    const k = minute.t.length - 2;
    expect(power?.min[k]).toBe(600);
    expect(power?.max[k]).toBe(619);
    expect(power?.avg[k]).toBeGreaterThan(600);
    expect(power?.avg[k]).toBeLessThan(619);
    // Before the data began: null, never 0.
    expect(power?.avg[0]).toBeNull();
    const hourly = await ok<SeriesView>(
      `/api/v1/gpus/node-a:0/series?from=${new Date(api.fleet.nowMs - 7 * 86_400_000).toISOString()}&step=1h`,
    );
    expect(hourly.tier).toBe("1h");
  });

  test("flags: open by default, history with filters and durations", async () => {
    const open = await ok<{ flags: (Flag & { durationMs: number })[]; truncated: boolean }>("/api/v1/flags");
    expect(open.flags).toHaveLength(7);
    const hot = await ok<{ flags: (Flag & { durationMs: number })[] }>(
      "/api/v1/flags?kind=overheat&host=node-a",
    );
    expect(hot.flags).toHaveLength(1);
    expect(hot.flags[0]?.gpuUuid).toBe(api.fleet.hotUuid);
    expect(hot.flags[0]?.durationMs).toBe(api.fleet.nowMs - (hot.flags[0]?.startMs ?? 0));
    const all = await ok<{ flags: Flag[] }>("/api/v1/flags?state=all&from=24h&kind=idle,idle-held&site=ams2");
    expect(all.flags.map((f) => f.kind).sort()).toEqual(["idle", "idle-held"]);
    const byLabel = await ok<{ flags: Flag[] }>("/api/v1/flags?state=all&label=customer:globex");
    expect(byLabel.flags.every((f) => f.host === "node-b")).toBe(true);
    const limited = await ok<{ flags: Flag[]; truncated: boolean }>("/api/v1/flags?limit=2");
    expect(limited.flags).toHaveLength(2);
    expect(limited.truncated).toBe(true);
  });

  test("reports: utilization, energy, thermal, capacity (collector/reports), grouped as asked", async () => {
    const u = await ok<UtilizationReport>("/api/v1/reports/utilization?from=24h&by=host");
    expect(u.groupBy).toBe("host");
    expect(u.groups.map((r) => r.key)).toEqual(["node-a", "node-b", "node-c"]);
    expect(u.groups[0]?.utilizationRate).toBeCloseTo(0.5, 2);
    expect(u.total.busyGpuHours).toBeCloseTo(18, 0);
    const e = await ok<EnergyReport>("/api/v1/reports/energy?from=24h&by=label:customer");
    expect(e.groups.map((r) => r.key)).toEqual(["acme", "globex"]);
    // node-b: 2 busy GPUs at ~609.5 W and 2 idle at 70.5 W over 3 h.
    expect(e.groups[1]?.energyKwh).toBeCloseTo(((2 * 609.5 + 2 * 70.5) * 3) / 1000, 0);
    const t = await ok<ThermalReport>("/api/v1/reports/thermal?from=24h&by=site");
    expect(t.total.overheatGpuHours).toBeGreaterThan(2.9);
    expect(t.hottest[0]?.uuid).toBe(api.fleet.hotUuid);
    const c = await ok<CapacityReport>("/api/v1/reports/capacity");
    expect(c.groupBy).toBe("model");
    expect(c.groups[0]).toMatchObject({ key: "NVIDIA H100 80GB HBM3", gpus: 12 });
    expect(c.total.installedPflops).toBeGreaterThan(11);
  });

  test("times accept RFC 3339, epoch ms and durations", async () => {
    const to = api.fleet.nowMs;
    const a = await ok<Summary>(`/api/v1/summary?from=${to - 7_200_000}&to=${to}`);
    const b = await ok<Summary>(
      `/api/v1/summary?from=${encodeURIComponent(new Date(to - 7_200_000).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}`,
    );
    const c = await ok<Summary>("/api/v1/summary?from=2h");
    expect(a.utilization.range).toEqual(b.utilization.range);
    expect(c.utilization.range).toEqual(a.utilization.range);
  });
});

describe("bad parameters: 400 naming the parameter", () => {
  const cases: [string, string][] = [
    ["/api/v1/summary?from=yesterday", "from"],
    ["/api/v1/summary?to=2024-13-45", "to"],
    ["/api/v1/summary?from=1h&to=2h", "from"],
    ["/api/v1/summary?bogus=1", "bogus"],
    ["/api/v1/hosts?x=1", "x"],
    ["/api/v1/gpus?state=melted", "state"],
    ["/api/v1/gpus?flag=sleepy", "flag"],
    ["/api/v1/gpus?label=nocolon", "label"],
    ["/api/v1/gpus?host=bad%20host", "host"],
    ["/api/v1/gpus?limit=abc", "limit"],
    ["/api/v1/gpus?limit=0", "limit"],
    ["/api/v1/gpus/node-a:0?extra=1", "extra"],
    ["/api/v1/gpus/node-a:0/series?metrics=watts", "metrics"],
    ["/api/v1/gpus/node-a:0/series?metrics=a;DROP", "metrics"],
    ["/api/v1/gpus/node-a:0/series?step=0s", "step"],
    ["/api/v1/gpus/node-a:0/series?step=fast", "step"],
    ["/api/v1/flags?state=closed", "state"],
    ["/api/v1/flags?kind=idle,melting", "kind"],
    ["/api/v1/flags?from=later", "from"],
    ["/api/v1/reports/utilization?by=customer", "by"],
    ["/api/v1/reports/utilization?from=soon", "from"],
    ["/api/v1/reports/speed", "kind"],
    ["/metrics?format=json", "format"],
  ];
  test.each(cases)("%s → %s", async (path, parameter) => {
    const r = await api.get(path);
    expect(r.status, r.text).toBe(400);
    expect(r.body).toMatchObject({ error: "bad_request", parameter });
    expect(typeof (r.body as { message: string }).message).toBe("string");
  });

  test("an id with characters outside the UUID/host alphabet is refused", async () => {
    const r = await api.get("/api/v1/gpus/node'a:0");
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ parameter: "id" });
  });

  test("unknown route is a JSON 404", async () => {
    const r = await api.get("/api/v2/nothing");
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: "not_found" });
  });
});

describe("limits", () => {
  test("a range longer than 400 days is refused", async () => {
    const r = await api.get("/api/v1/summary?from=401d");
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ parameter: "from" });
    expect((r.body as { message: string }).message).toMatch(/400 days/);
    expect((await api.get("/api/v1/reports/energy?from=399d")).status).toBe(200);
  });

  test("more than 11,000 points per series is refused, 11,000 is served", async () => {
    const too = await api.get("/api/v1/gpus/node-a:0/series?from=2d&step=10s");
    expect(too.status).toBe(400);
    expect(too.body).toMatchObject({ parameter: "step" });
    const max = await api.get(
      `/api/v1/gpus/node-a:0/series?from=${api.fleet.nowMs - 11_000_000}&to=${api.fleet.nowMs}&step=1s`,
    );
    expect(max.status).toBe(200);
  });

  test("limit above the cap is refused", async () => {
    const r = await api.get("/api/v1/flags?limit=10001");
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ parameter: "limit" });
    expect((await api.get("/api/v1/flags?limit=10000")).status).toBe(200);
  });

  test("request bodies are refused beyond a small limit", async () => {
    const response = await fetch(`${api.url}/api/v1/summary`, {
      method: "POST",
      body: "x".repeat(100_000),
      headers: { "content-type": "application/json" },
    });
    expect([404, 413]).toContain(response.status);
  });
});
