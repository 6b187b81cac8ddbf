// A MIG device's tenant on the dashboard (issues 15 and 17): the GPU its MIG device is on has no
// cell on its page and its `gpus/:id` answers 404 by design, but its statement counts that GPU's
// down time, so the page lists the MIG device it holds and opens the GPU's health timeline for it
// (down flags and down time over its stays, no events or notes), labelled as the GPU its MIG
// device is on; so does a MIG lease that ended in the last 30 days, listed as ended. An admin's
// page still opens the GPU's whole panel. Its fleet area shows its MIG
// device, counted as one, with the GPU's down state, and nothing of globex's MIG device on the
// same GPU.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreHealthBackend } from "../../collector/api/health-backend.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import { LeaseService } from "../../collector/leases/service.js";
import { xidEvent } from "../collector/health/events.js";
import {
  type FlagHarness,
  flagHarness,
  HOST,
  inventory,
  MIN,
  T0,
  UUID,
} from "../collector/health/flag-harness.js";
import { MIG, MIG_GPU } from "../security/tenant-app.js";
import { type Browser, launchChromium, loadedDashboard, skipBrowser, startDashboardApi } from "./chromium.js";

const ADMIN = "tenant-mig-dashboard-admin-token-0123456";
const TENANT = "gputel_tenant-mig-dashboard-acme-token";
const NOW = T0 + 10 * MIN;
/** Another tenant's MIG device on the same GPU: none of it may reach acme's page. */
const MIG2 = "MIG-11111111-1111-1111-1111-111111111111";
const TWO_MIGS = {
  ...MIG_GPU,
  mig_devices: [
    ...MIG_GPU.mig_devices,
    { ...MIG_GPU.mig_devices[0], uuid: MIG2, device_index: 1, gpu_instance_id: 2 },
  ],
};

/**
 * The harness's GPU (MIG devices MIG and MIG2) with an Xid 79 at T0 + 5 min (reset-required open
 * since), served with the leases `lease` makes; acme's token is TENANT.
 */
async function serveMigGpu(lease: (leases: LeaseService) => void) {
  const harness = flagHarness();
  harness.store.writeInventory(inventory(HOST, T0, [TWO_MIGS]), T0);
  for (let t = T0; t <= NOW; t += MIN)
    harness.frame(t, { utilization_gpu_pct: 80, temperature_gpu_celsius: 60, power_draw_watts: 300 });
  // Xid 79 (GPU fallen off the bus): a hardware fault, reset-required open since T0 + 5 min.
  harness.clock.now = T0 + 5 * MIN;
  harness.xid([xidEvent(1, 79, { time_ms: T0 + 5 * MIN, pid: null, process_name: "" })]);
  harness.clock.now = NOW;
  const now = () => NOW;
  const leases = new LeaseService(harness.store.leases, now);
  lease(leases);
  const backend = new StoreBackend({
    store: harness.store,
    flags: harness.engine,
    health: new StoreHealthBackend({ store: harness.store, flags: harness.engine, now }),
    now,
  });
  const server = await startDashboardApi({
    backend,
    token: ADMIN,
    leases,
    tokens: (t) => (t === TENANT ? { role: "tenant", tenant: "acme", actor: "t" } : undefined),
  });
  return { h: harness, server };
}

/** Serves the GPU with `lease`'s leases and opens chromium for the describe block it is called in. */
function servedMigGpu(lease: (leases: LeaseService) => void) {
  const s: { h?: FlagHarness; url: string; stop?: () => Promise<void>; browser?: Browser } = { url: "" };
  beforeAll(async () => {
    const { h, server } = await serveMigGpu(lease);
    Object.assign(s, { h, url: server.url, stop: server.stop });
    s.browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await s.browser?.close();
    await s.stop?.();
    s.h?.cleanup();
  });
  return s;
}

