// `gputel lease list --since/--until` and `gputel report leases --from/--to` read the words and
// dates `gputel query` reads (24h, today, yesterday, this-month, last-month, 2026-05-01), not only
// what the API parses; a word that is none of them is bad usage (64), not a stack trace.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run as leaseCli } from "../../cli/lease/cli.js";
import { run as reportCli } from "../../cli/report/cli.js";
import { frameFor } from "../collector/leases/store-helpers.js";
import { runCaptured } from "../helpers/cli.js";
import { startTestCollector, type TestCollector } from "../security/collector-helpers.js";

/** A calendar date three days ago in this machine's zone (a fixed date would age past 400 days). */
const DAYS_AGO = (() => {
  const d = new Date(Date.now() - 3 * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
})();

const TOKEN = "lease-range-words-admin-token-0123";
const G1 = "GPU-aaaaaaaa-2222-3333-4444-555555555555";
const NOW = Date.now();
const env = { GPUTEL_API_TOKEN: TOKEN };
let c: TestCollector;

beforeAll(async () => {
  c = await startTestCollector({ token: TOKEN });
  c.running.store.writeFrames([frameFor("host-a", [G1], NOW - 48 * 3_600_000)], NOW);
});
afterAll(async () => {
  await c?.close();
});

describe("time words in gputel lease list and gputel report leases", () => {
  for (const since of ["24h", "today", "yesterday", "this-month", "last-month", DAYS_AGO]) {
    test(`lease list --since ${since}`, async () => {
      const r = await runCaptured(leaseCli, ["list", "--since", since, "--json", "--url", c.url], env);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
    });

    test(`report leases --from ${since}`, async () => {
      const r = await runCaptured(
        reportCli,
        ["leases", "--from", since, "--format", "json", "--url", c.url],
        env,
      );
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
    });
  }

  test("--until a word, and a day that does not exist is bad usage", async () => {
    const until = await runCaptured(
      leaseCli,
      ["list", "--since", "last-month", "--until", "today", "--url", c.url],
      env,
    );
    expect(until.err).toBe("");
    expect(until.code).toBe(0);
    const bad = await runCaptured(reportCli, ["leases", "--from", "2026-02-30", "--url", c.url], env);
    expect(bad.code).toBe(64);
    expect(bad.err).toContain("is not a date");
  });
});
