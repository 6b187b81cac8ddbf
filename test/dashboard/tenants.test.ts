// The tenants view in chromium against a collector with leases over real stored data: the table
// has a row per tenant (idle-held GPUs counted), a leased GPU's cell and panel name its tenant,
// an unleased one is for sale; a tenant token's page shows only its own GPU and its own row.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gpuUuid } from "../api/fleet-fixture.js";
import { type Browser, collectorPage, launchChromium, skipBrowser } from "./chromium.js";
import { type LeasedFleet, startLeasedFleet } from "./leased-fleet.js";

const ADMIN = "tenants-dashboard-admin-token-0123456789";
const MIN = 60_000;

describe.skipIf(skipBrowser)("tenants on the dashboard (chromium)", () => {
  let served: LeasedFleet | undefined;
  let browser: Browser | undefined;
  let url = "";
  let acme = "";

  beforeAll(async () => {
    served = await startLeasedFleet({
      hours: 1,
      admin: ADMIN,
      lease(leases, nowMs) {
        leases.create({ id: "l-acme", device: gpuUuid(0, 3), tenant: "acme", start: nowMs - 30 * MIN }, "t");
        leases.create(
          { id: "l-ini", device: gpuUuid(1, 2), tenant: "initech", start: nowMs - 50 * MIN },
          "t",
        );
      },
    });
    url = served.url;
    acme = served.tokenFor("acme");
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  it("lists each tenant, and a cell and the GPU panel show the lease", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await collectorPage(browser, url);
    await page.goto(`${url}/#token=${ADMIN}`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
    const rows = page.locator("#tenants tr[data-tenant]");
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-tenant")))).toEqual([
      "acme",
      "initech",
    ]);
    const cellsOf = (tr: string) => page.locator(`#tenants tr[data-tenant="${tr}"] td`).allTextContents();
    expect((await cellsOf("initech"))[4]).toBe("1"); // its GPU 2 sits idle-held
    expect((await cellsOf("acme")).slice(0, 2)).toEqual(["acme", "1"]);
    const leased = page.locator(`.cell[data-uuid="${gpuUuid(0, 3)}"]`);
    expect(await leased.getAttribute("data-tenant")).toBe("acme");
    expect(await page.locator(`.cell[data-uuid="${gpuUuid(0, 0)}"]`).getAttribute("title")).toContain(
      "for sale",
    );
    await leased.click();
    await page
      .locator("#detail-lease")
      .filter({ hasText: /^leased to acme since/ })
      .waitFor({ timeout: 10_000 });
    expect(failed).toEqual([]);
  }, 60_000);

  it("a tenant token's page shows only its own GPU and its own tenant row", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await collectorPage(browser, url);
    await page.goto(`${url}/#token=${acme}`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
    const uuids = await page.locator(".cell").evaluateAll((cs) => cs.map((c) => c.getAttribute("data-uuid")));
    expect(uuids).toEqual([gpuUuid(0, 3)]);
    expect(await page.locator("#kpi-gpus").textContent()).toBe("1");
    const tenants = await page
      .locator("#tenants tr[data-tenant]")
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-tenant")));
    expect(tenants).toEqual(["acme"]);
    const body = (await page.locator("body").textContent()) ?? "";
    expect(body).not.toContain("initech");
    expect(body).not.toContain("globex");
    expect(await page.locator("#health-report").isHidden()).toBe(true);
    expect(failed).toEqual([]);
  }, 60_000);
});
