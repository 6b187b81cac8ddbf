// Tenants in the console (issues 18 and 15) in Debian's chromium, over real stored data and real
// leases: the reports view grouped by tenant is the lease report (a GPU moved from acme to globex
// keeps its first hour with acme), its rows and CSV the API's own, its choice in the URL; above
// the tenants table the sold rate, used rate and GPUs for sale now, as the sales report says;
// a tenant token's page shows no fleet-wide sales figures. Saves test/artifacts/dashboard-tenants.png
// and dashboard-tenant-report.png (git-ignored).
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LeaseReport } from "../../collector/reports/lease-report.js";
import type { SalesReport } from "../../collector/reports/sales-report.js";
import { gpuUuid } from "../api/fleet-fixture.js";
import { type Browser, CHROMIUM, collectorPage, launchChromium, skipBrowser } from "./chromium.js";
import { type LeasedFleet, startLeasedFleet } from "./leased-fleet.js";

if (skipBrowser) console.warn(`chromium not found at ${CHROMIUM}: skipping the tenant reports browser test`);

const ARTIFACTS = join(import.meta.dirname, "..", "artifacts");
const ADMIN = "tenant-reports-admin-token-0123456789";
const MIN = 60_000;
const HOUR = 60 * MIN;
const auth = { authorization: `Bearer ${ADMIN}` };

