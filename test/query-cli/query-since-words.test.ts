// `--since today|yesterday|this-month|last-month` and a calendar date mean the same in every
// `gputel query` command (the usage lists them for all): events, health, processes and the
// health and processes reports too, not only summary, gpus, flags and the fleet reports. Against
// the built collector, which answers every one of these routes.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../cli/query/cli.js";
import { runCaptured, type Spawned, spawnGputel } from "../helpers/cli.js";
import { freePort, waitFor } from "../helpers/net.js";

/** A calendar date three days ago in this machine's zone (a fixed date would age past 400 days). */
const DAYS_AGO = (() => {
  const d = new Date(Date.now() - 3 * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
})();

let dir: string;
let collector: Spawned | undefined;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gputel-since-words-"));
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

describe("gputel query --since words in every command", () => {
  const commands = [["events"], ["processes"], ["report", "health"], ["report", "processes"]];
  for (const command of commands)
    for (const since of ["today", "yesterday", "this-month", "last-month", DAYS_AGO])
      test(`${command.join(" ")} --since ${since}`, async () => {
        const r = await runCaptured(run, [...command, "--since", since, "--json", "--url", url]);
        expect(r.err).toBe("");
        expect(r.code).toBe(0);
      });

  test("--until a word or date as well", async () => {
    const r = await runCaptured(run, ["events", "--since", "last-month", "--until", "today", "--url", url]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });
});
