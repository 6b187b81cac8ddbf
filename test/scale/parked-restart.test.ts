// A share group's member restarted between a new host's Xid and its first frame (docs/scaling.md,
// "A GPU's flags raised from events"): a real Mosquitto, a real collector (startCollector) in a
// share group, stopped and started again on the same database. The agent's kernel log reaches it
// before any frame of the host, so it parks the Xid; the first frame after the restart must raise
// it, from the Xid's own time. Until 2026-12-08 the parked Xid went with the stopped process.
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { encodeFrameBatch } from "../../shared/codec.js";
import { silentLogger } from "../../shared/logger.js";
import { eventPayload, eventTopic, xidEvent } from "../collector/health/events.js";
import { frameTopic, makeFrame } from "../collector/ingest/frames.js";
import { type Mosquitto, mosquittoAvailable, startMosquitto } from "../helpers/mosquitto.js";
import { waitFor } from "../helpers/net.js";
import { collectorConfig, tempDir } from "./helpers.js";

const HOST = "host-new";
const UUID = "GPU-host-new-0";

describe.skipIf(!mosquittoAvailable())("a parked Xid across a collector's restart", () => {
  let broker: Mosquitto;
  let publisher: MqttClient;
  let dir: { dir: string; remove(): Promise<void> };
  let running: RunningCollector | undefined;

  const start = () =>
    startCollector(
      collectorConfig({
        database: join(dir.dir, "a.db"),
        "broker.mode": "external",
        "broker.url": broker.url,
        "broker.client_id": "gputel-a",
        "broker.share_group": "fleet",
      }),
      silentLogger(),
    );

  beforeAll(async () => {
    dir = await tempDir("gputel-parked-restart-");
    broker = await startMosquitto();
    publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    await publisher?.endAsync();
    await broker?.stop();
    await dir?.remove();
  });

  it("the host's first frame after the restart raises the Xid parked before it", async () => {
    running = await start();
    const xidMs = Date.now() - 1000;
    const xid = xidEvent(1, 79, { gpu_uuid: UUID, time_ms: xidMs, pid: null, process_name: "" });
    await publisher.publishAsync(eventTopic(HOST), Buffer.from(eventPayload(HOST, [xid])), { qos: 1 });
    const first = running;
    await waitFor(() => first.store.events().list({ limit: 10 }).length === 1, 15_000, "the Xid stored");
    // No member holds the host yet: parked, not flagged.
    expect(first.flags.openFlags({ kinds: ["xid", "reset-required"] })).toEqual([]);
    await first.stop();
    running = undefined;

    running = await start();
    const frame = makeFrame(HOST, 1, { gpus: 1, timestampMs: Date.now() });
    for (const g of frame.gpus ?? []) g.uuid = UUID;
    await publisher.publishAsync(frameTopic(HOST), Buffer.from(encodeFrameBatch([frame])), { qos: 1 });
    const again = running;
    await waitFor(() => again.store.frameCount() > 0, 15_000, "the host's first frame stored");
    const open = again.flags.openFlags({ kinds: ["xid", "reset-required"] });
    expect(open.map((f) => [f.kind, f.gpuUuid, f.startMs]).sort()).toEqual([
      ["reset-required", UUID, xidMs],
      ["xid", UUID, xidMs],
    ]);
  }, 60_000);
});
