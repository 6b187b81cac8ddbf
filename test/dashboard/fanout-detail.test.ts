// The GPU panel of a GPU only a peer collector holds (http.peers), in chromium: the front
// collector's dashboard opens it (gpus/:id asks the peers) and now draws its four charts and its
// health timeline too, from the peer's series and timeline through the front's fan-out. Both
// collectors are real API servers on loopback over their own stores.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreHealthBackend } from "../../collector/api/health-backend.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import { buildFleet, type FleetFixture } from "../api/fleet-fixture.js";
import { type Browser, launchChromium, loadedDashboard, skipBrowser, startDashboardApi } from "./chromium.js";

/** The fixture's store and flags with the health routes' backend too. */
function withHealth(f: FleetFixture): StoreBackend {
  const now = () => f.nowMs;
  return new StoreBackend({
    store: f.store,
    flags: f.flags,
    now,
    health: new StoreHealthBackend({ store: f.store, flags: f.flags, now }),
  });
}

describe.skipIf(skipBrowser)("the GPU panel across collectors (chromium)", () => {
  let front: FleetFixture | undefined;
  let peer: FleetFixture | undefined;
  const servers: Awaited<ReturnType<typeof startDashboardApi>>[] = [];
  let browser: Browser | undefined;
  let url = "";

  beforeAll(async () => {
    // node-a's frames reach the front collector, node-b's the peer only.
    front = buildFleet({ hosts: 1, hours: 2 });
    peer = buildFleet({ hosts: 1, hours: 2, firstHost: 1 });
    const peerApi = await startDashboardApi({ backend: withHealth(peer) });
    servers.push(peerApi);
    const frontApi = await startDashboardApi({ backend: withHealth(front), peers: [peerApi.url] });
    servers.push(frontApi);
    url = frontApi.url;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.stop();
    front?.close();
    peer?.close();
  });

  it("draws the charts and the health timeline of a GPU the peer holds", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await loadedDashboard(browser, url, `/?gpu=${encodeURIComponent("node-b:0")}`);
    await page.locator("#detail-title", { hasText: "node-b · GPU 0" }).waitFor({ timeout: 15_000 });
    await page.waitForSelector("#gpu-detail:not([hidden]) #chart-temp .uplot", { timeout: 15_000 });
    expect(await page.locator("#gpu-detail .uplot").count()).toBe(4);
    expect(await page.locator("#detail-sub").textContent()).toContain("tier ");
    expect(await page.locator("#detail-health-summary").textContent()).toMatch(
      /^Last 30 days: hardware downtime .* kernel-log events/,
    );
    expect(failed).toEqual([]);
  }, 60_000);
});
