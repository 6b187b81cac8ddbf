// A real VictoriaMetrics for tests (Debian's `victoria-metrics`, 1.79 here): a free loopback
// port, a temp data dir, no query cache and no latency offset, so what was just imported and
// flushed is what a query sees. Required when GPUTEL_REQUIRE_VICTORIAMETRICS=1 (a missing binary
// fails); otherwise tests skip with a message.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./net.js";
import { toolAvailable } from "./tools.js";

export const VM_BIN = process.env.GPUTEL_VICTORIAMETRICS ?? "/usr/bin/victoria-metrics";

export function victoriaMetricsAvailable(what: string): boolean {
  return toolAvailable({ bins: [VM_BIN], require: "VICTORIAMETRICS", apt: "victoria-metrics", what });
}

export interface VictoriaMetrics {
  url: string;
  output(): string;
  /** Makes what was imported searchable now (VictoriaMetrics buffers it in memory first). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startVictoriaMetrics(): Promise<VictoriaMetrics> {
  const dir = await mkdtemp(join(tmpdir(), "gputel-vm-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(
    VM_BIN,
    [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${join(dir, "data")}`,
      "-retentionPeriod=100y",
      "-search.latencyOffset=0s",
      "-search.disableCache",
      "-loggerLevel=WARN",
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
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`victoria-metrics exited (${child.exitCode}): ${output}`);
        try {
          return (await fetch(`${url}/health`)).ok;
        } catch {
          return false;
        }
      },
      30_000,
      "VictoriaMetrics ready",
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    output: () => output,
    async flush() {
      const response = await fetch(`${url}/internal/force_flush`);
      if (!response.ok) throw new Error(`force_flush: HTTP ${response.status}`);
    },
    stop,
  };
}
