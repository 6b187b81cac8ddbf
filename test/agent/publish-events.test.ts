// The publisher's event lane: kernel-log events go out on gputel/v1/<host>/event from their own
// spool, and a broker that refuses that topic (a collector without event ingest, an ACL without
// the line) holds back only the events, never the frames: each lane backs off on its own.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Aedes } from "aedes";
import { afterEach, expect, it } from "vitest";
import { EventSpoolQueue } from "../../agent/publish/event-queue.js";
import { MqttPublisher } from "../../agent/publish/mqtt-publisher.js";
import { SpoolQueue } from "../../agent/publish/spool-queue.js";
import { Spool } from "../../agent/spool/spool.js";
import { silentLogger } from "../../shared/logger.js";
import { EventKind, type IHealthEvent } from "../../shared/proto.js";
import { makeFrame } from "../collector/ingest/frames.js";
import { freePort, waitFor } from "../helpers/net.js";
import { subscribe } from "../helpers/subscriber.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function broker(refuseEvents: boolean): Promise<string> {
  const aedes = new Aedes({
    authorizePublish: (_client, packet, done) =>
      done(refuseEvents && packet.topic.endsWith("/event") ? new Error("no event ingest") : null),
  });
  await aedes.listen();
  const server = createServer(aedes.handle);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  });
  return `mqtt://127.0.0.1:${port}`;
}

function publisherOn(url: string) {
  const dir = mkdtempSync(join(tmpdir(), "gputel-events-pub-"));
  const frames = new SpoolQueue(Spool.open({ path: join(dir, "spool.db"), logger: silentLogger() }));
  const events = new EventSpoolQueue(Spool.open({ path: join(dir, "events.db"), logger: silentLogger() }), {
    host: "node-e",
    bootId: "boot-1",
  });
  const publisher = new MqttPublisher({
    broker: { url, protocol: "5", rejectUnauthorized: true, keepaliveSeconds: 30 },
    host: "node-e",
    bootId: "boot-1",
    intervalMs: 100,
    agentVersion: "test",
    queue: frames,
    events,
    inflight: 4,
    logger: silentLogger(),
  });
  cleanups.push(async () => {
    await publisher.stop();
    frames.close();
    events.close();
    rmSync(dir, { recursive: true, force: true });
  });
  publisher.start();
  return { publisher, events };
}

const EVENT: IHealthEvent = {
  kind: EventKind.EVENT_KIND_XID,
  code: 79,
  pci_bus_id: "0000:18:00",
  gpu_uuid: "GPU-1",
  gpu_index: 0,
  message: "GPU has fallen off the bus.",
  time_ms: 1_780_000_000_000,
  kernel_boot_id: "8c1f0a52-0d4e-4b7f-9a55-3f1e2d3c4b5a",
  kernel_seq: 1001,
  source: "journal",
};

it("events go out as an EventBatch on the event topic and leave the spool at their PUBACK", async () => {
  const url = await broker(false);
  const { received, client } = await subscribe(url, "gputel/v1/node-e/#");
  cleanups.push(() => client.endAsync());
  const { publisher, events } = publisherOn(url);
  await waitFor(() => publisher.isConnected, 10_000, "connected");
  expect(publisher.publishEvents([EVENT])).toBe(true);
  await waitFor(() => received.events.length === 1, 10_000, "the event");
  expect(received.eventBatches[0]).toMatchObject({ host: "node-e", boot_id: "boot-1", schema_version: 1 });
  expect(received.events[0]).toMatchObject({ code: 79, kernel_seq: 1001, gpu_uuid: "GPU-1" });
  await waitFor(() => events.pending() === 0, 5_000, "the event spool empty");
});

it("a refused event topic holds back the events only: frames keep flowing, events stay spooled", async () => {
  const url = await broker(true);
  const { received, client } = await subscribe(url, "gputel/v1/node-e/#");
  cleanups.push(() => client.endAsync());
  const { publisher, events } = publisherOn(url);
  await waitFor(() => publisher.isConnected, 10_000, "connected");
  publisher.publishEvents([EVENT]);
  // Let the refusal land (its lane now backs off for a second and more).
  await waitFor(() => events.pending() === 1 && received.events.length === 0, 5_000, "the refusal");
  const lags: number[] = [];
  for (let seq = 1; seq <= 5; seq++) {
    const sentAt = Date.now();
    publisher.publishFrame(makeFrame("node-e", seq));
    await waitFor(() => received.frames.length >= seq, 5_000, `frame ${seq}`);
    lags.push(Date.now() - sentAt);
  }
  // Behind a shared pause each frame would wait out the event lane's backoff (1 s, 2 s, …).
  expect(Math.max(...lags)).toBeLessThan(900);
  expect(received.events).toEqual([]);
  expect(events.pending()).toBe(1);
});
