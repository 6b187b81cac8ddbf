// Issue 13 item 5: one message could stall the collector. A 200 KB FrameBatch of 100,000 empty
// frames was decoded and validated frame by frame; now it is refused from its wire tags alone
// (batch_too_large), and a host sending more frames per second than limits.max_frames_per_second
// is refused (rate_limited). Real collector, embedded broker, real mqtt.js client.
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrameBatch } from "../../shared/codec.js";
import { SCHEMA_VERSION } from "../../shared/proto.js";
import { topicFor } from "../../shared/topics.js";
import { waitFor } from "../helpers/net.js";
import {
  connectClient,
  type EmbeddedCollector,
  frameOf,
  rejected,
  startEmbeddedCollector,
} from "./attack-parts.js";
import { publishOutcome } from "./broker-harness.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function collectorWith(overrides: Record<string, unknown> = {}): Promise<EmbeddedCollector> {
  const c = await startEmbeddedCollector(overrides);
  cleanups.push(() => c.stop());
  return c;
}

/** schema_version 1, then `n` empty frames (field 2, length 0): two bytes a frame. */
function emptyFrames(n: number): Buffer {
  const bytes = Buffer.alloc(2 + 2 * n);
  bytes[0] = 0x08;
  bytes[1] = SCHEMA_VERSION;
  for (let i = 0; i < n; i++) bytes[2 + 2 * i] = 0x12;
  return bytes;
}

describe("frames per batch and per second", () => {
  it("refuses a 200 KB batch of 100,000 empty frames whole, before decoding it", async () => {
    const c = await collectorWith();
    const mqtt = await connectClient(c.url);
    cleanups.push(() => mqtt.endAsync(true));
    const payload = emptyFrames(100_000);
    expect(payload.byteLength).toBe(200_002);
    // Refused at the broker with quota exceeded (0x97): a limit the operator may raise.
    expect(await publishOutcome(mqtt, topicFor("node-a", "frame"), payload)).toEqual({ code: 0x97 });
    await waitFor(() => rejected(c.running, "batch_too_large") === 1, 5000, "batch_too_large counted");
    // One rejection for the message, not 100,000 for its frames.
    expect(c.running.pipeline.snapshot().rejects).toEqual({ batch_too_large: 1 });
    expect(c.running.store.frameCount()).toBe(0);
  }, 30_000);

  it("refuses frames past limits.max_frames_per_second for one host, not for another", async () => {
    const c = await collectorWith({
      "limits.max_frames_per_second": 100,
      "limits.max_frames_per_batch": 200,
    });
    const mqtt = await connectClient(c.url);
    cleanups.push(() => mqtt.endAsync(true));
    const batch = (host: string, first: number) =>
      Buffer.from(
        encodeFrameBatch(
          Array.from({ length: 150 }, (_, i) => frameOf(host, first + i, { [`GPU-rate-${host}`]: 40 })),
        ),
      );
    // One full batch may come at once (a replay); a second one within the same second may not.
    expect(await publishOutcome(mqtt, topicFor("node-a", "frame"), batch("node-a", 1))).toBe("acknowledged");
    expect(await publishOutcome(mqtt, topicFor("node-a", "frame"), batch("node-a", 151))).toEqual({
      code: 0x97,
    });
    expect(await publishOutcome(mqtt, topicFor("node-b", "frame"), batch("node-b", 1))).toBe("acknowledged");
    await waitFor(() => rejected(c.running, "rate_limited") === 1, 5000, "rate_limited counted");
    expect(c.running.store.frameCount()).toBe(300);
    expect(c.running.store.rejectCounts().map((r) => [r.host, r.reason, r.count])).toEqual([
      ["node-a", "rate_limited", 1],
    ]);
  }, 30_000);
});
