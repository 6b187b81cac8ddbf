// A real Prometheus for tests (Debian's `prometheus`, 2.42 here): a free loopback port, a temp
// TSDB, no scrape jobs, the remote-write receiver on and a 1 h out-of-order window (config key
// storage.tsdb.out_of_order_time_window, Prometheus >= 2.39). Required when
// GPUTEL_REQUIRE_PROMETHEUS=1 (a missing binary fails); otherwise tests skip with a message.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "../helpers/net.js";

export const PROMETHEUS_BIN = process.env.GPUTEL_PROMETHEUS ?? "/usr/bin/prometheus";

export function prometheusAvailable(): boolean {
  if (existsSync(PROMETHEUS_BIN)) return true;
  if (process.env.GPUTEL_REQUIRE_PROMETHEUS === "1") {
    throw new Error(
      `GPUTEL_REQUIRE_PROMETHEUS=1 but ${PROMETHEUS_BIN} is missing (apt-get install prometheus)`,
    );
  }
  console.warn(
    `Prometheus tests skipped: ${PROMETHEUS_BIN} not found (set GPUTEL_REQUIRE_PROMETHEUS=1 to require it)`,
  );
  return false;
}

export interface Prometheus {
  url: string;
  writeUrl: string;
  output(): string;
  /** GET /api/v1/<path> and the `data` of a successful answer. */
  api<T>(path: string, params: Record<string, string>): Promise<T>;
  stop(): Promise<void>;
}

/** `globalConfig`: the lines of the global section (default: scrape_interval 1h); `extraConfig`: YAML appended (scrape_configs, rule_files…). */
export async function startPrometheus(
  options: { extraConfig?: string; globalConfig?: string } = {},
): Promise<Prometheus> {
  const dir = await mkdtemp(join(tmpdir(), "gputel-prometheus-"));
  const port = await freePort();
  const config = join(dir, "prometheus.yml");
  await writeFile(
    config,
    `global:\n${options.globalConfig ?? "  scrape_interval: 1h\n"}storage:\n  tsdb:\n    out_of_order_time_window: 1h\n${options.extraConfig ?? ""}`,
  );
  let output = "";
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-remote-write-receiver",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d) => {
    output += String(d);
  });
  child.stderr?.on("data", (d) => {
    output += String(d);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${output}`);
      try {
        return (await fetch(`${url}/-/ready`)).ok;
      } catch {
        return false;
      }
    },
    30_000,
    "Prometheus ready",
  );
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    output: () => output,
    async api<T>(path: string, params: Record<string, string>): Promise<T> {
      const response = await fetch(`${url}/api/v1/${path}?${new URLSearchParams(params)}`);
      const body = (await response.json()) as { status: string; data: T; error?: string };
      if (body.status !== "success") throw new Error(`Prometheus ${path}: ${body.error}`);
      return body.data;
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
