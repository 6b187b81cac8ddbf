// The dashboard's health helpers (collector/dashboard/static/health.js, health-timeline.js): which
// badge a fleet cell shows, the Xid marks drawn on a GPU's charts, the entries of its health
// timeline; then the page itself in chromium.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreHealthBackend } from "../../collector/api/health-backend.js";
import { createApiServer } from "../../collector/api/server.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
// @ts-expect-error: plain browser JavaScript, no types
import { eventMarks, healthBadge } from "../../collector/dashboard/static/health.js";
// @ts-expect-error: plain browser JavaScript, no types
import { timelineEntries } from "../../collector/dashboard/static/health-timeline.js";
import { silentLogger } from "../../shared/logger.js";
import { xidEvent } from "../collector/health/events.js";
import { type FlagHarness, flagHarness, MIN, T0, UUID } from "../collector/health/flag-harness.js";
import { type Browser, collectorPage, launchChromium, skipBrowser } from "./chromium.js";

describe("dashboard health", () => {
  it("badges the most urgent health flag of a cell", () => {
    expect(healthBadge(["xid", "reset-required"])).toMatchObject({ text: "RST" });
    expect(healthBadge(["idle", "xid"])).toMatchObject({ text: "XID" });
    expect(healthBadge(["pcie-degraded"])).toMatchObject({ text: "LINK" });
    expect(healthBadge(["idle"])).toBeNull();
  });

  it("marks each event inside the plot, hardware red and the workload's amber", () => {
    const strokes: string[] = [];
    const texts: string[] = [];
    const ctx = {
      save() {},
      restore() {},
      setLineDash() {},
      beginPath() {},
      moveTo() {},
      lineTo() {},
      stroke() {
        strokes.push(this.strokeStyle);
      },
      fillText(text: string) {
        texts.push(text);
      },
      strokeStyle: "",
      fillStyle: "",
      lineWidth: 0,
      font: "",
    };
    (globalThis as { devicePixelRatio?: number }).devicePixelRatio = 1;
    const u = { ctx, bbox: { left: 0, top: 0, width: 100, height: 50 }, valToPos: (v: number) => v - 1000 };
    const plugin = eventMarks([
      { timeMs: 1_010_000, code: 79, applicationLevel: false },
      { timeMs: 1_050_000, code: 13, applicationLevel: true },
      { timeMs: 9_000_000, code: 48, applicationLevel: false },
    ]);
    plugin.hooks.draw[0](u);
    expect(texts).toEqual(["Xid 79", "Xid 13"]);
    expect(strokes).toEqual(["#ef4444", "#f59e0b"]);
  });

  it("orders a GPU's timeline newest first: events, flags opened and closed, acknowledgements, downtime", () => {
    const entries = timelineEntries({
      events: [
        {
          timeMs: 1000,
          kind: "xid",
          code: 79,
          mnemonic: "GPU_FALLEN",
          action: "reboot",
          applicationLevel: false,
        },
        {
          timeMs: 500,
          kind: "xid",
          code: 13,
          mnemonic: "GR_EXCEPTION",
          action: "restart-app",
          applicationLevel: true,
          processName: "python3",
          pid: 4242,
        },
      ],
      flags: [
        { kind: "reset-required", severity: "critical", startMs: 1000, endMs: 4 * 60_000, reason: "Xid 79" },
        { kind: "xid", severity: "warning", startMs: 500, endMs: null, reason: "Xid 13" },
      ],
      acknowledgements: [{ atMs: 4 * 60_000, kind: "reset-required", note: "reseated" }],
      downtime: [{ fromMs: 1000, toMs: 4 * 60_000, kinds: ["reset-required"] }],
    }) as { at: number; cls: string; kind: string; dur: string; text: string }[];
    expect(entries.map((e) => [e.at, e.kind])).toEqual([
      [4 * 60_000, "reset-required closed"],
      [4 * 60_000, "acknowledged"],
      [1000, "Xid 79"],
      [1000, "reset-required opened"],
      [1000, "down"],
      [500, "Xid 13"],
      [500, "xid opened"],
    ]);
    expect(entries.find((e) => e.kind === "down")).toMatchObject({ dur: "3m", cls: "k-down tl bad" });
    expect(entries.find((e) => e.kind === "Xid 13")).toMatchObject({
      cls: "k-xid workload",
      text: "GR_EXCEPTION · the workload's (python3 4242)",
    });
    expect(entries.find((e) => e.kind === "acknowledged")?.text).toBe("reseated");
  });
});