describe.skipIf(skipBrowser)("tenants in the console (chromium)", () => {
  let served: LeasedFleet | undefined;
  let browser: Browser | undefined;
  let url = "";
  let acme = "";
  const api = async (path: string, headers: Record<string, string> = auth) => {
    const response = await fetch(`${url}${path}`, { headers });
    return { status: response.status, text: await response.text() };
  };

  beforeAll(async () => {
    served = await startLeasedFleet({
      hours: 2,
      admin: ADMIN,
      // acme holds node-a's idle-held GPU 2 for 90 minutes and node-c's busy GPU 0 for an hour,
      // then that GPU goes to globex (leases created with a past start record what ran); initech
      // holds an idle GPU.
      lease(leases, nowMs) {
        const add = (id: string, device: string, tenant: string, start: number, end?: number) =>
          leases.create({ id, device, tenant, start, ...(end !== undefined ? { end } : {}) }, "t");
        add("acme-held", gpuUuid(0, 2), "acme", nowMs - 90 * MIN);
        add("acme-moved", gpuUuid(2, 0), "acme", nowMs - 90 * MIN, nowMs - 30 * MIN);
        add("globex-moved", gpuUuid(2, 0), "globex", nowMs - 30 * MIN);
        add("initech-idle", gpuUuid(1, 1), "initech", nowMs - HOUR);
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

  it("reports by tenant: the lease report's rows and CSV, each GPU-minute with its lease then", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await collectorPage(browser, url);
    const asked: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/reports/")) asked.push(r.url().slice(url.length));
    });
    await page.goto(`${url}/#token=${ADMIN}`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
    await page.click("#nav-reports");
    await page.click("[data-preset='7d']");
    await page.selectOption("#r-by", "tenant");
    await page.locator("#r-table th", { hasText: "Tenant" }).waitFor();
    await page.locator("#r-table tr.total").waitFor();
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toMatchObject({
      view: "reports",
      by: "tenant",
      range: "7d",
    });
    expect(await page.locator("#r-kind").isDisabled()).toBe(true);

    const path = asked.filter((p) => p.startsWith("/api/v1/reports/leases")).at(-1) as string;
    expect(path).toMatch(/^\/api\/v1\/reports\/leases\?from=\d+&to=\d+&by=tenant$/);
    const json = JSON.parse((await api(path)).text) as LeaseReport;
    expect(await page.locator("#r-table th").allTextContents()).toEqual([
      "Tenant",
      "Leases",
      "GPUs",
      "Leased GPU-h",
      "Busy share",
      "Mean utilization",
      "Busy GPU-h",
      "Idle-held GPU-h",
      "Down GPU-h",
      "Availability",
      "SLAs missed",
      "Energy",
      "Idle energy",
    ]);
    const rows = await page
      .locator("#r-table tr:not(:first-child)")
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    // The moved GPU: its first hour stays with acme, its last half hour is globex's.
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ["acme", "2", "2", "2.5"],
      ["globex", "1", "1", "0.5"],
      ["initech", "1", "1", "1.0"],
      ["Total", "4", "3", "4.0"],
    ]);
    const acmeRow = json.groups.find((g) => g.key === "acme");
    expect(acmeRow?.meanUtilizationPct).not.toBeNull();
    expect(rows[0]?.[4]).toBe(`${Math.round((acmeRow?.utilizationRate ?? -1) * 100)}%`);
    expect(rows[0]?.[5]).toBe(`${Math.round(acmeRow?.meanUtilizationPct ?? -1)}%`);
    expect(Number(rows[0]?.[7])).toBeGreaterThan(0); // node-a's GPU 2 sits idle-held
    expect(rows[2]?.[4]).toBe("0%"); // initech's GPU idles

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#r-csv")]);
    expect(download.suggestedFilename()).toMatch(/^gputel-leases-by-tenant-\d{8}T\d{4}Z-\d{8}T\d{4}Z\.csv$/);
    const file = readFileSync((await download.path()) as string, "utf8");
    expect(file).toBe((await api(`${path}&format=csv`)).text);
    expect(file.split("\n")[0]).toContain("utilization_pct,mean_utilization_pct");

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator("#reports").screenshot({ path: join(ARTIFACTS, "dashboard-tenant-report.png") });

    // A link opens the same view.
    await page.goto(`${url}/?view=reports&by=tenant&range=7d`);
    await page.locator("#r-table tr.total").waitFor();
    expect(await page.locator("#r-by").inputValue()).toBe("tenant");
    expect(failed).toEqual([]);
  }, 90_000);

  it("sold rate, used rate and GPUs for sale now above the tenants table, as the sales report says", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await collectorPage(browser, url);
    const asked: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/reports/sales")) asked.push(r.url().slice(url.length));
    });
    await page.goto(`${url}/#token=${ADMIN}`);
    await page.waitForSelector("#sales[data-loaded]", { timeout: 30_000 });
    const s = JSON.parse((await api(asked[0] as string)).text) as SalesReport;
    // 12 H100s; leased now: acme's held GPU, globex's moved one, initech's idle one.
    expect([s.total.gpusNow, s.total.leasedNow, s.total.forSaleNow]).toEqual([12, 3, 9]);
    const text = async (id: string) => page.locator(`#${id}`).textContent();
    expect(await text("sales-for-sale")).toBe("9");
    expect(await text("sales-pflops")).toBe((9 * 0.9894).toFixed(2));
    expect(await text("sales-sold")).toBe(`${Math.round((s.total.soldRate ?? -1) * 100)}%`);
    expect(await text("sales-used")).toBe(`${Math.round((s.total.usedRate ?? -1) * 100)}%`);
    expect(await page.locator("#sales tr[data-model] td").allTextContents()).toEqual([
      "NVIDIA H100 80GB HBM3",
      "9",
      "8.905",
    ]);
    // The tenants table below keeps its own rows.
    const tenants = await page
      .locator("#tenants .tenants-table tr[data-tenant]")
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-tenant")));
    expect(tenants).toEqual(["acme", "globex", "initech"]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator("#tenants").screenshot({ path: join(ARTIFACTS, "dashboard-tenants.png") });
    expect(failed).toEqual([]);
  }, 60_000);

  it("a tenant token's page shows no sales figures and does not ask them (its role is refused them)", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await collectorPage(browser, url);
    const asked: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/reports/sales")) asked.push(r.url());
    });
    await page.goto(`${url}/#token=${acme}`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
    await page.waitForLoadState("networkidle", { timeout: 30_000 });
    expect(asked).toEqual([]);
    expect(await page.locator("#sales").isHidden()).toBe(true);
    expect(await page.locator("#tenants").isVisible()).toBe(true);
    expect(failed).toEqual([]);
  }, 60_000);

  it("a tenant token's reports view offers only the reports and groupings its role may ask, whatever the link says", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await collectorPage(browser, url);
    const asked: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/reports/")) asked.push(r.url().slice(url.length));
    });
    // A link an operator shared: the thermal report by customer (a host label) is not the tenant's.
    await page.goto(`${url}/?view=reports&report=thermal&by=customer&range=7d#token=${acme}`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
    await page.locator("#r-table tr.total").waitFor();
    const options = (id: string) =>
      page
        .locator(`#${id} option:not([disabled])`)
        .evaluateAll((os) => os.map((o) => o.getAttribute("value")));
    expect(await options("r-kind")).toEqual(["utilization", "energy"]);
    expect(await options("r-by")).toEqual(["site", "model", "host", "tenant"]);
    expect(await page.locator("#r-kind").inputValue()).toBe("utilization");
    expect(await page.locator("#r-by").inputValue()).toBe("site");
    expect(asked.filter((p) => !p.startsWith("/api/v1/reports/utilization?"))).toEqual([]);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toMatchObject({
      report: "utilization",
      by: "site",
    });
    expect(failed).toEqual([]);
  }, 60_000);
});
