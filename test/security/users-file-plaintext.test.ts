// Issue 13 item 8: an existing users_file with a plaintext password is refused, at start-up and by
// check-config, with a message naming the user and how to fix it (so no file of clear passwords
// keeps working unnoticed after an upgrade). The real CLI (bin/gputel, built dist/).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { spawnGputel } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";
import { usersLine } from "./broker-harness.js";

let dir: string;
let config: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gputel-sec-plain-"));
  const users = join(dir, "users");
  writeFileSync(users, `${await usersLine("node-a", { password: "pw-a" })}\nnode-b:secret-b\n`);
  config = join(dir, "collector.yaml");
  writeFileSync(
    config,
    [
      `database: ${join(dir, "collector.db")}`,
      "broker:",
      `  listen: 127.0.0.1:${await freePort()}`,
      `  users_file: ${users}`,
      "http:",
      `  listen: 127.0.0.1:${await freePort()}`,
      "",
    ].join("\n"),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NAMED =
  /broker\.users_file: .*users:2: user 'node-b' has a plaintext password; .*gputel collector hash-password/;

it("check-config refuses it (exit 78), naming the user and the fix", async () => {
  const run = spawnGputel(["collector", "check-config", "--config", config]);
  expect(await run.exited).toBe(78);
  expect(run.output()).toMatch(NAMED);
  expect(run.output()).not.toMatch(/secret-b/);
});

it("the collector does not start on it (exit 78)", async () => {
  const run = spawnGputel(["collector", "--config", config]);
  const code = await Promise.race([
    run.exited,
    new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 15_000)),
  ]);
  if (code === "still running") run.child.kill("SIGTERM");
  expect(code).toBe(78);
  expect(run.output()).toMatch(NAMED);
});
