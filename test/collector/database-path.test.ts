// A `database` path that cannot be a database file (a directory, or under a regular file) is a
// configuration problem: the real `gputel collector` says which key and which path, and exits 78
// (EX_CONFIG), which the unit's RestartPreventExitStatus= keeps from restarting every 5 s.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { type Spawned, spawnGputel } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";

let dir: string;
const spawned: Spawned[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gputel-dbpath-"));
});
afterEach(() => {
  for (const s of spawned.splice(0)) if (s.child.exitCode === null) s.child.kill("SIGKILL");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startWith(database: string): Promise<Spawned> {
  const s = spawnGputel([
    "collector",
    "--config",
    "/dev/null",
    "--database",
    database,
    "--listen",
    `127.0.0.1:${await freePort()}`,
    "--http",
    `127.0.0.1:${await freePort()}`,
  ]);
  spawned.push(s);
  return s;
}

test.each([
  ["a directory", () => mkdirSync(join(dir, "is-a-dir"), { recursive: true }), "is-a-dir"],
  ["under a regular file", () => writeFileSync(join(dir, "plain"), ""), "plain/collector.db"],
])("a database path that is %s: exits 78 naming the key and the path", async (_what, prepare, name) => {
  prepare();
  const database = join(dir, name);
  const s = await startWith(database);
  expect(await s.exited).toBe(78);
  const fatal =
    s
      .output()
      .split("\n")
      .find((line) => line.includes("Collector failed to start")) ?? "";
  expect(fatal).toContain("GPUTEL_E_CONFIG");
  expect(fatal).toContain(`database: ${database}`);
});
