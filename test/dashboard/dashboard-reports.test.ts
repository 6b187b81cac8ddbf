// The reports view in Debian's chromium against a live API over real stored data: pick a range,
// see the rows (busy share and mean utilization apart), download the CSV and find it equal to the
// API's own CSV for the same request; the availability report names the GPU that was lost, why,
// and opens its panel. Saves test/artifacts/dashboard-reports.png (git-ignored).
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { DowntimeReport, UtilizationReport } from "../../collector/reports/reports.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { gpuUuid } from "../api/fleet-fixture.js";
import { type LiveApi, startLiveApi } from "../api/server-helpers.js";
import { type Browser, CHROMIUM, collectorPage, launchChromium, skipBrowser } from "./chromium.js";

if (skipBrowser) console.warn(`chromium not found at ${CHROMIUM}: skipping the reports view browser test`);

const ARTIFACTS = join(import.meta.dirname, "..", "artifacts");
const TOKEN = "reports-token-7";
const MIN = 60_000;
const auth = { authorization: `Bearer ${TOKEN}` };
let api: LiveApi;
let browser: Browser;

beforeAll(async () => {
  if (skipBrowser) return;
  api = await startLiveApi({ token: TOKEN });
  // node-b's GPU 2 was lost for 40 minutes an hour ago.
  const flags = new FlagStore(api.fleet.store.db);
  const from = api.fleet.nowMs - 100 * MIN;
  const f = flags.insert(
    {
      kind: "lost",
      severity: "critical",
      host: "node-b",
      gpuUuid: gpuUuid(1, 2),
      gpuIndex: 2,
      site: "ams2",
      labels: { customer: "globex" },
      startMs: from,
      reason: "GPU has fallen off the bus",
      values: {},
    },
    from,
  );
  flags.close({ ...f, endMs: from + 40 * MIN, updatedMs: from + 40 * MIN });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

test.skipIf(skipBrowser)(
  "reports view: range, rows, CSV equal to the API's, downtime with reasons",
  async () => {
    const { page, failed } = await collectorPage(browser, api.url);
    const reportRequests: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/reports/")) reportRequests.push(r.url());
    });
    await page.goto(`${api.url}/#token=${TOKEN}`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 20_000 });

    await page.click("#nav-reports");
    await page.locator("#reports:not([hidden])").waitFor();
    expect(await page.locator("main").isVisible()).toBe(false);
    await page.selectOption("#r-by", "host");
    await page.click("[data-preset='7d']");
    await page.locator("#r-table tr.total").waitFor();
    await page.locator("[data-preset='7d'].active").waitFor();
    const search = new URL(page.url()).searchParams;
    expect(Object.fromEntries(search)).toMatchObject({
      view: "reports",
      report: "utilization",
      by: "host",
      range: "7d",
    });

    // The rows are the API's: the same request, asked here.
    const last = reportRequests[reportRequests.length - 1] as string;
    const path = last.slice(api.url.length);
    expect(path).toMatch(/^\/api\/v1\/reports\/utilization\?from=\d+&to=\d+&by=host$/);
    const json = (await api.get(path, auth)).body as UtilizationReport;
    const headers = await page.locator("#r-table th").allTextContents();
    expect(headers).toEqual([
      "Host",
      "GPUs",
      "Busy share",
      "Mean utilization",
      "Busy GPU-h",
      "Idle GPU-h",
      "Idle-held GPU-h",
      "Unknown GPU-h",
    ]);
    const rows = await page
      .locator("#r-table tr:not(:first-child)")
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    expect(rows.map((r) => r[0])).toEqual(["node-a", "node-b", "node-c", "Total"]);
    expect(rows[0]?.[2]).toBe(`${Math.round((json.groups[0]?.utilizationRate ?? 0) * 100)}%`);
    expect(rows[0]?.[3]).toBe(`${Math.round(json.meanUtilizationPct?.groups["node-a"] ?? -1)}%`);
    expect(rows[3]?.[1]).toBe("12");

    // CSV download: the file is the API's CSV for the same request.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#r-csv")]);
    expect(download.suggestedFilename()).toMatch(/^gputel-utilization-\d{8}T\d{4}Z-\d{8}T\d{4}Z\.csv$/);
    const file = readFileSync((await download.path()) as string, "utf8");
    const direct = await api.get(`${path}&format=csv`, auth);
    expect(file).toBe(direct.text);
    expect(file.split("\n")[0]).toContain("utilization_pct,mean_utilization_pct");

    // A custom range by the inputs; the URL then holds from and to.
    const to = new Date(api.fleet.nowMs);
    const from = new Date(api.fleet.nowMs - 2 * 3_600_000);
    const local = (d: Date) =>
      `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}T${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
    await page.fill("#r-from", local(from));
    await page.fill("#r-to", local(to));
    await page.locator("#r-to").dispatchEvent("change");
    await page.locator("[data-preset].active").waitFor({ state: "detached" });
    const custom = new URL(page.url()).searchParams;
    expect(custom.get("from")).toBe(local(from));
    expect(custom.get("to")).toBe(local(to));
    expect(custom.get("range")).toBeNull();

    // Availability: which GPU was down, for how long, why; by customer.
    await page.selectOption("#r-kind", "downtime");
    await page.selectOption("#r-by", "customer");
    await page.locator("#r-list li").first().waitFor();
    const down = (
      await api.get(reportRequests[reportRequests.length - 1]?.slice(api.url.length) as string, auth)
    ).body as DowntimeReport;
    expect(down.groupBy).toBe("label:customer");
    expect(down.down.map((d) => d.gpu)).toEqual(["node-b:2"]);
    const listed = await page.locator("#r-list li").first().textContent();
    expect(listed).toContain("node-b:2");
    expect(listed).toContain("down 40m");
    expect(listed).toContain("lost: GPU has fallen off the bus");
    const globex = await page.locator("#r-table tr", { hasText: "globex" }).locator("td").allTextContents();
    expect(globex.slice(0, 4)).toEqual(["globex", "4", "1", "1"]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-reports.png"), fullPage: true });

    // The listed GPU opens its panel.
    await page.click("#r-list li button");
    await page.locator("#detail-title", { hasText: "node-b · GPU 2" }).waitFor();
    expect(new URL(page.url()).searchParams.get("gpu")).toBe("node-b:2");
    // Its own flag history, asked of the API by GPU: the lost episode and its open idle-held flag.
    await page.locator("#detail-history-head", { hasText: "Flag history (2)" }).waitFor();
    const history = await page.locator("#detail-history li").allTextContents();
    expect(history.some((h) => h.startsWith("lost") && h.includes("GPU has fallen off the bus"))).toBe(true);
    expect(history.some((h) => h.startsWith("idle-held"))).toBe(true);
    expect(failed).toEqual([]);
  },
  90_000,
);

test.skipIf(skipBrowser)(
  "the flags list follows the page's search, model and problems filters (the API narrows it)",
  async () => {
    const { page, failed } = await collectorPage(browser, api.url);
    await page.goto(`${api.url}/?q=node-a&problems=1#token=${TOKEN}`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 20_000 });
    // node-a's open flags: overheat (critical), idle-held (warning); its idle (info) is left out.
    const kinds = await page
      .locator("#flags .flag")
      .evaluateAll((lis) => lis.map((li) => li.getAttribute("data-kind")));
    expect(kinds).toEqual(["overheat", "idle-held"]);
    expect(await page.locator("#flag-count").textContent()).toBe("2");
    await page.uncheck("#f-problems");
    await page.locator("#flag-count", { hasText: "3" }).waitFor();
    await page.selectOption("#f-model", "NVIDIA H100 80GB HBM3");
    expect(new URL(page.url()).searchParams.get("model")).toBe("NVIDIA H100 80GB HBM3");
    await page.fill("#f-q", "");
    await page.locator("#flag-count", { hasText: "7" }).waitFor();

    // A report is a link: opened from the URL alone.
    await page.goto(`${api.url}/?view=reports&report=thermal&by=model&range=7d`);
    await page.locator("#r-table tr.total").waitFor();
    expect(await page.locator("#r-kind").inputValue()).toBe("thermal");
    expect(await page.locator("#r-table th").first().textContent()).toBe("Model");
    expect(await page.locator("#r-list li").first().textContent()).toContain("node-a:3");
    expect(failed).toEqual([]);
  },
  90_000,
);
