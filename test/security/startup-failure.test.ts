// Issue 13 item 6: a start-up that fails half-way must close what it opened (embedded broker,
// store, timers) and the real `gputel collector` process must exit non-zero, not linger with a
// broker that still accepts frames. `check-config` refuses what start-up refuses.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { hashPassword } from "../../collector/broker/password-hash.js";
import { loadCollectorConfig } from "../../collector/config.js";
import { startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { type Spawned, spawnGputel } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";

let dir: string;
const busy: Server[] = [];
const spawned: Spawned[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gputel-startup-"));
});
afterEach(async () => {
  for (const s of spawned.splice(0)) if (s.child.exitCode === null) s.child.kill("SIGKILL");
  await Promise.all(busy.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback port held by someone else. */
async function occupiedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  busy.push(server);
  return (server.address() as { port: number }).port;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** The exit code, or "still running" after the deadline. */
async function exitWithin(s: Spawned, ms: number): Promise<number | null | "still running"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"still running">((resolve) => {
    timer = setTimeout(() => resolve("still running"), ms);
  });
  const result = await Promise.race([s.exited, late]);
  clearTimeout(timer);
  return result;
}

function collector(args: string[]): Spawned {
  const s = spawnGputel([
    "collector",
    "--config",
    "/dev/null",
    "--database",
    join(dir, `${Date.now()}-${Math.random()}.db`),
    ...args,
  ]);
  spawned.push(s);
  return s;
}

describe("the real process", () => {
  test("HTTP port in use: exits non-zero and its broker port is closed", async () => {
    const mqtt = await freePort();
    const http = await occupiedPort();
    const s = collector(["--listen", `127.0.0.1:${mqtt}`, "--http", `127.0.0.1:${http}`]);
    expect(await exitWithin(s, 15_000)).toBe(1);
    expect(s.output()).toContain("Collector failed to start");
    expect(await portOpen(mqtt)).toBe(false);
  });

  test("MQTT port in use: exits non-zero, its HTTP port never answers", async () => {
    const mqtt = await occupiedPort();
    const http = await freePort();
    const s = collector(["--listen", `127.0.0.1:${mqtt}`, "--http", `127.0.0.1:${http}`]);
    expect(await exitWithin(s, 15_000)).toBe(1);
    expect(s.output()).toContain("Collector failed to start");
    expect(await portOpen(http)).toBe(false);
  });

  test('http.token: "" on a non-loopback bind: refused as configuration (78), nothing left listening', async () => {
    const mqtt = await freePort();
    const file = join(dir, "empty-token.yaml");
    writeFileSync(file, `http:\n  listen: "0.0.0.0:${await freePort()}"\n  token: ""\n`);
    const s = spawnGputel([
      "collector",
      "--config",
      file,
      "--listen",
      `127.0.0.1:${mqtt}`,
      "--database",
      join(dir, "t.db"),
    ]);
    spawned.push(s);
    expect(await exitWithin(s, 15_000)).toBe(78);
    expect(s.output()).toContain("http.token");
    expect(await portOpen(mqtt)).toBe(false);
  });
});

test("in process: a failed start closes the embedded broker and the store it opened", async () => {
  const mqtt = await freePort();
  const http = await occupiedPort();
  const database = join(dir, "in-process.db");
  const loaded = loadCollectorConfig({
    file: "/dev/null",
    env: {},
    overrides: { database, "broker.listen": `127.0.0.1:${mqtt}`, "http.listen": `127.0.0.1:${http}` },
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  await expect(startCollector(loaded.config, silentLogger())).rejects.toThrow(/EADDRINUSE/);
  expect(await portOpen(mqtt)).toBe(false);
  // The store was closed: a second collector on the same database and ports starts and stops cleanly.
  const again = loadCollectorConfig({
    file: "/dev/null",
    env: {},
    overrides: {
      database,
      "broker.listen": `127.0.0.1:${mqtt}`,
      "http.listen": `127.0.0.1:${await freePort()}`,
    },
  });
  if (!again.ok) throw new Error(JSON.stringify(again.problems));
  const running = await startCollector(again.config, silentLogger());
  expect(running.mqttPort).toBe(mqtt);
  await running.stop();
});

describe("check-config refuses what start-up refuses", () => {
  test.each([
    ['http:\n  token: ""\n', "http.token"],
    ['http:\n  listen: "0.0.0.0:8080"\n  token: ""\n', "http.token"],
    ['broker:\n  listen: "0.0.0.0:1883"\n', "broker.users_file"],
    ['broker:\n  listen: ":1883"\n', "broker.users_file"],
    ['broker:\n  listen: "[::]:1883"\n', "broker.users_file"],
  ])("%j: 78 naming %s", async (yaml, key) => {
    const file = join(dir, `check-${Math.random()}.yaml`);
    writeFileSync(file, yaml);
    const s = spawnGputel(["collector", "check-config", "--config", file]);
    spawned.push(s);
    expect(await exitWithin(s, 15_000)).toBe(78);
    expect(s.output()).toContain(key);
  });

  test("an embedded broker beyond loopback with users_file is accepted", async () => {
    const users = join(dir, "users");
    writeFileSync(users, `agent-a:${await hashPassword("secret")}\n`);
    const file = join(dir, "with-users.yaml");
    writeFileSync(file, `broker:\n  listen: "0.0.0.0:1883"\n  users_file: ${users}\n`);
    const s = spawnGputel(["collector", "check-config", "--config", file]);
    spawned.push(s);
    expect(await exitWithin(s, 15_000)).toBe(0);
  });
});
