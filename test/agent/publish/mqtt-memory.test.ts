// The agent's MQTT client must not make mqtt-packet pre-build its cache of 65,536 two-byte
// Buffers (one per packet id): about 6.5 MB of a ~62 MB agent, for about one frame a second.
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { MqttPublisher } from "../../../agent/publish/mqtt-publisher.js";
import { startAedes } from "../../helpers/aedes.js";
import { memoryQueue } from "../../helpers/frame-queue.js";
import { waitFor } from "../../helpers/net.js";
import { publisherOptions } from "../../helpers/publisher.js";

// The copy of mqtt-packet that mqtt.js itself loads.
const fromMqtt = createRequire(createRequire(import.meta.url).resolve("mqtt"));
const numbers = fromMqtt("mqtt-packet/numbers.js") as { cache: Record<number, Buffer> };

/** One message to publish at QoS 1 (it carries a packet id). */
const queue = memoryQueue([{ ids: [1], payload: new Uint8Array([0]) }]);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe("MqttPublisher memory", () => {
  it("connects and publishes its status without building mqtt-packet's number cache", async () => {
    expect(Object.keys(numbers.cache)).toHaveLength(0);
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const publisher = new MqttPublisher(
      publisherOptions(broker.url, queue, { sourceStatus: () => [{ name: "nvidia-smi", restarts: 0 }] }),
    );
    publisher.start();
    cleanups.push(() => publisher.stop());
    await waitFor(() => queue.acked.length === 1, 5000, "the PUBACK of the queued message");
    expect(Object.keys(numbers.cache)).toHaveLength(0);
  });
});
