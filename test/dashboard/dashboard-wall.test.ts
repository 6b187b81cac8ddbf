// The console at fleet scale (issue 18): Chromium at 1920×1080 against a collector holding a
// 10,000-GPU fleet filled through the store (bench/wall-fleet.ts). The whole fleet fits one
// screen with every site, the hottest rack is on screen, overheat leads the flags list, a
// customer filter works and lives in the URL, a rack drills down to its GPUs, the GPU panel opens
// by URL and closes with Escape, and a phone gets no sideways scroll.
// Saves test/artifacts/dashboard-wall.png (git-ignored; a CI artifact).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { buildWallFleet, WALL_SITES, type WallFleet } from "../../bench/wall-fleet.js";
import { createApiServer } from "../../collector/api/server.js";
import { silentLogger } from "../../shared/logger.js";
import { type Browser, CHROMIUM, collectorPage, launchChromium, skipBrowser } from "./chromium.js";

if (skipBrowser) console.warn(`chromium not found at ${CHROMIUM}: skipping the wall-screen browser test`);

const ARTIFACTS = join(import.meta.dirname, "..", "artifacts");
let fleet: WallFleet | undefined;
let server: ReturnType<typeof createApiServer> | undefined;
let url = "";
let browser: Browser | undefined;

beforeAll(async () => {
  if (skipBrowser) return;
  fleet = buildWallFleet();
  server = createApiServer({
    backend: fleet.backend,
    listen: { host: "127.0.0.1", port: 0 },
    logger: silentLogger(),
  });
  url = `http://127.0.0.1:${(await server.start()).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  fleet?.close();
});

/** Whether the element lies wholly inside the viewport as the page is now (no scrolling). */
async function onScreen(page: Page, selector: string): Promise<boolean> {
  const box = await page.locator(selector).first().boundingBox();
  const vp = page.viewportSize();
  if (!box || !vp) return false;
  return box.x >= 0 && box.y >= 0 && box.x + box.width <= vp.width && box.y + box.height <= vp.height;
}

async function loaded(page: Page, path: string): Promise<void> {
  await page.goto(`${url}${path}`);
  await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
}

test.skipIf(skipBrowser)(
  "10,000 GPUs on one 1080p screen: every site, the hottest rack, overheat first, filters in the URL",
  async () => {
    if (!browser || !fleet) throw new Error("chromium or the fleet did not start");
    const { page } = await collectorPage(browser, url);
    // This test navigates several times: a poll cut short by a navigation (ERR_ABORTED) is no fault.
    const failed: string[] = [];
    page.on("requestfailed", (r) => {
      if (r.failure()?.errorText !== "net::ERR_ABORTED") failed.push(`${r.url()}: ${r.failure()?.errorText}`);
    });
    page.on("pageerror", (e) => failed.push(String(e)));
    await page.setViewportSize({ width: 1920, height: 1080 });
    await loaded(page, "/");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-wall.png"), fullPage: true });

    // The whole fleet fits: no vertical or sideways scrolling, all four sites on screen.
    const size = (await page.evaluate(
      "({ h: document.documentElement.scrollHeight, w: document.documentElement.scrollWidth })",
    )) as { h: number; w: number };
    expect(size.h).toBeLessThanOrEqual(1080);
    expect(size.w).toBeLessThanOrEqual(1920);
    expect(await page.locator("#shown").textContent()).toBe("10000 GPUs");
    for (const site of WALL_SITES) expect(await onScreen(page, `.site[data-site="${site}"]`)).toBe(true);
    expect(await page.locator(".tile").count()).toBe(fleet.racks);

    // The hottest rack is marked and on screen, with its HOT badge.
    const hottest = page.locator(".tile.hottest");
    expect(await hottest.getAttribute("data-rack")).toBe(fleet.hottestRack.rack);
    expect(await onScreen(page, ".tile.hottest")).toBe(true);
    expect(await hottest.locator(".badge").isVisible()).toBe(true);

    // Problems first: overheat leads the list; the header counts every open flag, not the page.
    expect(await page.locator("#flags .flag").first().getAttribute("data-kind")).toBe("overheat");
    expect(await page.locator("#flag-count").textContent()).toBe(String(fleet.openFlags));
    expect(await page.locator("#kpi-hot").textContent()).toBe(String(fleet.overheat));
    expect(await page.locator("#kpi-mean-now").textContent()).toMatch(/^\d+%$/);

    // One customer: the view narrows, the URL says so, and a reload keeps it.
    await page.selectOption("#f-customer", "acme");
    await page.locator("#shown", { hasText: `${fleet.acmeGpus} of 10000 GPUs` }).waitFor();
    expect(new URL(page.url()).searchParams.get("customer")).toBe("acme");
    await loaded(page, `/?customer=acme`);
    expect(await page.locator("#f-customer").inputValue()).toBe("acme");
    expect(await page.locator("#shown").textContent()).toBe(`${fleet.acmeGpus} of 10000 GPUs`);

    // Clickable KPI: overheating narrows to the overheating GPUs.
    await loaded(page, "/");
    await page.click("#kpi-overheat");
    await page.locator("#shown", { hasText: `${fleet.overheat} of 10000 GPUs` }).waitFor();
    expect(new URL(page.url()).searchParams.get("flag")).toBe("overheat");

    // Drill down: the hottest rack's tile opens its 80 GPUs as cells.
    await loaded(page, "/");
    await page.click(".tile.hottest");
    await page.locator(".cell[data-uuid]").first().waitFor();
    expect(new URL(page.url()).searchParams.get("rack")).toBe(fleet.hottestRack.rack);
    expect(await page.locator(".cell[data-uuid]").count()).toBe(80);
    expect(await page.locator(".cell[data-flags~='overheat'] .badge").first().isVisible()).toBe(true);
    expect(await page.locator(".host .host-site").first().isVisible()).toBe(true);

    // The GPU panel: opens in view, is in the URL, shows its flag history, closes with Escape.
    const cell = page.locator(".cell[data-uuid]").first();
    const id = `${await cell.getAttribute("data-host")}:${await cell.getAttribute("data-index")}`;
    await cell.click();
    await page.waitForSelector("#gpu-detail:not([hidden]) #chart-temp .uplot", { timeout: 15_000 });
    expect(new URL(page.url()).searchParams.get("gpu")).toBe(id);
    expect(await onScreen(page, "#detail-title")).toBe(true);
    expect(await page.locator("#detail-history li.k-overheat").count()).toBeGreaterThan(0);
    await page.keyboard.press("Escape");
    await page.waitForSelector("#gpu-detail[hidden]", { state: "attached" });
    expect(new URL(page.url()).searchParams.get("gpu")).toBeNull();

    // Addressable: the same link opens the panel straight away.
    await loaded(page, `/?gpu=${encodeURIComponent(id)}`);
    await page.locator("#detail-title", { hasText: id.replace(":", " · GPU ") }).waitFor();

    // Phone: no sideways scroll, the header stays compact.
    await page.setViewportSize({ width: 390, height: 844 });
    await loaded(page, `/?rack=${encodeURIComponent(fleet.hottestRack.rack)}`);
    const phone = (await page.evaluate(
      "({ w: document.documentElement.scrollWidth, header: document.querySelector('header').getBoundingClientRect().height })",
    )) as { w: number; header: number };
    expect(phone.w).toBeLessThanOrEqual(390);
    expect(phone.header).toBeLessThan(844 / 3);
    await loaded(page, "/");
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    expect(failed).toEqual([]);
  },
  240_000,
);
