// The built CLI against a built collector, both real processes (dist/): a report answered by the
// collector's read worker (dist/collector/api/read-worker.js) comes out as CSV, and a cut list
// says so on stderr while stdout stays CSV.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GPUTEL, type Spawned, spawnGputel } from "../helpers/cli.js";
import { freePort, waitFor } from "../helpers/net.js";

const run = promisify(execFile);
let dir: string;
let collector: Spawned | undefined;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gputel-cli-process-"));
  const [mqtt, http] = [await freePort(), await freePort()];
  const config = join(dir, "collector.yaml");
  writeFileSync(
    config,
    `database: ${join(dir, "c.db")}\nbroker:\n  listen: 127.0.0.1:${mqtt}\nhttp:\n  listen: 127.0.0.1:${http}\n`,
  );
  collector = spawnGputel(["collector", "--config", config]);
  url = `http://127.0.0.1:${http}`;
  await waitFor(
    async () => (await fetch(`${url}/api/v1/hosts`).catch(() => undefined))?.ok === true,
    30_000,
    "the collector's API",
  );
}, 40_000);
afterAll(async () => {
  collector?.child.kill("SIGTERM");
  await collector?.exited;
  rmSync(dir, { recursive: true, force: true });
});

describe("gputel query as a process against gputel collector", () => {
  it("prints a report from the read worker as CSV, for yesterday", async () => {
    const { stdout, stderr } = await run(process.execPath, [
      GPUTEL,
      "query",
      "report",
      "utilization",
      "--since",
      "yesterday",
      "--format",
      "csv",
      "--url",
      url,
    ]);
    expect(stderr).toBe("");
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^group,/);
    expect(lines.at(-1)).toMatch(/^TOTAL,0,/);
  });

  it("a label as the agent writes it is accepted", async () => {
    const { stdout } = await run(process.execPath, [
      GPUTEL,
      "query",
      "gpus",
      "--label",
      "customer=acme",
      "--url",
      url,
    ]);
    expect(stdout).toBe("No GPUs.\n");
  });
});
