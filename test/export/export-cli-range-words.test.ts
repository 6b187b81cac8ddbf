// `gputel export --since/--until` read the words and dates `gputel query` reads (yesterday,
// this-month, last-month, 2026-05-01), not only what the API parses; a day that does not exist
// is bad usage (64).
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../cli/export/cli.js";
import { type LiveApi, startLiveApi } from "../api/server-helpers.js";

/** A calendar date three days ago in this machine's zone (a fixed date would age past 400 days). */
const DAYS_AGO = (() => {
  const d = new Date(Date.now() - 3 * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
})();

const TOKEN = "export-range-words-token-0123456789";
let api: LiveApi;

beforeAll(async () => {
  api = await startLiveApi({ token: TOKEN });
}, 60_000);
afterAll(async () => {
  await api?.close();
});

async function cli(args: string[]) {
  const stdout = new PassThrough();
  let out = "";
  stdout.on("data", (d) => {
    out += String(d);
  });
  let err = "";
  const code = await run([...args, "--url", api.url], {
    stdout,
    stderr: (t) => (err += t),
    env: { GPUTEL_API_TOKEN: TOKEN },
  });
  return { code, out, err };
}

describe("gputel export --since words", () => {
  for (const since of ["today", "yesterday", "this-month", "last-month", DAYS_AGO])
    test(`--since ${since}`, async () => {
      const r = await cli(["--since", since, "--format", "csv", "--tier", "1h"]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^time,timestamp_ms,host,gpu,uuid,/);
    });

  test("a day that does not exist is bad usage", async () => {
    const r = await cli(["--since", "2026-02-30", "--format", "csv"]);
    expect(r.code).toBe(64);
    expect(r.err).toContain("is not a date");
  });
});
