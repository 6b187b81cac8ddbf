// Serves the dashboard: one page and its files from ./static (copied into dist/ by
// scripts/copy-assets.mjs), and uPlot straight from node_modules/uplot/dist, so the page needs
// nothing from the internet. Files are read once at start and served from a fixed table: no
// request path ever reaches the file system.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, RouteShorthandOptions } from "fastify";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

interface Asset {
  type: string;
  body: Buffer;
}

function asset(path: string): Asset {
  const ext = path.slice(path.lastIndexOf("."));
  return { type: TYPES[ext] ?? "application/octet-stream", body: readFileSync(path) };
}

/** Route path → file, read now. */
export function dashboardAssets(): Map<string, Asset> {
  const here = dirname(fileURLToPath(import.meta.url));
  const staticDir = join(here, "static");
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(staticDir)) {
    if (!/^[a-z0-9.-]+$/.test(name) || !(name.slice(name.lastIndexOf(".")) in TYPES)) continue;
    assets.set(`/static/${name}`, asset(join(staticDir, name)));
  }
  const index = assets.get("/static/index.html");
  if (index) assets.set("/", index);
  const uplotDir = join(dirname(createRequire(import.meta.url).resolve("uplot/package.json")), "dist");
  assets.set("/vendor/uplot.esm.js", asset(join(uplotDir, "uPlot.esm.js")));
  assets.set("/vendor/uplot.min.css", asset(join(uplotDir, "uPlot.min.css")));
  return assets;
}

/** `routeOptions`: the API server's access decision for these routes (its public-route option). */
export function registerDashboard(app: FastifyInstance, routeOptions: RouteShorthandOptions): void {
  const assets = dashboardAssets();
  for (const [path, a] of assets) {
    app.get(path, routeOptions, async (_req, reply) => {
      reply
        .header("content-type", a.type)
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff")
        // Never framed by another site's page (clickjacking), for browsers without frame-ancestors too.
        .header("x-frame-options", "DENY")
        .header(
          "content-security-policy",
          "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        );
      return a.body;
    });
  }
}
