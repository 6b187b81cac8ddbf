// Issue 13 item 4, third attack: 300 retained 1 MB messages (each rejected by ingest, or on a
// topic nothing reads) grew the collector's RSS by 300 MB and were then all delivered to a new
// subscriber. Only status and inventory are retained, bounded in size and in count.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterEach, expect, it } from "vitest";
import { encodeInventory } from "../../shared/codec.js";
import { SCHEMA_VERSION } from "../../shared/proto.js";
import { AgentState, statusPayload } from "../collector/ingest/frames.js";
import { freePort, waitFor } from "../helpers/net.js";
import { connectAs, publishOutcome, startTestCollector, type TestCollector } from "./broker-harness.js";

const VITE_NODE = join(process.cwd(), "node_modules", "vite-node", "vite-node.mjs");
const CHILD = join(import.meta.dirname, "collector-child.ts");
const MB = 1_000_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function client(url: string): Promise<MqttClient> {
  const c = await connectAs(url, undefined, undefined, 5);
  cleanups.push(() => c.endAsync(true));
  return c;
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
  return Number(line?.[1] ?? 0) * 1024;
}

async function childCollector(): Promise<{ url: string; child: ChildProcess }> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-sec-rss-"));
  const port = await freePort();
  const overrides = {
    database: join(dir, "collector.db"),
    "broker.listen": `127.0.0.1:${port}`,
    "http.listen": `127.0.0.1:${await freePort()}`,
  };
  const child = spawn(process.execPath, [VITE_NODE, CHILD, "--", JSON.stringify(overrides)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  cleanups.push(async () => {
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => String(d).includes("READY") && resolve());
    child.once("exit", (code) => reject(new Error(`collector child exited ${code}`)));
  });
  return { url: `mqtt://127.0.0.1:${port}`, child };
}

it("300 retained 1 MB messages are neither kept (RSS) nor delivered to a new subscriber", {
  timeout: 120_000,
}, async () => {
  const { url, child } = await childCollector();
  const pid = child.pid as number;
  const attacker = await client(url);
  // Warm up (first connections, code paths), then measure.
  await publishOutcome(attacker, "warm/up", Buffer.alloc(MB), true);
  const before = rssBytes(pid);
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    // Half on gputel topics (ingest: payload_too_large), half on topics the design never retains.
    const topic = i % 2 === 0 ? `gputel/v1/fake-${i}/status` : `junk/${i}`;
    const outcome = await publishOutcome(attacker, topic, Buffer.alloc(MB, i % 256), true);
    const key = JSON.stringify(outcome);
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  const grown = rssBytes(pid) - before;
  expect(Object.fromEntries(outcomes)).toEqual({
    [JSON.stringify({ code: 0x99 })]: 150, // payload_too_large
    [JSON.stringify({ code: 0x83 })]: 150, // retained where the design retains nothing
  });
  expect(grown).toBeLessThan(100 * MB);

  // A legitimate retained status is the sentinel: once it arrives, every retained message has.
  const ok = statusPayload("real-host", AgentState.AGENT_STATE_ONLINE);
  expect(await publishOutcome(attacker, "gputel/v1/real-host/status", ok, true)).toBe("acknowledged");
  const subscriber = await client(url);
  const got: string[] = [];
  subscriber.on("message", (topic) => got.push(topic));
  await subscriber.subscribeAsync("#", { qos: 1 });
  await waitFor(() => got.includes("gputel/v1/real-host/status"), 10_000, "the retained status");
  expect(got).toEqual(["gputel/v1/real-host/status"]);
});

function inventory(host: string, name: string): Uint8Array {
  return encodeInventory({
    schema_version: SCHEMA_VERSION,
    host,
    timestamp_ms: Date.now(),
    driver_version: "590.48.01",
    gpus: [{ index: 0, uuid: "GPU-00000000-0000-0000-0000-000000000000", name }],
  });
}

it("retained messages are bounded in count and size: past a bound, stored and relayed but not kept", async () => {
  const env: TestCollector = await startTestCollector(undefined, {
    "broker.retained_max_messages": 2,
    "broker.retained_max_size": "200B",
  });
  cleanups.push(() => env.stop());
  const agent = await client(env.url);
  for (const host of ["h-1", "h-2", "h-3"]) {
    const status = statusPayload(host, AgentState.AGENT_STATE_ONLINE);
    expect(await publishOutcome(agent, `gputel/v1/${host}/status`, status, true)).toBe("acknowledged");
  }
  // Updating a topic already retained is always kept; a big inventory is stored, not retained.
  const again = statusPayload("h-1", AgentState.AGENT_STATE_ONLINE, "again");
  expect(await publishOutcome(agent, "gputel/v1/h-1/status", again, true)).toBe("acknowledged");
  const big = inventory("h-1", "N".repeat(250)); // over 200 B, under limits.max_string_length
  expect(await publishOutcome(agent, "gputel/v1/h-1/inventory", big, true)).toBe("acknowledged");
  expect(
    env.collector.store
      .hostRows()
      .map((h) => h.name)
      .sort(),
  ).toEqual(["h-1", "h-2", "h-3"]);

  const subscriber = await client(env.url);
  const got: string[] = [];
  subscriber.on("message", (topic) => got.push(topic));
  await subscriber.subscribeAsync("gputel/v1/+/status", { qos: 1 });
  await subscriber.subscribeAsync("gputel/v1/+/inventory", { qos: 1 });
  // The sentinel: a live publish, which arrives after everything retained was sent.
  expect(await publishOutcome(agent, "gputel/v1/h-2/status", statusPayload("h-2", 1), false)).toBe(
    "acknowledged",
  );
  await waitFor(() => got.length >= 3, 5_000, "retained then live");
  expect(got.sort()).toEqual(["gputel/v1/h-1/status", "gputel/v1/h-2/status", "gputel/v1/h-2/status"]);
});
