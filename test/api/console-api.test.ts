// The operator's console API (issue 18): open flags most severe and longest open first with true
// totals per kind and paging; the compact cells a wall screen polls; compressed JSON answers.
import { request } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pickEncoding } from "../../collector/api/compress.js";
import type { FleetCells } from "../../collector/api/fleet-cells.js";
import type { Summary } from "../../collector/contract/api-contract.js";
import { compareProblems } from "../../collector/flags/order.js";
import type { Flag } from "../../collector/flags/types.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { type LiveApi, startLiveApi } from "./server-helpers.js";

interface FlagsAnswer {
  flags: Flag[];
  total: number;
  totalsByKind: Record<string, number>;
  truncated: boolean;
  next: number | null;
  offset: number;
  limit: number;
}

let api: LiveApi;
beforeAll(async () => {
  api = await startLiveApi();
  // Twenty idle flags opened after the overheat one: newest first, they would hide it.
  const store = new FlagStore(api.fleet.store.db);
  for (let n = 0; n < 20; n++) {
    store.insert(
      {
        kind: "idle",
        severity: "info",
        host: `node-z${n}`,
        gpuUuid: `GPU-late-${n}`,
        gpuIndex: 0,
        site: "fra1",
        labels: { customer: "initech" },
        startMs: api.fleet.nowMs - 60_000 + n,
        reason: "idle for 1h",
        values: {},
      },
      api.fleet.nowMs,
    );
  }
});
afterAll(async () => {
  await api?.close();
});

async function ok<T>(path: string): Promise<T> {
  const r = await api.get(path);
  expect(r.status, `${path}: ${r.text}`).toBe(200);
  return r.body as T;
}

