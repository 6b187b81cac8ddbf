// The dashboard against a live collector fed by mock agents: two real `gputel agent` processes
// run mock-smi (live-fleet.yaml) and publish to a collector started in-process (embedded broker,
// SQLite in a temp dir). Chromium then sees six cells, the hot A100 marked, and its charts.
// Saves test/artifacts/dashboard-live.png (git-ignored; a CI artifact).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { loadCollectorConfig } from "../../collector/config.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { ROOT, type Spawned, spawnGputel } from "../helpers/cli.js";
import { freePort, waitFor } from "../helpers/net.js";
import { type Browser, CHROMIUM, collectorPage, launchChromium, skipBrowser } from "./chromium.js";

if (skipBrowser) console.warn(`chromium not found at ${CHROMIUM}: skipping the live dashboard browser test`);

const SCENARIO = join(ROOT, "test/dashboard/live-fleet.yaml");
const HOSTS = ["live-a", "live-b"];
const ARTIFACTS = join(import.meta.dirname, "..", "artifacts");

interface GpuRow {
  uuid: string;
  host: string;
  index: number;
  flags: { kind: string }[];
}

let dir: string;
let collector: RunningCollector | undefined;
let url: string;
const agents: Spawned[] = [];
let browser: Browser | undefined;

beforeAll(async () => {
  if (skipBrowser) return;
  dir = mkdtempSync(join(tmpdir(), "gputel-dashboard-live-"));
  const mqttPort = await freePort();
  const loaded = loadCollectorConfig({
    // /dev/null: an empty file, so a /etc/gputel/collector.yaml on this machine is not read.
    file: "/dev/null",
    env: {},
    overrides: {
      database: join(dir, "collector.db"),
      "broker.listen": `127.0.0.1:${mqttPort}`,
      "http.listen": `127.0.0.1:${await freePort()}`,
      "flags.overheat.raise_after": "2s",
      "flags.idle.duration": "3s",
    },
  });
  if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded.problems)}`);
  collector = await startCollector(loaded.config, silentLogger());
  url = `http://127.0.0.1:${collector.httpPort}`;
  HOSTS.forEach((host, i) => {
    const args = [
      "agent",
      "--config",
      "/dev/null",
      "--nvidia-smi",
      `${join(ROOT, "bin/gputel")} mock-smi --scenario ${SCENARIO} --host-index ${i} --`,
      "--broker",
      `mqtt://127.0.0.1:${mqttPort}`,
      "--host",
      host,
      "--interval",
      "200ms",
      "--state-dir",
      join(dir, `agent-${i}`),
    ];
    // Its own TMPDIR: mock-smi keeps its scenario clock there (t = 0 at first use).
    agents.push(spawnGputel(args, { TMPDIR: mkdtempSync(join(dir, `tmp-${i}-`)) }));
  });
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  for (const a of agents) a.child.kill("SIGTERM");
  await Promise.all(agents.map((a) => a.exited));
  await collector?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function gpus(): Promise<GpuRow[]> {
  const response = await fetch(`${url}/api/v1/gpus`);
  if (!response.ok) throw new Error(`GET /api/v1/gpus: HTTP ${response.status}`);
  return ((await response.json()) as { gpus: GpuRow[] }).gpus;
}

const isHot = (g: GpuRow) => g.host === "live-b" && g.index === 0;
const isIdle = (g: GpuRow) => g.host === "live-a" && g.index === 3;
const flagged = (g: GpuRow | undefined, kind: string) => g?.flags.some((f) => f.kind === kind) === true;

/** Temperature points with a value in the series the dashboard asks for first (1 h at 10 s). */
async function temperaturePoints(uuid: string): Promise<number> {
  const q = "metrics=temperature_gpu_celsius&from=1h&step=10s";
  const response = await fetch(`${url}/api/v1/gpus/${encodeURIComponent(uuid)}/series?${q}`);
  if (!response.ok) throw new Error(`GET series: HTTP ${response.status}`);
  const body = (await response.json()) as {
    metrics: { temperature_gpu_celsius: { avg: (number | null)[] } };
  };
  return body.metrics.temperature_gpu_celsius.avg.filter((v) => v !== null).length;
}

test.skipIf(skipBrowser)(
  "six live GPUs, the hot A100 marked, its charts on click",
  async () => {
    // Six GPUs, the hot one and the idle one flagged, and two chart points (a line, not a dot).
    let rows: GpuRow[] = [];
    let points = 0;
    const ready = waitFor(
      async () => {
        rows = await gpus();
        const hot = rows.find(isHot);
        if (rows.length !== 6 || !hot || !flagged(hot, "overheat") || !flagged(rows.find(isIdle), "idle"))
          return false;
        points = await temperaturePoints(hot.uuid);
        return points >= 2;
      },
      25_000,
      "6 GPUs, overheat on live-b/0, idle on live-a/3, 2 temperature points",
    );
    // What was seen last, so a timeout says how far the fleet got.
    await ready.catch((error: Error) => {
      const tails = agents.map((a) => a.output().slice(-500)).join("\n");
      throw new Error(`${error.message}; points ${points}; API ${JSON.stringify(rows)}; agents: ${tails}`);
    });
    const hotUuid = rows.find(isHot)?.uuid ?? "";
    expect(rows.filter((g) => g.flags.some((f) => f.kind === "overheat")).map((g) => g.uuid)).toEqual([
      hotUuid,
    ]);
    if (!browser) throw new Error("chromium did not start");

    const { page, failed } = await collectorPage(browser, url);
    await page.goto(`${url}/`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 15_000 });
    expect(await page.locator(".cell[data-uuid]").count()).toBe(6);
    expect(await page.locator(".host").count()).toBe(2);
    const hot = page.locator(`.cell[data-uuid="${hotUuid}"]`);
    expect((await hot.getAttribute("data-flags"))?.split(" ")).toContain("overheat");
    expect(await hot.locator(".badge").textContent()).toBe("HOT");
    expect(await page.locator(".cell[data-flags~='overheat']").count()).toBe(1);
    expect(await page.locator("#kpi-hot").textContent()).toBe("1");
    expect(await page.locator(".cell[data-flags~='idle']").count()).toBe(1);
    expect(await page.locator("#flags .flag").count()).toBe(2);
    await page.click("button[data-colour='temp']");
    expect(await hot.locator(".v").textContent()).toMatch(/^8[67]°$/);

    await hot.click();
    await page.waitForSelector("#gpu-detail:not([hidden]) #chart-temp .uplot", { timeout: 10_000 });
    expect(await page.locator("#gpu-detail .uplot").count()).toBe(4);
    expect(await page.locator("#detail-title").textContent()).toBe("live-b · GPU 0");
    expect(await page.locator("#detail-sub").textContent()).toContain("NVIDIA A100-SXM4-80GB");
    expect(await page.locator("#chart-temp .u-legend").textContent()).toContain("slowdown");
    expect(await page.locator("#detail-flags .pill").first().textContent()).toMatch(/^overheat: /);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-live.png"), fullPage: true });
    expect(failed).toEqual([]);
  },
  40_000,
);
