// What we rely on from aedes 2.0.0-beta.1, proven against a real broker on a loopback port with
// real mqtt.js clients: MQTT 5 and 3.1.1 connects, PUBACK only after commit, retained status and
// last will ingested, `$share/…` refused, a storage failure that makes the client re-send, and a
// rejected publish refused with a PUBACK reason code (test/security/ has the attacks).
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { EmbeddedBroker } from "../../../collector/broker/embedded.js";
import { hashPassword } from "../../../collector/broker/password-hash.js";
import { parseUsers, type Users } from "../../../collector/broker/users-file.js";
import { IngestPipeline, type IngestPipelineOptions } from "../../../collector/ingest/pipeline.js";
import type { IngestSink } from "../../../collector/ingest/sink.js";
import { Store } from "../../../collector/store/store.js";
import { encodeInventory } from "../../../shared/codec.js";
import { silentLogger } from "../../../shared/logger.js";
import { MAX_PAYLOAD_BYTES, SCHEMA_VERSION } from "../../../shared/proto.js";
import { waitFor } from "../../helpers/net.js";
import { AgentState, framePayload, frameTopic, gpuSample, statusPayload } from "./frames.js";
import { MemorySink } from "./memory-sink.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startBroker(options: Partial<IngestPipelineOptions> = {}, users?: Record<string, string>) {
  const sink = new MemorySink();
  return { sink, ...(await startBrokerWith(sink, options, users)) };
}

async function startBrokerWith(
  sink: IngestSink,
  options: Partial<IngestPipelineOptions> = {},
  users?: Record<string, string>,
) {
  const pipeline = new IngestPipeline({ sink, logger: silentLogger(), maxDelayMs: 2, ...options });
  pipeline.start();
  const broker = new EmbeddedBroker({
    ingest: pipeline,
    logger: silentLogger(),
    port: 0,
    ...(users ? { users: await hashedUsers(users) } : {}),
  });
  await broker.start();
  cleanups.push(async () => {
    await broker.stop();
    await pipeline.stop();
  });
  return { pipeline, url: `mqtt://127.0.0.1:${broker.address().port}` };
}

/** The users_file's accounts for plain test passwords (agents, scrypt-hashed as in a real file). */
async function hashedUsers(users: Record<string, string>): Promise<Users> {
  const text = await Promise.all(
    Object.entries(users).map(async ([u, p]) => `${u}:${await hashPassword(p)}`),
  );
  return parseUsers(text.join("\n"), "users").users;
}

async function connect(url: string, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 50, ...options });
  cleanups.push(() => client.endAsync(true));
  return client;
}

