// GET /api/v1/export over the real server and store (fleet-fixture: 3 hosts x 4 GPUs, 3 h at
// 10 s): parameters are checked like the other routes' (400 naming the parameter, 404 for an
// unknown GPU), the answer streams with the format's content type, a GPU selection holds only
// those GPUs, and a client that goes away mid-export leaves the server answering.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveApi, startLiveApi } from "./server-helpers.js";

let api: LiveApi;
beforeAll(async () => {
  api = await startLiveApi();
}, 60_000);
afterAll(async () => api?.close());

const bad = async (query: string) => {
  const r = await api.get(`/api/v1/export?${query}`);
  return { status: r.status, body: r.body as { error: string; parameter?: string; message: string } };
};

describe("GET /api/v1/export parameters", () => {
  it("requires from and format", async () => {
    expect((await bad("format=csv")).body.parameter).toBe("from");
    expect((await bad("from=1h")).body.parameter).toBe("format");
  });

  it("refuses an unknown format, tier, parameter, or a range past 400 days", async () => {
    const format = await bad("from=1h&format=parquet");
    expect(format).toMatchObject({ status: 400, body: { parameter: "format" } });
    const tier = await bad("from=1h&format=csv&tier=5m");
    expect(tier).toMatchObject({ status: 400, body: { parameter: "tier" } });
    expect(tier.body.message).toContain("raw, 1m, 1h");
    expect(await bad("from=1h&format=csv&metric=x")).toMatchObject({
      status: 400,
      body: { parameter: "metric" },
    });
    expect(await bad("from=500d&format=csv")).toMatchObject({ status: 400, body: { parameter: "from" } });
    expect(await bad("from=1h&to=2h&format=csv")).toMatchObject({ status: 400, body: { parameter: "from" } });
    expect(await bad("from=yesterday&format=csv")).toMatchObject({
      status: 400,
      body: { parameter: "from" },
    });
    expect(await bad("from=1h&format=csv&gpu=a%20b")).toMatchObject({ status: 400 });
  });

  it("answers 404 naming an unknown GPU before streaming anything", async () => {
    const r = await bad("from=1h&format=csv&gpu=GPU-nope");
    expect(r).toMatchObject({ status: 404, body: { error: "not_found", parameter: "gpu" } });
    expect(r.body.message).toContain("GPU-nope");
  });
});

describe("GET /api/v1/export answers", () => {
  it("streams CSV of the GPUs asked for (repeated or comma-separated, by UUID or host:index)", async () => {
    const [a, b] = api.fleet.store.latest();
    const host = `${b?.host}:${b?.index}`;
    const response = await fetch(
      `${api.url}/api/v1/export?from=30m&format=csv&gpu=${a?.uuid},${host}&gpu=${a?.uuid}`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/csv");
    expect(response.headers.get("content-disposition")).toMatch(
      // Named as every other download (reportFileName): times as 20261101T0000Z, not milliseconds.
      /^attachment; filename="gputel-export-raw-\d{8}T\d{4}Z-\d{8}T\d{4}Z\.csv"$/,
    );
    const rows = (await response.text()).trimEnd().split("\n").slice(1);
    const uuids = new Set(rows.map((r) => r.split(",")[4]));
    expect(uuids).toEqual(new Set([a?.uuid, b?.uuid]));
    // 30 minutes at 10 s per GPU.
    expect(rows.length).toBeGreaterThanOrEqual(2 * 179);
    expect(rows.length).toBeLessThanOrEqual(2 * 181);
  });

  it("gives each format its content type; OpenMetrics ends with # EOF", async () => {
    const om = await fetch(`${api.url}/api/v1/export?from=10m&format=openmetrics&tier=1m`);
    expect(om.headers.get("content-type")).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    const text = await om.text();
    expect(text.endsWith("# EOF\n")).toBe(true);
    expect(text).toContain("# TYPE gputel_gpu_power_draw_watts:avg_1m gauge");
    const vm = await fetch(`${api.url}/api/v1/export?from=10m&format=vm-jsonl`);
    expect(vm.headers.get("content-type")).toContain("application/x-ndjson");
    for (const line of (await vm.text()).trimEnd().split("\n"))
      expect(JSON.parse(line)).toHaveProperty("metric.__name__");
  });

  it("keeps answering after a client leaves in the middle of an export", async () => {
    const controller = new AbortController();
    const response = await fetch(`${api.url}/api/v1/export?from=3h&format=openmetrics`, {
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    await reader?.cancel().catch(() => undefined);
    const again = await api.get("/api/v1/export?from=1m&format=csv");
    expect(again.status).toBe(200);
  });
});
