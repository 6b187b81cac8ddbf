// Issue 13 item 8: users_file passwords were stored in the clear and compared with `!==`. Now the
// file holds scrypt hashes from `gputel collector hash-password` (password on stdin, never argv),
// checked in constant time; knowing the file's contents no longer logs anyone in. Real CLI
// (bin/gputel, built dist/), real collector with its embedded broker, real mqtt.js clients.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCollectorConfig } from "../../collector/config.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { assertBuilt, GPUTEL, ROOT } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";
import { connectAs } from "./broker-harness.js";

/** Runs `gputel collector hash-password ...args` with `input` on stdin. */
function hashCli(
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assertBuilt();
  const child = spawn(process.execPath, [GPUTEL, "collector", "hash-password", ...args], { cwd: ROOT });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += String(d);
  });
  child.stderr.on("data", (d) => {
    stderr += String(d);
  });
  child.stdin.end(input);
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

let dir: string;
let hash: string;
let collector: RunningCollector;
let url: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gputel-sec-users-"));
  const out = await hashCli([], "agent-secret\n");
  expect(out).toMatchObject({ code: 0, stderr: "" });
  hash = out.stdout.trim();
  writeFileSync(join(dir, "users"), `# made with gputel collector hash-password\nnode-a:${hash}\n`);
  const port = await freePort();
  const loaded = loadCollectorConfig({
    env: {},
    overrides: {
      database: join(dir, "collector.db"),
      "broker.listen": `127.0.0.1:${port}`,
      "http.listen": `127.0.0.1:${await freePort()}`,
      "broker.users_file": join(dir, "users"),
    },
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  collector = await startCollector(loaded.config, silentLogger());
  url = `mqtt://127.0.0.1:${port}`;
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.endAsync(true);
  await collector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function attempt(user: string, password: string, version: 4 | 5): Promise<string | number> {
  try {
    const client = await connectAs(url, user, password, version);
    clients.push(client);
    return "connected";
  } catch (error) {
    return (error as { code?: number }).code ?? String(error);
  }
}

describe("gputel collector hash-password", () => {
  it("prints a salted scrypt hash of the password read on stdin", async () => {
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    const again = await hashCli([], "agent-secret\n");
    expect(again.stdout.trim()).not.toBe(hash); // a new salt each time
  });

  it("refuses a password on the command line, where `ps` shows it", async () => {
    const out = await hashCli(["agent-secret"], "");
    expect(out.code).toBe(64);
    expect(out.stderr).toMatch(/read on stdin/);
    expect(out.stdout).toBe("");
  });
});

describe.each([5, 4] as const)("MQTT %i login against the hashed users_file", (version) => {
  const refused = version === 5 ? 0x86 : 4;

  it("the right password connects", async () => {
    expect(await attempt("node-a", "agent-secret", version)).toBe("connected");
  });

  it("the hash itself, a wrong password and an unknown user are refused", async () => {
    expect(await attempt("node-a", hash, version)).toBe(refused);
    expect(await attempt("node-a", "agent-secreT", version)).toBe(refused);
    expect(await attempt("node-b", "agent-secret", version)).toBe(refused);
  });
});