describe("embedded broker (aedes 2.0.0-beta.1)", () => {
  it("frames in, rows out: the real Store on a SQLite file, duplicates and bad input included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gputel-ingest-"));
    const store = Store.open(join(dir, "gputel.db"));
    cleanups.push(async () => {
      store.close();
      await rm(dir, { recursive: true, force: true });
    });
    const { url } = await startBrokerWith(store);
    const client = await connect(url);
    await client.publishAsync(
      "gputel/v1/node-a/status",
      Buffer.from(statusPayload("node-a", AgentState.AGENT_STATE_ONLINE)),
      { qos: 1, retain: true },
    );
    const inventory = encodeInventory({
      schema_version: SCHEMA_VERSION,
      host: "node-a",
      timestamp_ms: Date.now(),
      driver_version: "590.48.01",
      gpus: [{ index: 0, uuid: gpuSample(0).uuid, name: "NVIDIA H100 80GB HBM3" }],
    });
    await client.publishAsync("gputel/v1/node-a/inventory", Buffer.from(inventory), { qos: 1, retain: true });
    for (const seq of [1, 2, 3, 2, 4])
      await client.publishAsync(frameTopic("node-a"), Buffer.from(framePayload("node-a", seq)), { qos: 1 });
    await expect(
      client.publishAsync(frameTopic("node-a"), Buffer.from([1, 2, 3]), { qos: 1 }),
    ).rejects.toMatchObject({ code: 0x99 });
    expect(store.frameCount()).toBe(4);
    const latest = store.latest().find((g) => g.host === "node-a" && g.index === 0);
    expect(latest).toMatchObject({
      state: "ok",
      values: { utilization_gpu_pct: 87, power_draw_watts: 512.5 },
    });
    expect(store.hostRows().map((h) => [h.name, h.status])).toEqual([["node-a", "online"]]);
    // Reject counts are written with the next batch (a few ms later), not one transaction each.
    await waitFor(() => store.rejectCounts().length > 0, 5000, "reject counted");
    expect(store.rejectCounts().map((r) => [r.host, r.reason, r.count])).toEqual([
      ["node-a", "decode_error", 1],
    ]);
  });

  it.each([5, 4] as const)(
    "accepts MQTT protocol %i and stores exactly the frames published",
    async (protocolVersion) => {
      const { sink, url } = await startBroker();
      const client = await connect(url, { protocolVersion });
      for (let seq = 1; seq <= 20; seq++)
        await client.publishAsync(frameTopic("node-a"), Buffer.from(framePayload("node-a", seq)), { qos: 1 });
      expect(sink.frames.map((f) => f.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(sink.frames[0]?.gpus).toHaveLength(8);
    },
  );

  it("sends the PUBACK only after the commit (a slow sink delays it)", async () => {
    const { sink, url } = await startBroker();
    sink.delayMs = 150;
    const client = await connect(url);
    const started = Date.now();
    await client.publishAsync(frameTopic("node-a"), Buffer.from(framePayload("node-a", 1)), { qos: 1 });
    // At PUBACK time the frame is already committed, and the commit's delay is in the ack's latency.
    expect(sink.has("node-a", 1)).toBe(true);
    expect(sink.commits).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it("ingests the retained status and the last will, and keeps the retained message for subscribers", async () => {
    const { sink, url } = await startBroker();
    const will = {
      topic: "gputel/v1/node-a/status",
      payload: Buffer.from(statusPayload("node-a", AgentState.AGENT_STATE_OFFLINE, "connection lost")),
      qos: 1 as const,
      retain: true,
    };
    const agent = await connect(url, { will, reconnectPeriod: 0 });
    await agent.publishAsync(
      "gputel/v1/node-a/status",
      Buffer.from(statusPayload("node-a", AgentState.AGENT_STATE_ONLINE)),
      { qos: 1, retain: true },
    );
    expect(sink.statuses.map((s) => s.state)).toEqual([AgentState.AGENT_STATE_ONLINE]);

    const watcher = await connect(url);
    const seen: Buffer[] = [];
    watcher.on("message", (_topic, payload) => seen.push(payload));
    await watcher.subscribeAsync("gputel/v1/+/status", { qos: 1 });
    await waitFor(() => seen.length === 1, 5000, "retained status");

    agent.stream.destroy(); // an abnormal drop: the broker publishes the will
    await waitFor(() => sink.statuses.length === 2, 5000, "last will ingested");
    expect(sink.statuses[1]).toMatchObject({
      state: AgentState.AGENT_STATE_OFFLINE,
      reason: "connection lost",
    });
    await waitFor(() => seen.length === 2, 5000, "will delivered to subscribers");
  });

  it("refuses MQTT 5 shared subscriptions ($share/…): those belong to the external-broker mode", async () => {
    const { url } = await startBroker();
    const client = await connect(url);
    await expect(client.subscribeAsync("$share/collectors/gputel/v1/+/frame", { qos: 1 })).rejects.toThrow(
      /Shared Subscriptions not supported/,
    );
  });

  it.each([5, 4] as const)(
    "does not acknowledge when storage fails: the mqtt.js client (protocol %i) re-sends after the disconnect",
    async (protocolVersion) => {
      const { sink, url } = await startBroker({ retryInitialMs: 20, retryMaxMs: 50, retryBudgetMs: 100 });
      sink.failing = true;
      const client = await connect(url, { protocolVersion, clean: true });
      let closes = 0;
      client.on("close", () => {
        closes += 1;
        sink.failing = false; // the disk is freed while the agent is away
      });
      await client.publishAsync(frameTopic("node-a"), Buffer.from(framePayload("node-a", 1)), { qos: 1 });
      expect(closes).toBeGreaterThanOrEqual(1);
      expect(sink.calls).toBeGreaterThanOrEqual(2);
      expect(sink.frames.map((f) => f.seq)).toEqual([1]);
    },
  );

  it("refuses bad input with a PUBACK reason code, counts it, and keeps serving the same connection", async () => {
    const { sink, url } = await startBroker();
    const client = await connect(url);
    const topic = frameTopic("node-a");
    const refused = (t: string, payload: Buffer) =>
      client.publishAsync(t, payload, { qos: 1 }).then(
        () => "acknowledged",
        (error: { code?: number }) => error.code,
      );
    expect(await refused(topic, Buffer.from([0xde, 0xad, 0xbe, 0xef]))).toBe(0x99);
    expect(await refused(topic, Buffer.from(framePayload("node-a", 1)).subarray(0, 50))).toBe(0x99);
    expect(await refused(topic, Buffer.alloc(MAX_PAYLOAD_BYTES + 10))).toBe(0x99);
    expect(await refused(frameTopic("node-b"), Buffer.from(framePayload("node-a", 1)))).toBe(0x87);
    expect(
      await refused(topic, Buffer.from(framePayload("node-a", 1, { timestampMs: Date.now() + 3600_000 }))),
    ).toBe(0x99);
    expect(await refused(topic, Buffer.from(framePayload("node-a", 2)))).toBe("acknowledged");
    expect(client.connected).toBe(true);
    expect(sink.frames.map((f) => f.seq)).toEqual([2]);
    expect(Object.fromEntries(sink.rejects)).toEqual({
      "node-a:decode_error": 2,
      "node-a:payload_too_large": 1,
      "node-b:host_mismatch": 1,
      "node-a:timestamp_future": 1,
    });
  });

  it("stops while agents are connected, disconnecting them", async () => {
    const sink = new MemorySink();
    const pipeline = new IngestPipeline({ sink, logger: silentLogger() });
    pipeline.start();
    const broker = new EmbeddedBroker({ ingest: pipeline, logger: silentLogger(), port: 0 });
    await broker.start();
    const client = await connect(`mqtt://127.0.0.1:${broker.address().port}`, { reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    await broker.stop();
    await pipeline.stop();
    await closed;
  });

  it("stops at once while a connection has sent no CONNECT (not after aedes' 30 s connect timeout)", async () => {
    const pipeline = new IngestPipeline({ sink: new MemorySink(), logger: silentLogger() });
    pipeline.start();
    const broker = new EmbeddedBroker({ ingest: pipeline, logger: silentLogger(), port: 0 });
    await broker.start();
    // A port scanner, a load balancer's TCP check, or an agent whose CONNECT never arrived.
    const silent = createConnection({ host: "127.0.0.1", port: broker.address().port });
    cleanups.push(async () => void silent.destroy());
    await new Promise<void>((resolve) => silent.once("connect", () => resolve()));
    const closed = new Promise<void>((resolve) => silent.once("close", () => resolve()));
    const started = Date.now();
    await broker.stop();
    await pipeline.stop();
    await closed;
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("with authentication, refuses bad passwords, and refuses (0x87) and counts a host writing as another", async () => {
    const { sink, url } = await startBroker({}, { "node-a": "secret-a", "node-b": "secret-b" });
    await expect(
      connect(url, { username: "node-a", password: "wrong", reconnectPeriod: 0 }),
    ).rejects.toThrow();
    const client = await connect(url, { username: "node-a", password: "secret-a" });
    await expect(
      client.publishAsync(frameTopic("node-b"), Buffer.from(framePayload("node-b", 1)), { qos: 1 }),
    ).rejects.toMatchObject({ code: 0x87 });
    await client.publishAsync(frameTopic("node-a"), Buffer.from(framePayload("node-a", 1)), { qos: 1 });
    expect(sink.frames.map((f) => f.host)).toEqual(["node-a"]);
    expect(sink.rejects.get("node-b:username_mismatch")).toBe(1);
  });
});
