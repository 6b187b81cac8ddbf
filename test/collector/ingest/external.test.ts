// External-broker ingest against a real Mosquitto: PUBACK after commit through mqtt.js's
// handleMessage, pipelined acknowledgements, a persistent session that redelivers what was not
// committed, and MQTT 5 shared subscriptions.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { ExternalBroker } from "../../../collector/broker/external.js";
import { IngestPipeline, type IngestPipelineOptions } from "../../../collector/ingest/pipeline.js";
import type { IngestSink } from "../../../collector/ingest/sink.js";
import { Store } from "../../../collector/store/store.js";
import { silentLogger } from "../../../shared/logger.js";
import { type Mosquitto, mosquittoAvailable, startMosquitto } from "../../helpers/mosquitto.js";
import { waitFor } from "../../helpers/net.js";
import { AgentState, framePayload, frameTopic, statusPayload } from "./frames.js";
import { MemorySink } from "./memory-sink.js";

const available = mosquittoAvailable();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function mosquitto(): Promise<Mosquitto> {
  const broker = await startMosquitto({ extraConfig: ["max_queued_messages 100000"] });
  cleanups.push(() => broker.stop());
  return broker;
}

/** The real Store on a SQLite file in a temp dir. */
async function realStore(): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), "gputel-ingest-"));
  const store = Store.open(join(dir, "gputel.db"));
  cleanups.push(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

function storedSeqs(store: Store, host: string): string[] {
  const rows = store.db
    .prepare("SELECT ranges FROM frame_seen JOIN hosts ON hosts.id = frame_seen.host_id WHERE hosts.name = ?")
    .all(host) as { ranges: string }[];
  return rows.map((r) => r.ranges);
}

async function collector(
  url: string,
  sink: IngestSink,
  options: Partial<IngestPipelineOptions> & {
    clientId?: string;
    shareGroup?: string;
    receiveMaximum?: number;
  } = {},
) {
  const pipeline = new IngestPipeline({ sink, logger: silentLogger(), maxDelayMs: 5, ...options });
  pipeline.start();
  const external = new ExternalBroker({
    url,
    ingest: pipeline,
    logger: silentLogger(),
    clientId: options.clientId ?? "collector-1",
    shareGroup: options.shareGroup,
    receiveMaximum: options.receiveMaximum,
    reconnectMinMs: 100,
  });
  await external.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await external.stop();
    await pipeline.stop();
  };
  cleanups.push(stop);
  return { external, pipeline, stop };
}

async function agent(url: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 100 });
  cleanups.push(() => client.endAsync(true));
  return client;
}

function publishFrames(client: MqttClient, host: string, seqs: number[]): Promise<unknown[]> {
  return Promise.all(
    seqs.map((seq) =>
      client.publishAsync(frameTopic(host), Buffer.from(framePayload(host, seq)), { qos: 1 }),
    ),
  );
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.skipIf(!available)("external broker (Mosquitto)", () => {
  it("stores frames and the retained status published before the collector subscribed", async () => {
    const { url } = await mosquitto();
    const a = await agent(url);
    await a.publishAsync(
      "gputel/v1/node-a/status",
      Buffer.from(statusPayload("node-a", AgentState.AGENT_STATE_ONLINE)),
      { qos: 1, retain: true },
    );
    const store = await realStore();
    const { external } = await collector(url, store);
    await publishFrames(a, "node-a", range(1, 10));
    await waitFor(() => external.acked === 11, 5000, "acknowledged after commit");
    expect(storedSeqs(store, "node-a")).toEqual(["1-10"]);
    expect(store.frameCount()).toBe(10);
    expect(store.hostRows().map((h) => [h.name, h.status])).toEqual([["node-a", "online"]]);
  });

  it("keeps many messages in flight and commits them in batches (acks are not serialised per message)", async () => {
    const { url } = await mosquitto();
    const sink = new MemorySink();
    sink.delayMs = 20; // a slow commit: serialised acks would need 500 × 20 ms
    await collector(url, sink, { maxDelayMs: 10 });
    const a = await agent(url);
    const started = Date.now();
    await publishFrames(a, "node-a", range(1, 500));
    await waitFor(() => sink.frames.length === 500, 8000, "500 frames stored");
    expect(sink.commits).toBeLessThan(100);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it("backpressure: the broker keeps at most Receive Maximum unacknowledged messages in flight to us", async () => {
    const { url } = await mosquitto();
    const sink = new MemorySink();
    sink.failing = true;
    const { pipeline } = await collector(url, sink, {
      receiveMaximum: 10,
      retryBudgetMs: 60_000,
      retryInitialMs: 20,
      retryMaxMs: 50,
    });
    const a = await agent(url);
    await publishFrames(a, "node-a", range(1, 50)); // Mosquitto takes them all and queues
    await waitFor(() => pipeline.snapshot().messages === 10, 5000, "ten messages in flight");
    await waitFor(() => sink.calls >= 5, 5000, "retries");
    expect(pipeline.snapshot().messages).toBe(10);
    sink.failing = false;
    await waitFor(() => sink.frames.length === 50, 5000, "all 50 after recovery");
    expect(sink.frames.map((f) => f.seq)).toEqual(range(1, 50));
  });

  it("does not acknowledge what it could not commit: a new collector gets it redelivered from the session", async () => {
    const { url } = await mosquitto();
    const failing = new MemorySink();
    failing.failing = true;
    const first = await collector(url, failing, {
      retryBudgetMs: 60_000,
      retryInitialMs: 20,
      retryMaxMs: 50,
    });
    const a = await agent(url);
    await publishFrames(a, "node-a", range(1, 20)); // the broker acknowledges the agent
    await waitFor(() => failing.calls >= 2, 5000, "commit attempts");
    expect(first.external.acked).toBe(0);
    await first.stop();

    const store = await realStore();
    await collector(url, store);
    await waitFor(() => store.frameCount() === 20, 5000, "redelivered frames");
    expect(storedSeqs(store, "node-a")).toEqual(["1-20"]);
  });

  it("after a storage failure past the retry budget, reconnects and gets the messages again", async () => {
    const { url } = await mosquitto();
    const sink = new MemorySink();
    sink.failing = true;
    const { external } = await collector(url, sink, {
      retryBudgetMs: 100,
      retryInitialMs: 20,
      retryMaxMs: 50,
    });
    let reconnects = 0;
    const a = await agent(url);
    await publishFrames(a, "node-a", range(1, 5));
    await waitFor(() => sink.calls >= 3, 5000, "failed commits");
    // Recover once the collector has dropped its connection at least once.
    const client = (external as unknown as { client: MqttClient }).client;
    client.on("reconnect", () => {
      reconnects += 1;
      sink.failing = false;
    });
    await waitFor(() => sink.frames.length === 5, 10_000, "frames after recovery");
    expect(reconnects).toBeGreaterThanOrEqual(1);
    expect(sink.frames.map((f) => f.seq).sort((x, y) => x - y)).toEqual(range(1, 5));
  });

  it("splits hosts over collectors in one MQTT 5 shared subscription group", async () => {
    const { url } = await mosquitto();
    const one = new MemorySink();
    const two = new MemorySink();
    await collector(url, one, { clientId: "collector-1", shareGroup: "gputel" });
    await collector(url, two, { clientId: "collector-2", shareGroup: "gputel" });
    const a = await agent(url);
    await publishFrames(a, "node-a", range(1, 100));
    await waitFor(() => one.frames.length + two.frames.length === 100, 5000, "all frames");
    expect(one.frames.length).toBeGreaterThan(0);
    expect(two.frames.length).toBeGreaterThan(0);
  });
});
