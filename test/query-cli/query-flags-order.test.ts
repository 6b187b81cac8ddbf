// `gputel query flags` lists open problems first and never cuts silently (issue 18).
import { afterAll, beforeAll, expect, test } from "vitest";
import { run } from "../../cli/query/cli.js";
import { type LiveApi, startLiveApi } from "../api/server-helpers.js";

let a: LiveApi;
beforeAll(async () => {
  a = await startLiveApi();
});
afterAll(async () => {
  await a?.close();
});

async function query(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await run(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
    isTTY: false,
  });
  return { code, stdout, stderr };
}

test("overheat first, then idle-held, then idle", async () => {
  const r = await query(["flags", "--url", a.url]);
  expect(r.code).toBe(0);
  const kinds = r.stdout
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((l) => l.split(/\s+/)[0]);
  expect(kinds).toEqual(["overheat", "idle-held", "idle-held", "idle-held", "idle", "idle", "idle"]);
  expect(r.stderr).toBe("");
});

test("a cut list says so on stderr, with the true totals per kind", async () => {
  const r = await query(["flags", "--url", a.url, "--limit", "2"]);
  expect(r.code).toBe(0);
  expect(r.stdout.trimEnd().split("\n")).toHaveLength(3);
  expect(r.stderr).toBe(
    "gputel query: showing 2 of 7 open flags (overheat 1, idle-held 3, idle 3); raise --limit or narrow with --kind, --site, --host or --label\n",
  );
});
