// The built CLI against a built collector, both real processes (dist/): a report answered by the
// collector's read worker (dist/collector/api/read-worker.js) comes out as CSV, and a cut list
// says so on stderr while stdout stays CSV.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltCollector, startBuiltCollector } from "../helpers/built-collector.js";
import { GPUTEL } from "../helpers/cli.js";

const run = promisify(execFile);
let collector: BuiltCollector | undefined;
let url: string;

beforeAll(async () => {
  collector = await startBuiltCollector("gputel-cli-process-");
  url = collector.url;
}, 40_000);
afterAll(async () => {
  await collector?.stop();
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
