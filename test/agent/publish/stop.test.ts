// A clean stop (SIGTERM) against a broker that stays connected but acknowledges nothing (paused,
// or a network that swallows packets): the publisher waits a bounded time, hands what is still
// in flight back to the spool (sent again after the restart) and returns, instead of waiting for
// PUBACKs that do not come (the agent then exited 13 with its spools never closed).
import { afterEach, describe, expect, it } from "vitest";
import type { QueuedMessage } from "../../../agent/publish/frame-queue.js";
import { MqttPublisher } from "../../../agent/publish/mqtt-publisher.js";
import { startAedes } from "../../helpers/aedes.js";
import { memoryQueue } from "../../helpers/frame-queue.js";
import { waitFor } from "../../helpers/net.js";
import { publisherOptions } from "../../helpers/publisher.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe("MqttPublisher stop", () => {
  it("returns within a few seconds when the broker withholds every PUBACK, the frames handed back", {
    timeout: 30_000,
  }, async () => {
    let withheld = 0;
    const broker = await startAedes({
      // Never answered: aedes then sends no PUBACK (and reads nothing more from that client).
      authorizePublish: (_client, packet, done) => {
        if (packet.topic.endsWith("/frame")) withheld += 1;
        else done(null);
      },
    });
    cleanups.push(() => broker.stop());
    const message: QueuedMessage = { ids: [7], payload: new Uint8Array([1, 2, 3]) };
    const nacked: number[] = [];
    const queue = { ...memoryQueue([message]), nack: (ids: readonly number[]) => void nacked.push(...ids) };
    const publisher = new MqttPublisher(publisherOptions(broker.url, queue));
    publisher.start();
    await waitFor(() => withheld === 1, 10_000, "the frame published and withheld");

    const started = Date.now();
    const stopped = await Promise.race([
      publisher.stop().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000)),
    ]);
    expect(stopped).toBe(true);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(nacked).toEqual([7]);
    expect(queue.acked).toEqual([]);
  });
});
