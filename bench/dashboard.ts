// Dashboard benchmark (issue 18), Chromium against a collector holding a wall fleet
// (bench/wall-fleet.ts: 10,000 GPUs, 157 overheating; "smoke": 1,000):
//   dashboard.render_10k_gpus_ms      navigation start → first poll drawn (the page's own
//                                     performance mark), median of 3 fresh pages; target < 1,000
//   dashboard.poll_bytes_10k_gpus     bytes over the wire (headers and compressed bodies, as
//                                     Chromium counts them) of one steady poll: cells, flags,
//                                     summary; target < 100,000
//   dashboard.main_thread_busy_pct    main-thread task time over 60 s of polling (10 s in smoke)
//                                     with 157 GPUs overheating; target < 20
// Skipped with a message where Debian's chromium is absent.
import { createApiServer } from "../collector/api/server.js";
import { silentLogger } from "../shared/logger.js";
import { CHROMIUM, chromiumPresent, launchChromium } from "../test/dashboard/chromium.js";
import { type BenchFigure, median } from "./common.js";
import { buildWallFleet } from "./wall-fleet.js";

const POLL_PATHS = ["/api/v1/fleet/cells", "/api/v1/flags", "/api/v1/summary"];

export async function benchDashboard(size: "full" | "smoke" = "full"): Promise<BenchFigure[]> {
  if (!chromiumPresent) {
    process.stderr.write(`bench dashboard: chromium not found at ${CHROMIUM}; skipped\n`);
    return [];
  }
  const fleet = buildWallFleet({ hosts: size === "full" ? 1250 : 125 });
  const suffix = size === "full" ? "10k_gpus" : "1k_gpus";
  const server = createApiServer({
    backend: fleet.backend,
    listen: { host: "127.0.0.1", port: 0 },
    logger: silentLogger(),
  });
  const base = `http://127.0.0.1:${(await server.start()).port}`;
  const browser = await launchChromium();
  try {
    const renders: number[] = [];
    for (let run = 0; run < 3; run++) {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1920, height: 1080 });
      await page.goto(`${base}/`);
      await page.waitForSelector("body[data-loaded='1']", { timeout: 60_000 });
      renders.push(
        (await page.evaluate(
          "performance.getEntriesByName('gputel-rendered')[0]?.startTime ?? Number.NaN",
        )) as number,
      );
      await page.close();
    }

    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1920, height: 1080 });
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Performance.enable");
    const urls = new Map<string, string>();
    const finished: { path: string; bytes: number }[] = [];
    cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
    cdp.on("Network.loadingFinished", (e) => {
      const u = new URL(urls.get(e.requestId) ?? base);
      finished.push({ path: u.pathname + u.search, bytes: e.encodedDataLength });
    });
    await page.goto(`${base}/`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 60_000 });
    // A steady poll: the one after the first (which also fetched the layout).
    const before = finished.length;
    await page.waitForResponse((r) => r.url() === `${base}/api/v1/fleet/cells`, { timeout: 20_000 });
    const deadline = Date.now() + 10_000;
    const poll = () => finished.slice(before).filter((f) => POLL_PATHS.some((p) => f.path.startsWith(p)));
    while (new Set(poll().map((f) => f.path.split("?")[0])).size < POLL_PATHS.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const last = new Map<string, number>();
    for (const f of poll()) last.set(f.path.split("?")[0] ?? f.path, f.bytes);
    if (last.size < POLL_PATHS.length) throw new Error(`a poll fetched only ${[...last.keys()].join(", ")}`);
    const pollBytes = [...last.values()].reduce((a, b) => a + b, 0);

    const taskSeconds = async () => {
      const { metrics } = (await cdp.send("Performance.getMetrics")) as {
        metrics: { name: string; value: number }[];
      };
      return metrics.find((m) => m.name === "TaskDuration")?.value ?? Number.NaN;
    };
    const windowMs = size === "full" ? 60_000 : 10_000;
    const t0 = await taskSeconds();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const busyPct = (((await taskSeconds()) - t0) * 1000 * 100) / (performance.now() - w0);
    await page.close();
    return [
      { name: `dashboard.render_${suffix}_ms`, value: median(renders), unit: "ms" },
      { name: `dashboard.poll_bytes_${suffix}`, value: pollBytes, unit: "bytes" },
      { name: "dashboard.main_thread_busy_pct", value: busyPct, unit: `% of ${windowMs / 1000} s` },
    ];
  } finally {
    await browser.close();
    await server.stop();
    fleet.close();
  }
}
