// The dashboard asks only routes its token's role may use (GET /api/v1/whoami tells it): a
// tenant's page load asks neither the fleet health report nor the sales figures (both refused to
// tenants, 403) and shows neither section; a viewer's asks and shows both. No response of the
// page load is a 4xx (refused) in either, in Debian's chromium.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gpuUuid } from "../api/fleet-fixture.js";
import { type Browser, collectorPage, launchChromium, skipBrowser } from "./chromium.js";
import { type LeasedFleet, startLeasedFleet } from "./leased-fleet.js";

const ADMIN = "role-requests-admin-token-0123456789";
const MIN = 60_000;

describe.skipIf(skipBrowser)("the routes a page load asks, by role (chromium)", () => {
  let served: LeasedFleet | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    served = await startLeasedFleet({
      hours: 2,
      admin: ADMIN,
      lease(leases, nowMs) {
        leases.create({ id: "acme-1", device: gpuUuid(0, 2), tenant: "acme", start: nowMs - 90 * MIN }, "t");
      },
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  /** Every API path the page load asked, with its status, once the network has gone quiet. */
  async function pageLoad(token: string) {
    if (!browser || !served) throw new Error("chromium or the collector did not start");
    const { page, failed } = await collectorPage(browser, served.url);
    const asked: { status: number; path: string }[] = [];
    page.on("response", (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith("/api/")) asked.push({ status: r.status(), path: u.pathname });
    });
    await page.goto(`${served.url}/#token=${token}`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
    await page.waitForLoadState("networkidle", { timeout: 30_000 });
    return { page, failed, asked };
  }

  it("a tenant's page asks no route its role is refused: no 403, no fleet health or sales", async () => {
    if (!served) throw new Error("the collector did not start");
    const { page, failed, asked } = await pageLoad(served.tokenFor("acme"));
    expect(asked.filter((a) => a.status >= 400 && a.status < 500)).toEqual([]);
    const paths = asked.map((a) => a.path);
    expect(paths).not.toContain("/api/v1/reports/health");
    expect(paths).not.toContain("/api/v1/reports/sales");
    expect(paths).toContain("/api/v1/tenants");
    expect(await page.locator("#health-report").isVisible()).toBe(false);
    expect(await page.locator("#sales").isVisible()).toBe(false);
    expect(await page.locator("#tenants tr[data-tenant]").count()).toBe(1);
    expect(failed).toEqual([]);
  }, 60_000);

  it("a viewer's page asks and shows the fleet health report and the sales figures, no 4xx", async () => {
    if (!served) throw new Error("the collector did not start");
    const { page, failed, asked } = await pageLoad(served.tokenWithRole("viewer"));
    expect(asked.filter((a) => a.status >= 400 && a.status < 500)).toEqual([]);
    const paths = asked.map((a) => a.path);
    expect(paths).toContain("/api/v1/reports/health");
    expect(paths).toContain("/api/v1/reports/sales");
    await page.waitForSelector("#sales[data-loaded]", { timeout: 30_000 });
    // The fixture has no health store (501: "unavailable"), but the section is the viewer's to see.
    expect(await page.locator("#health-report").isVisible()).toBe(true);
    expect(failed).toEqual([]);
  }, 60_000);
});
