// A real collector (embedded broker, SQLite in a temp dir, HTTP API) started in-process on free
// loopback ports, as `gputel collector` wires it (collector/run.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCollectorConfig } from "../../collector/config.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { freePort } from "../helpers/net.js";

export interface TestCollector {
  running: RunningCollector;
  http: { host: string; port: number };
  url: string;
  /** GET with a bearer token: status, content type and body text. */
  get(path: string, token: string, accept?: string): Promise<{ status: number; type: string; text: string }>;
  close(): Promise<void>;
}

export async function startTestCollector(
  options: { token?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {},
): Promise<TestCollector> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-security-"));
  const loaded = loadCollectorConfig({
    file: "/dev/null", // an empty file: a /etc/gputel/collector.yaml on this machine is not read
    env: { ...options.env, ...(options.token !== undefined ? { GPUTEL_HTTP_TOKEN: options.token } : {}) },
    overrides: {
      database: join(dir, "collector.db"),
      "broker.listen": `127.0.0.1:${await freePort()}`,
      "http.listen": `127.0.0.1:${await freePort()}`,
      ...options.overrides,
    },
  });
  if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded.problems)}`);
  const running = await startCollector(loaded.config, silentLogger());
  const http = { host: "127.0.0.1", port: running.httpPort as number };
  return {
    running,
    http,
    url: `http://127.0.0.1:${http.port}`,
    async get(path, token, accept = "application/json") {
      const response = await fetch(`http://127.0.0.1:${http.port}${path}`, {
        headers: { authorization: `Bearer ${token}`, accept },
      });
      return {
        status: response.status,
        type: response.headers.get("content-type") ?? "",
        text: await response.text(),
      };
    },
    async close() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One request path per route that needs the token (ids filled in); `/metrics` included. */
export const PRIVATE_PATHS = [
  "/api/v1/summary",
  "/api/v1/fanout/report-part",
  "/api/v1/fanout/fleet-part",
  "/api/v1/fanout/process-part",
  "/api/v1/fanout/lease-parts",
  "/api/v1/fanout/open-flags",
  "/api/v1/fanout/leases",
  "/api/v1/fanout/health-part",
  "/api/v1/fanout/summary-gpus",
  "/api/v1/fanout/ack",
  "/api/v1/hosts",
  "/api/v1/gpus",
  "/api/v1/gpus/GPU-0001",
  "/api/v1/gpus/GPU-0001/series",
  "/api/v1/flags",
  "/api/v1/fleet/cells",
  "/api/v1/reports/energy",
  "/api/v1/leases",
  "/api/v1/leases/import",
  "/api/v1/leases/GPU-0001",
  "/api/v1/leases/GPU-0001/end",
  "/api/v1/export",
  "/metrics",
  "/api/v1/events",
  "/api/v1/gpus/GPU-0001/health",
  "/api/v1/reports/health",
  "/api/v1/flags/GPU-0001/ack",
  "/api/v1/processes",
  "/api/v1/gpus/GPU-0001/processes",
  "/api/v1/reports/processes",
  "/api/v1/reports/leases",
  "/api/v1/reports/statement",
  "/api/v1/reports/sales",
  "/api/v1/tenants",
  "/api/v1/whoami",
] as const;