describe.skipIf(skipBrowser)("a MIG device's tenant on the dashboard (chromium)", () => {
  const served = servedMigGpu((leases) => {
    leases.create({ id: "acme-mig", device: MIG, tenant: "acme", start: T0 }, "test");
    leases.create({ id: "globex-mig", device: MIG2, tenant: "globex", start: T0 }, "test");
  });

  it("lists its MIG device and opens its GPU's down flags and down time, no other route failing", async () => {
    const { browser, h, url } = served;
    if (!browser || !h) throw new Error("chromium or the collector did not start");
    expect(h.open("reset-required")).toBeDefined();
    const { page, failed } = await loadedDashboard(browser, url, `/#token=${TENANT}`);
    // The GPU's routes refused (a MIG device's GPU answers its tenant 404 but for its health).
    const answers: string[] = [];
    page.on("response", (r) => {
      const path = new URL(r.url()).pathname;
      if (r.status() >= 400 && path.startsWith("/api/v1/gpus")) answers.push(`${r.status()} ${path}`);
    });
    // No cell: the tenant holds no whole GPU.
    expect(await page.locator(".cell").count()).toBe(0);
    const mine = page.locator(`#tenant-mig [data-mig="${MIG}"]`);
    await mine.waitFor({ timeout: 10_000 });
    expect(await mine.textContent()).toContain(`${HOST} · GPU 0`);
    await mine.locator("button").click();

    await page.locator("#detail-events li.k-down").waitFor({ timeout: 10_000 });
    expect(await page.locator("#detail-title").textContent()).toBe(`${HOST} · GPU 0`);
    expect(await page.locator("#detail-sub").textContent()).toBe(`the GPU your MIG device ${MIG} is on`);
    expect(await page.locator("#detail-note").textContent()).toBe(
      "For a MIG device only its GPU's down time is shown: no kernel-log events, no operators' notes, no other details of the GPU.",
    );
    expect(await page.locator("#detail-note").isVisible()).toBe(true);
    const kinds = await page.locator("#detail-events li .h-kind").allTextContents();
    // The flags Xid 79 opened and their down time; no kernel-log event (it names the process it hit).
    expect(kinds).toEqual(["reset-required opened", "xid opened", "down"]);
    // reset-required open since the Xid at T0 + 5 min, the collector's now T0 + 10 min.
    expect(await page.locator("#detail-events li.k-down .dur").textContent()).toBe("5m");
    expect(await page.locator("#detail-health-summary").textContent()).toMatch(
      /^Last 30 days, over your MIG device's lease: GPU down time 5m · 2 down flags$/,
    );
    // The GPU's charts, processes and flag history are not its to see: not shown, not asked.
    expect(await page.locator("#gpu-detail .charts").isVisible()).toBe(false);
    expect(await page.locator("#detail-processes").isVisible()).toBe(false);
    expect(await page.locator("#detail-history").isVisible()).toBe(false);
    await page.waitForURL((u) => u.searchParams.get("gpu") === `${HOST}:0`, { timeout: 10_000 });
    // The next poll redraws the open panel (its timeline asked again): still no route refused, no error shown.
    await page.waitForResponse(
      (r) => new URL(r.url()).pathname === `/api/v1/gpus/${encodeURIComponent(`${HOST}:0`)}/health`,
      {
        timeout: 10_000,
      },
    );
    await page
      .locator("#status")
      .filter({ hasText: /^updated / })
      .waitFor({ timeout: 10_000 });
    expect(await page.locator("#status").getAttribute("class")).not.toContain("error");
    expect(answers).toEqual([]);

    // Its flag list's entry of the GPU opens the same view; so does the URL on a reload.
    await page.locator("#detail-close").click();
    await page.locator("#flags li.k-reset-required").click();
    await page.locator("#detail-events li.k-down").waitFor({ timeout: 10_000 });
    expect(await page.locator("#detail-note").isVisible()).toBe(true);
    // The app writes the open GPU into the URL once its panel has drawn.
    await page.waitForURL((u) => u.searchParams.get("gpu") === `${HOST}:0`, { timeout: 10_000 });
    await page.reload();
    await page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
    await page.locator("#detail-events li.k-down").waitFor({ timeout: 10_000 });
    expect(await page.locator("#detail-sub").textContent()).toBe(`the GPU your MIG device ${MIG} is on`);
    expect(answers).toEqual([]);
    expect(failed).toEqual([]);
  }, 60_000);

  it("its fleet area shows its MIG device, counted, down with its GPU; nothing of another tenant's", async () => {
    const { browser, url } = served;
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await loadedDashboard(browser, url, `/#token=${TENANT}`);
    const mine = page.locator(`#mig-cells .mig-cell[data-mig="${MIG}"]`);
    await mine.waitFor({ timeout: 10_000 });
    expect(await page.locator("#heatmap").textContent()).not.toContain("No GPUs reported yet.");
    expect(await mine.locator(".mig-at").textContent()).toBe(`${HOST} · GPU 0`);
    // The GPU's open down flags (reset-required since the Xid 79, and the hardware xid).
    expect(await mine.getAttribute("class")).toContain("down");
    expect(await mine.locator(".mig-state").textContent()).toBe("GPU down: reset-required, xid");
    expect(await page.locator("#shown").textContent()).toBe("1 MIG device");
    expect(await page.locator("#kpi-gpus").textContent()).toBe("1");
    expect(await page.locator("#kpi-all .kpi-label").textContent()).toBe("MIG device");
    expect(await page.locator("#mig-cells .mig-cell").count()).toBe(1);
    expect(await page.content()).not.toContain(MIG2);
    // A search that misses it hides it and says so; the cell opens its GPU's panel down only.
    await page.locator("#f-q").fill("no-such-host");
    await page.locator("#heatmap .empty").filter({ hasText: "No GPU matches the filters." }).waitFor();
    expect(await page.locator("#mig-cells .mig-cell").count()).toBe(0);
    expect(await page.locator("#shown").textContent()).toBe("0 of 1 MIG device");
    await page.locator("#f-clear").click();
    await mine.click();
    await page.locator("#detail-events li.k-down").waitFor({ timeout: 10_000 });
    expect(await page.locator("#detail-sub").textContent()).toBe(`the GPU your MIG device ${MIG} is on`);
    expect(await page.content()).not.toContain(MIG2);
    expect(failed).toEqual([]);
  }, 60_000);

  it("an admin's page opens the GPU's whole panel, with its Xid and no MIG note", async () => {
    const { browser, url } = served;
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await loadedDashboard(browser, url, `/#token=${ADMIN}`);
    expect(await page.locator("#tenant-mig").isVisible()).toBe(false);
    // Its GPUs have cells: no MIG device is drawn apart, the count is of GPUs.
    expect(await page.locator("#mig-cells .mig-cell").count()).toBe(0);
    expect(await page.locator("#kpi-all .kpi-label").textContent()).toBe("GPUs");
    await page.locator(`.cell[data-uuid="${UUID}"]`).click();
    await page.waitForSelector("#detail-events li.k-xid", { timeout: 10_000 });
    expect(await page.locator("#detail-events li.k-xid .h-kind").textContent()).toBe("Xid 79");
    expect(await page.locator("#detail-note").isVisible()).toBe(false);
    expect(await page.locator("#gpu-detail .uplot").count()).toBe(4);
    expect(await page.locator("#detail-mig").isVisible()).toBe(true);
    expect(await page.locator("#detail-health-summary").textContent()).toMatch(
      /^Last 30 days: hardware downtime 5m · 1 kernel-log events · /,
    );
    expect(failed).toEqual([]);
  }, 60_000);
});

