// The publisher settings the agent's publisher tests share: one host on a test broker, QoS 1
// with 4 in flight, silent logs. Each test names only what it is about.
import type { FrameQueue } from "../../agent/publish/frame-queue.js";
import type { PublisherOptions } from "../../agent/publish/mqtt-publisher.js";
import { silentLogger } from "../../shared/logger.js";

export function publisherOptions(
  url: string,
  queue: FrameQueue,
  more: Partial<PublisherOptions> = {},
): PublisherOptions {
  return {
    broker: { url, protocol: "5", rejectUnauthorized: true, keepaliveSeconds: 30 },
    host: "h1",
    bootId: "b1",
    intervalMs: 1000,
    agentVersion: "test",
    queue,
    inflight: 4,
    logger: silentLogger(),
    ...more,
  };
}
