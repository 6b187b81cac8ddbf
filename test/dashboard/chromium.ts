// Debian's chromium for the dashboard browser tests: where it is, whether it must be there, and a
// headless launch with a fresh profile that reaches nothing but what the test allows.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type ApiServerOptions, createApiServer } from "../../collector/api/server.js";
import { silentLogger } from "../../shared/logger.js";

export const CHROMIUM = process.env.GPUTEL_CHROMIUM ?? "/usr/bin/chromium";
/** CI sets GPUTEL_REQUIRE_CHROMIUM=1: a missing browser then fails the test instead of skipping it. */
export const chromiumRequired = process.env.GPUTEL_REQUIRE_CHROMIUM === "1";
export const chromiumPresent = existsSync(CHROMIUM);
export const skipBrowser = !chromiumPresent && !chromiumRequired;

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless chromium with a fresh profile (playwright's way of passing --user-data-dir). */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "gputel-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
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
    return {
      context,
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

/** A page that may ask only `origin` for anything; failed requests and page errors are collected. */
export async function collectorPage(
  browser: Browser,
  origin: string,
): Promise<{ page: Page; failed: string[] }> {
  const page = await browser.context.newPage();
  const failed: string[] = [];
  page.on("requestfailed", (r) => failed.push(r.url()));
  page.on("pageerror", (e) => failed.push(String(e)));
  await page.route("**/*", (route) =>
    route.request().url().startsWith(origin) ? route.continue() : route.abort(),
  );
  return { page, failed };
}

/** The real API server on a free loopback port, for a browser to load the dashboard from. */
export async function startDashboardApi(
  options: Omit<ApiServerOptions, "listen" | "logger">,
): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createApiServer({
    ...options,
    listen: { host: "127.0.0.1", port: 0 },
    logger: silentLogger(),
  });
  const url = `http://127.0.0.1:${(await server.start()).port}`;
  return { url, stop: () => server.stop() };
}

/** The dashboard at `path` (with a `#token=` fragment where needed), once its first poll has drawn it. */
export async function loadedDashboard(
  browser: Browser,
  origin: string,
  path: string,
): Promise<{ page: Page; failed: string[] }> {
  const opened = await collectorPage(browser, origin);
  await opened.page.goto(`${origin}${path}`);
  await opened.page.waitForSelector("body[data-loaded='1']", { timeout: 30_000 });
  return opened;
}