describe.skipIf(skipBrowser)(
  "a MIG device's tenant whose lease has ended, on the dashboard (chromium)",
  () => {
    // acme held MIG until T0 + 8 min: 3 minutes of it under the reset-required the Xid opened.
    const served = servedMigGpu((leases) => {
      leases.create({ id: "acme-mig", device: MIG, tenant: "acme", start: T0, end: T0 + 8 * MIN }, "test");
    });

    it("lists the ended MIG lease, marked ended, and opens its GPU's down time over it", async () => {
      const { browser, url } = served;
      if (!browser) throw new Error("chromium did not start");
      const { page, failed } = await loadedDashboard(browser, url, `/#token=${TENANT}`);
      const ended = page.locator(`#tenant-mig [data-mig="${MIG}"]`);
      await ended.waitFor({ timeout: 10_000 });
      expect(await ended.getAttribute("class")).toContain("ended");
      // The end as the page's own locale and time zone write it.
      const end = await page.evaluate((ms) => new Date(ms).toLocaleString(), T0 + 8 * MIN);
      expect(await ended.textContent()).toContain(`${HOST} · GPU 0 · ended ${end}`);
      // Not leased now: no card of it in the fleet area.
      expect(await page.locator("#mig-cells .mig-cell").count()).toBe(0);
      await ended.locator("button").click();
      await page.locator("#detail-events li.k-down").waitFor({ timeout: 10_000 });
      expect(await page.locator("#detail-title").textContent()).toBe(`${HOST} · GPU 0`);
      expect(await page.locator("#detail-note").isVisible()).toBe(true);
      // reset-required from T0 + 5 min to the lease's end at T0 + 8 min.
      expect(await page.locator("#detail-events li.k-down .dur").textContent()).toBe("3m");
      expect(await page.locator("#detail-lease").textContent()).toBe(`lease acme-mig ended ${end}`);
      expect(failed).toEqual([]);
    }, 60_000);
  },
);