// The new page against a collector filled through the store: one GPU with an Xid 79 (a hardware
// fault: an open xid flag and an open reset-required flag) shows a badge on the fleet view, its
// event in the detail panel, and the fleet health report counts it.
describe.skipIf(skipBrowser)("health on the dashboard (chromium)", () => {
  let h: FlagHarness | undefined;
  let server: ReturnType<typeof createApiServer> | undefined;
  let browser: Browser | undefined;
  let url = "";
  const NOW = T0 + 10 * MIN;

  beforeAll(async () => {
    h = flagHarness();
    for (let t = T0; t <= NOW; t += MIN)
      h.frame(
        t,
        {
          utilization_gpu_pct: 80,
          temperature_gpu_celsius: 60,
          power_draw_watts: 300,
          memory_used_mib: 1000,
        },
        { host_sample: { uptime_seconds: 1000 + (t - T0) / 1000 } },
      );
    h.xid([xidEvent(1, 79, { time_ms: T0 + 5 * MIN, pid: null, process_name: "" })]);
    h.store.leases.insert(
      {
        id: "lease-acme-1",
        device: UUID,
        gpu: UUID,
        tenant: "acme",
        startMs: T0,
        endMs: null,
        contract: null,
        priceMicros: null,
        currency: null,
        availabilityMilli: null,
        labels: {},
        source: "api",
      },
      T0,
    );
    const harness = h;
    const now = () => NOW;
    const backend = new StoreBackend({
      store: harness.store,
      flags: harness.engine,
      health: new StoreHealthBackend({ store: harness.store, flags: harness.engine, now }),
      now,
    });
    server = createApiServer({ backend, listen: { host: "127.0.0.1", port: 0 }, logger: silentLogger() });
    url = `http://127.0.0.1:${(await server.start()).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    h?.cleanup();
  });

  it("badges the GPU, lists its Xid in the panel and counts it in the health report", async () => {
    if (!browser || !h) throw new Error("chromium or the collector did not start");
    expect(h.open("reset-required")).toBeDefined();
    const { page, failed } = await collectorPage(browser, url);
    await page.goto(`${url}/`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });

    const cell = page.locator(`.cell[data-uuid="${UUID}"]`);
    await expect(cell.locator(".badge.health").textContent()).resolves.toBe("RST");
    expect(await cell.locator(".badge.health").isVisible()).toBe(true);

    const summary = page.locator("#health-report .health-summary");
    await summary.filter({ hasText: /^1 Xid events in 30 days/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#health-report .health-codes tr").nth(1).textContent()).toContain("79");
    // The tenant whose lease was in force: the 5 minutes since the Xid 79 (reset-required).
    expect(await page.locator("#health-report .health-tenants tr").nth(1).textContent()).toBe(
      "acme0.0831lease-acme-1",
    );

    await cell.click();
    await page.waitForSelector("#detail-events li.k-xid", { timeout: 10_000 });
    expect(await page.locator("#detail-events li.k-xid").count()).toBe(1);
    expect(await page.locator("#detail-events li.k-xid .h-kind").textContent()).toBe("Xid 79");
    // The mark is drawn on every chart: its label is canvas text, so the charts exist with the events.
    expect(await page.locator("#gpu-detail .uplot").count()).toBe(4);
    expect(failed).toEqual([]);
  }, 60_000);

  it("shows the GPU's health timeline in its panel, and the acknowledgement that closed its flag", async () => {
    if (!browser || !h) throw new Error("chromium or the collector did not start");
    const flag = h.open("reset-required");
    if (!flag) throw new Error("reset-required is not open");
    const { page, failed } = await collectorPage(browser, url);
    await page.goto(`${url}/`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
    await page.locator(`.cell[data-uuid="${UUID}"]`).click();
    await page.waitForSelector("#detail-events li.k-xid", { timeout: 10_000 });
    const kinds = async () => page.locator("#detail-events li .h-kind").allTextContents();
    expect(await kinds()).toEqual(
      expect.arrayContaining(["Xid 79", "reset-required opened", "xid opened", "down"]),
    );
    // reset-required open since the Xid at T0 + 5 min, the collector's now T0 + 10 min.
    expect(await page.locator("#detail-events li.k-down .dur").textContent()).toBe("5m");
    expect(await page.locator("#detail-health-summary").textContent()).toMatch(
      /^Last 30 days: hardware downtime 5m · 1 kernel-log events · 2 health flags · 0 acknowledgements$/,
    );

    // A minute before the collector's now: the timeline's range ends at now, exclusive.
    h.engine.acknowledge(flag.id, "GPU reseated, diag passed", NOW - MIN);
    await page.locator("#detail-close").click();
    await page.locator(`.cell[data-uuid="${UUID}"]`).click();
    await page.locator("#detail-events li.k-ack").waitFor({ timeout: 10_000 });
    expect(await page.locator("#detail-events li.k-ack .reason").textContent()).toBe(
      "GPU reseated, diag passed",
    );
    expect(await kinds()).toContain("reset-required closed");
    expect(failed).toEqual([]);
  }, 60_000);

  it("outlines a fleet-scale tile holding a GPU with a health flag, and only that tile", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await collectorPage(browser, url);
    await page.goto(`${url}/`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
    // The page's own fleet-view module over 320 GPUs (past the cells limit: tiles) in two racks.
    const drawn = (await page.evaluate(`(async () => {
      const { drawFleet } = await import("/static/fleet-view.js");
      const root = document.createElement("div");
      document.body.append(root);
      const gpus = Array.from({ length: 320 }, (_, i) => ({
        uuid: "GPU-t" + i, host: "h" + Math.floor(i / 8), index: i % 8, site: "lab", model: "H100",
        labels: {}, rack: i < 160 ? "r1" : "r2", customer: "-", state: "ok", usage: "busy",
        util: 50, temp: 50, mask: 0, kinds: i === 200 ? ["nvlink-degraded"] : [],
      }));
      drawFleet(root, gpus, { colour: "util", total: 320, forceCells: false, selected: null,
        on: { filter() {}, open() {} } });
      const tiles = [...root.querySelectorAll(".tile")];
      return tiles.map((t) => ({ rack: t.dataset.rack, health: t.classList.contains("health"),
        outline: getComputedStyle(t).outlineStyle, title: t.title }));
    })()`)) as { rack: string; health: boolean; outline: string; title: string }[];
    expect(drawn.map((t) => [t.rack, t.health])).toEqual([
      ["r1", false],
      ["r2", true],
    ]);
    expect(drawn[1]?.outline).toBe("solid");
    expect(drawn[1]?.title).toContain("1 GPUs with a health flag");
    expect(failed).toEqual([]);
  }, 60_000);
});
