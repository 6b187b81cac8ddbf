// Drives Debian's chromium (playwright-core) against a live API over real stored data: the heat
// map has one cell per GPU, the overheated GPU is marked, clicking it opens its charts.
// Saves test/artifacts/dashboard.png (git-ignored; a CI artifact).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type LiveApi, startLiveApi } from "../api/server-helpers.js";

const CHROMIUM = process.env.GPUTEL_CHROMIUM ?? "/usr/bin/chromium";
const required = process.env.GPUTEL_REQUIRE_CHROMIUM === "1";
const have = existsSync(CHROMIUM);
if (!have && !required)
  console.warn(`chromium not found at ${CHROMIUM}: skipping the dashboard browser test`);

const ARTIFACTS = join(import.meta.dirname, "..", "artifacts");
const TOKEN = "dashboard-token-42";
let api: LiveApi;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!have && !required) return;
  api = await startLiveApi({ token: TOKEN });
  profile = mkdtempSync(join(tmpdir(), "gputel-chromium-"));
  // A fresh profile per run (playwright's way of passing --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1100 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test.skipIf(!have && !required)(
  "heat map, overheat mark, GPU charts",
  async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on("requestfailed", (r) => failed.push(r.url()));
    page.on("pageerror", (e) => failed.push(String(e)));
    // Nothing but the collector may be asked for anything.
    await page.route("**/*", (route) =>
      route.request().url().startsWith(api.url) ? route.continue() : route.abort(),
    );
    await page.goto(`${api.url}/#token=${TOKEN}`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 20_000 });

    const cells = page.locator(".cell[data-uuid]");
    expect(await cells.count()).toBe(12);
    expect(await page.locator(".host").count()).toBe(3);
    const hot = page.locator(`.cell[data-uuid="${api.fleet.hotUuid}"]`);
    expect(await hot.getAttribute("data-flags")).toBe("overheat");
    expect(await hot.locator(".badge").textContent()).toBe("HOT");
    expect(await page.locator(".cell[data-flags~='overheat']").count()).toBe(1);
    expect(await page.locator(".cell[data-flags~='idle-held']").count()).toBe(3);
    expect(await page.locator("#flags .flag").count()).toBe(7);
    expect(await page.locator("#kpi-hot").textContent()).toBe("1");
    expect(await page.locator("#kpi-util-24h").textContent()).toBe("50%");

    // Temperature colouring: the hot cell reads 90°.
    await page.click("button[data-colour='temp']");
    expect(await hot.locator(".v").textContent()).toBe("90°");

    await hot.click();
    await page.waitForSelector("#gpu-detail:not([hidden]) #chart-temp .uplot", { timeout: 10_000 });
    expect(await page.locator("#gpu-detail .uplot").count()).toBe(4);
    expect(await page.locator("#detail-title").textContent()).toBe("node-a · GPU 3");
    expect(await page.locator("#chart-temp .u-legend").textContent()).toContain("slowdown");
    await page.click("button[data-range='24h']");
    // A locator wait, not a string predicate: the page's CSP forbids eval, which string predicates need once they poll.
    await page.locator("#detail-sub", { hasText: "tier 1m" }).waitFor();

    // Live: the page polls again without a reload (a new request for the GPU list arrives).
    const next = await page.waitForRequest(
      (r) => r.url().includes("/api/v1/gpus") && !r.url().includes("series"),
      {
        timeout: 12_000,
      },
    );
    expect(next.headers().authorization).toBe(`Bearer ${TOKEN}`);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.click("button[data-range='6h']");
    // A locator wait, not a string predicate: the page's CSP forbids eval, which string predicates need once they poll.
    await page.locator("#detail-sub", { hasText: "tier 1m" }).waitFor();
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });
    expect(failed).toEqual([]);
  },
  60_000,
);