/** Raw bytes of one answer as sent, with the Accept-Encoding given. */
function raw(
  path: string,
  acceptEncoding?: string,
): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${api.url}${path}`,
      { headers: acceptEncoding === undefined ? {} : { "accept-encoding": acceptEncoding } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("open flags, problems first", () => {
  test("the overheat flag leads a short page although 20 newer flags exist", async () => {
    const page = await ok<FlagsAnswer>("/api/v1/flags?limit=5");
    expect(page.flags[0]?.kind).toBe("overheat");
    expect(page.flags[0]?.gpuUuid).toBe(api.fleet.hotUuid);
  });

  test("most severe first, then the kind, then the longest open", async () => {
    const all = await ok<FlagsAnswer>("/api/v1/flags");
    expect(all.flags.map((f) => f.severity)).toEqual(
      [...all.flags].sort(compareProblems).map((f) => f.severity),
    );
    for (let i = 1; i < all.flags.length; i++)
      expect(compareProblems(all.flags[i - 1] as Flag, all.flags[i] as Flag)).toBeLessThan(0);
    const idle = all.flags.filter((f) => f.kind === "idle");
    expect(idle.map((f) => f.startMs)).toEqual([...idle.map((f) => f.startMs)].sort((a, b) => a - b));
    expect(all.flags.map((f) => f.kind).indexOf("idle-held")).toBeLessThan(
      all.flags.map((f) => f.kind).indexOf("idle"),
    );
  });

  test("true totals per kind whatever the page size", async () => {
    const page = await ok<FlagsAnswer>("/api/v1/flags?limit=1");
    expect(page.total).toBe(27);
    expect(page.totalsByKind).toMatchObject({ overheat: 1, idle: 23, "idle-held": 3, lost: 0, stale: 0 });
    expect(page.flags).toHaveLength(1);
    expect(page.truncated).toBe(true);
    const site = await ok<FlagsAnswer>("/api/v1/flags?limit=1&site=ams2");
    const k = site.totalsByKind;
    expect(site.total).toBe((k.idle ?? 0) + (k["idle-held"] ?? 0) + (k.overheat ?? 0));
    expect(site.total).toBeGreaterThan(0);
    const summary = await ok<Summary>("/api/v1/summary");
    expect(summary.flags.open).toBe(page.total);
  });

  test("pages walk the whole ordered list once, `next` ends at null", async () => {
    const whole = await ok<FlagsAnswer>("/api/v1/flags?limit=1000");
    const ids: number[] = [];
    let offset: number | null = 0;
    let pages = 0;
    while (offset !== null) {
      const p: FlagsAnswer = await ok<FlagsAnswer>(`/api/v1/flags?limit=5&offset=${offset}`);
      expect(p.offset).toBe(offset);
      expect(p.truncated).toBe(p.next !== null);
      ids.push(...p.flags.map((f) => f.id));
      offset = p.next;
      pages++;
    }
    expect(pages).toBe(6);
    expect(ids).toEqual(whole.flags.map((f) => f.id));
    expect(whole.next).toBeNull();
    expect(whole.truncated).toBe(false);
  });

  test("history: true totals from the store and pages newest first", async () => {
    const first = await ok<FlagsAnswer>("/api/v1/flags?state=all&limit=4");
    expect(first.total).toBe(27);
    expect(first.totalsByKind.idle).toBe(23);
    expect(first.next).toBe(4);
    const second = await ok<FlagsAnswer>("/api/v1/flags?state=all&limit=4&offset=4");
    const both = await ok<FlagsAnswer>("/api/v1/flags?state=all&limit=8");
    expect([...first.flags, ...second.flags].map((f) => f.id)).toEqual(both.flags.map((f) => f.id));
  });

  test("a bad offset is refused by name", async () => {
    for (const q of ["offset=-1", "offset=x", "offset=1000001"]) {
      const r = await api.get(`/api/v1/flags?${q}`);
      expect(r.status).toBe(400);
      expect((r.body as { parameter: string }).parameter).toBe("offset");
    }
  });
});

describe("fleet cells", () => {
  test("columns per GPU, the layout when asked, a stable version", async () => {
    const withLayout = await ok<FleetCells>("/api/v1/fleet/cells?layout=true");
    const plain = await ok<FleetCells>("/api/v1/fleet/cells");
    expect(plain.layout).toBeUndefined();
    expect(plain.layoutVersion).toBe(withLayout.layoutVersion);
    const layout = withLayout.layout;
    if (!layout) throw new Error("no layout");
    expect(layout.gpus.uuid).toHaveLength(12);
    expect(layout.hosts.name).toEqual(["node-a", "node-b", "node-c"]);
    expect(layout.sites.sort()).toEqual(["ams2", "fra1"]);
    expect(layout.hosts.labels[1]).toEqual({ customer: "globex", "rack-id": "r1" });
    for (const col of Object.values(plain.gpus)) expect(col).toHaveLength(12);
    const hot = layout.gpus.uuid.indexOf(api.fleet.hotUuid);
    expect(layout.hosts.name[layout.gpus.host[hot] ?? -1]).toBe("node-a");
    expect(layout.gpus.index[hot]).toBe(3);
    expect(plain.gpus.temp[hot]).toBe(90);
    expect(plain.states[plain.gpus.state[hot] ?? -1]).toBe("ok");
    expect(plain.usage[plain.gpus.usage[hot] ?? -1]).toBe("busy");
    const kinds = (mask: number) => plain.kinds.filter((_, i) => mask & (1 << i));
    expect(kinds(plain.gpus.flags[hot] ?? 0)).toEqual(["overheat"]);
    // GPU 1 of every host is idle, GPU 2 idle-held (the fixture's profiles).
    expect(kinds(plain.gpus.flags[1] ?? 0)).toEqual(["idle"]);
    expect(plain.usage[plain.gpus.usage[2] ?? -1]).toBe("idle_held");
  });

  test("unknown parameters are refused", async () => {
    expect((await api.get("/api/v1/fleet/cells?layout=maybe")).status).toBe(400);
    expect((await api.get("/api/v1/fleet/cells?uuid=1")).status).toBe(400);
  });

  test("the summary gives mean utilization beside the busy share", async () => {
    const s = await ok<Summary>("/api/v1/summary?from=24h");
    // Busy GPUs run at 90–99 %, idle ones at 0 %: half busy, mean in between.
    expect(s.utilization.now.rate).toBe(0.5);
    expect(s.utilization.meanNowPct).toBeGreaterThan(44);
    expect(s.utilization.meanNowPct).toBeLessThan(50);
    expect(s.utilization.range.meanUtilizationPct).toBeGreaterThan(44);
    expect(s.utilization.range.meanUtilizationPct).toBeLessThan(50);
  });
});

describe("compression", () => {
  test("brotli or gzip as the client asks, the same JSON either way", async () => {
    const plain = await raw("/api/v1/gpus");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    const br = await raw("/api/v1/gpus", "gzip, deflate, br");
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toContain("accept-encoding");
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(br.body.length * 5).toBeLessThan(plain.body.length);
    const gz = await raw("/api/v1/flags", "gzip");
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(JSON.parse(gunzipSync(gz.body).toString()).total).toBe(27);
    const metrics = await raw("/metrics", "gzip");
    expect(metrics.headers["content-encoding"]).toBe("gzip");
  });

  test("small answers, refused encodings and static files stay as they are", async () => {
    expect((await raw("/api/v1/gpus", "br;q=0, identity")).headers["content-encoding"]).toBeUndefined();
    expect(
      (await raw("/api/v1/gpus/node-a:0/series?metrics=x", "br")).headers["content-encoding"],
    ).toBeUndefined();
    expect((await raw("/static/app.js", "br")).headers["content-encoding"]).toBeUndefined();
  });

  test("Accept-Encoding parsing", () => {
    expect(pickEncoding(undefined)).toBeUndefined();
    expect(pickEncoding("gzip, deflate, br")).toBe("br");
    expect(pickEncoding("gzip;q=1.0, br;q=0")).toBe("gzip");
    expect(pickEncoding("*")).toBe("br");
    expect(pickEncoding("*;q=0, gzip")).toBe("gzip");
    expect(pickEncoding("identity")).toBeUndefined();
  });
});

describe("utilization report", () => {
  test("mean utilization per group beside the busy share", async () => {
    const r = await ok<{
      groups: { key: string; utilizationRate: number | null }[];
      meanUtilizationPct: { total: number; groups: Record<string, number | null> };
    }>("/api/v1/reports/utilization?from=24h&by=host");
    // Two of four GPUs per host busy at 90–99 %, the others at 0 %: busy half the time, ~47 % on average.
    for (const g of r.groups) {
      expect(g.utilizationRate).toBeCloseTo(0.5, 2);
      expect(r.meanUtilizationPct.groups[g.key]).toBeGreaterThan(44);
      expect(r.meanUtilizationPct.groups[g.key]).toBeLessThan(50);
    }
    expect(Object.keys(r.meanUtilizationPct.groups)).toEqual(["node-a", "node-b", "node-c"]);
    expect(r.meanUtilizationPct.total).toBeGreaterThan(44);
  });
});
