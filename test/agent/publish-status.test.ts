// The retained status carries the sources' health: in the status published on connect, again
// (reason "sources changed") when it changes, at most once per statusRefreshMs, and at stop.
import { afterEach, describe, expect, it } from "vitest";
import { MqttPublisher } from "../../agent/publish/mqtt-publisher.js";
import type { ISourceStatus } from "../../shared/proto.js";
import { startAedes } from "../helpers/aedes.js";
import { memoryQueue } from "../helpers/frame-queue.js";
import { waitFor } from "../helpers/net.js";
import { publisherOptions } from "../helpers/publisher.js";
import { subscribe } from "../helpers/subscriber.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** Frames go nowhere: only the status topic matters here. */
const queue = memoryQueue();

describe("MqttPublisher status and the sources' health", () => {
  it("publishes the health on connect, on change (rate-limited) and at stop", async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const { received, client } = await subscribe(broker.url, "gputel/v1/h1/status");
    cleanups.push(() => client.endAsync());
    let now = 1_000_000;
    const health: ISourceStatus = { name: "nvidia-smi", restarts: 0 };
    const publisher = new MqttPublisher(
      publisherOptions(broker.url, queue, {
        now: () => now,
        sourceStatus: () => [{ ...health }],
        statusRefreshMs: 10_000,
      }),
    );
    publisher.start();
    const restarts = () => received.statuses.map((s) => [s.reason, Number(s.sources?.[0]?.restarts ?? -1)]);
    await waitFor(() => received.statuses.length === 1, 5000, "the started status");
    publisher.publishFrame({ seq: 1 }); // unchanged: nothing
    health.restarts = 1;
    now += 1000;
    publisher.publishFrame({ seq: 2 });
    await waitFor(() => received.statuses.length === 2, 5000, "the first change");
    health.restarts = 2;
    now += 5000;
    publisher.publishFrame({ seq: 3 }); // within 10 s of the last change: held back
    health.restarts = 3;
    now += 5000;
    publisher.publishFrame({ seq: 4 });
    await waitFor(() => received.statuses.length === 3, 5000, "the second change");
    await publisher.stop();
    await waitFor(() => received.statuses.length === 4, 5000, "the stopped status");
    expect(restarts()).toEqual([
      ["started", 0],
      ["sources changed", 1],
      ["sources changed", 3],
      ["stopped", 3],
    ]);
  });
});
