// `npm start` (scripts/demo.mjs) as a first-time user runs it: a collector and four mock-GPU
// agents come up, the API sees the whole mixed fleet and an overheat flag, and an interrupt
// stops every part cleanly (exit 0, nothing thrown, no part left running), agents before the
// collector so that none of them warns of a reset connection.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/net.js";

const ROOT = process.cwd();
let demo: ChildProcess | undefined;
let dir: string | undefined;
afterEach(() => {
  demo?.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface SummaryBody {
  hosts: { total: number; byStatus: Record<string, number> };
  gpus: { total: number };
  flags: { byKind: Record<string, number> };
}

describe("npm start (scripts/demo.mjs)", () => {
  it("serves the mixed mock fleet with its flags, and stops cleanly on SIGINT", {
    timeout: 120_000,
  }, async () => {
    dir = mkdtempSync(join(tmpdir(), "gputel-demo-"));
    const child = spawn(process.execPath, [join(ROOT, "scripts/demo.mjs")], {
      cwd: ROOT,
      env: { ...process.env, GPUTEL_DEMO_DIR: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    demo = child;
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    await waitFor(() => /API\s+http:\/\/\S+\/api\/v1\/summary/.test(output), 30_000, "the demo's banner");
    const api = (/API\s+(http:\/\/\S+\/api\/v1\/summary)/.exec(output) as RegExpExecArray)[1] as string;

    let summary: SummaryBody | undefined;
    const fleetShown = waitFor(
      async () => {
        const response = await fetch(api).catch(() => undefined);
        if (!response?.ok) return false;
        summary = (await response.json()) as SummaryBody;
        return (
          summary.gpus.total === 18 &&
          summary.hosts.byStatus.online === 4 &&
          (summary.flags.byKind.overheat ?? 0) >= 1
        );
      },
      90_000,
      "18 GPUs on 4 online hosts and an overheat flag",
    );
    await fleetShown.catch((error: Error) => {
      throw new Error(`${error.message}; last summary: ${JSON.stringify(summary)}`);
    });

    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(output).toContain("Stopping the demo");
    expect(output).not.toMatch(/TypeError|not open|exited \(|did not stop/);
    // Agents stop before the collector: no connection reset while stopping (issue 18).
    expect(output).not.toMatch(/ECONNRESET|Broker connection closed|MQTT error/);
  });
});
