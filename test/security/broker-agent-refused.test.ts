// The agent's side of a refusal (issue 13 item 4): now that the collector refuses a frame it
// will never take (MQTT 5 PUBACK 0x99), the agent must drop it from its spool, not re-send it
// forever while every frame behind it waits. The real publisher and spool, the real collector.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { MqttPublisher } from "../../agent/publish/mqtt-publisher.js";
import { SpoolQueue } from "../../agent/publish/spool-queue.js";
import { Spool } from "../../agent/spool/spool.js";
import { silentLogger } from "../../shared/logger.js";
import { makeFrame } from "../collector/ingest/frames.js";
import { waitFor } from "../helpers/net.js";
import { startTestCollector, type TestCollector } from "./broker-harness.js";

const cleanups: (() => Promise<void> | undefined)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it("a frame refused as invalid is dropped from the spool and the frames behind it are stored", async () => {
  const env: TestCollector = await startTestCollector({ "node-a": { password: "pw-a" } });
  cleanups.push(() => env.stop());
  const dir = mkdtempSync(join(tmpdir(), "gputel-sec-agent-"));
  const spool = Spool.open({ path: join(dir, "spool.db"), logger: silentLogger() });
  const queue = new SpoolQueue(spool);
  const publisher = new MqttPublisher({
    broker: {
      url: env.url,
      protocol: "5",
      username: "node-a",
      password: "pw-a",
      rejectUnauthorized: true,
      keepaliveSeconds: 30,
    },
    host: "node-a",
    bootId: "boot-1",
    intervalMs: 1000,
    agentVersion: "test",
    queue,
    inflight: 1, // one at a time: a frame that is re-sent forever blocks the next one
    logger: silentLogger(),
  });
  cleanups.push(async () => {
    await publisher.stop();
    queue.close();
    rmSync(dir, { recursive: true, force: true });
  });
  publisher.start();
  await waitFor(() => publisher.isConnected, 10_000, "the agent connected");
  publisher.publishFrame(makeFrame("node-a", 1, { timestampMs: Date.now() + 86_400_000 })); // a day ahead
  publisher.publishFrame(makeFrame("node-a", 2));
  await waitFor(() => env.collector.store.frameCount() === 1, 10_000, "the good frame stored");
  await waitFor(() => queue.pending() === 0, 5_000, "the spool empty");
  expect(publisher.refusedTotal).toBe(1);
});
