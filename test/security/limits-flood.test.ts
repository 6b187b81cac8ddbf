// Issue 13 item 3: nothing bounded what one agent could create. Against the real collector (embedded
// broker, real mqtt.js clients, real SQLite file): an authenticated agent inventing GPUs and labels,
// anonymous clients inventing hosts, and garbage on thousands of invented host topics. Each is
// stopped at its limit, rejected with its reason and counted; the rejects table and the log stay
// bounded (one throttle per reason, not per host).
import type { MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrameBatch } from "../../shared/codec.js";
import { topicFor } from "../../shared/topics.js";
import { waitFor } from "../helpers/net.js";
import {
  batchOf,
  connectClient,
  type EmbeddedCollector,
  frameOf,
  rejected,
  startEmbeddedCollector,
} from "./attack-parts.js";
import { type PublishOutcome, publishOutcome } from "./broker-harness.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function collectorWith(overrides: Record<string, unknown>, users?: Record<string, string>) {
  const c = await startEmbeddedCollector(overrides, users);
  cleanups.push(() => c.stop());
  return c;
}

async function client(c: EmbeddedCollector, user?: string): Promise<MqttClient> {
  const mqtt = await connectClient(c.url, user ? { username: user, password: `pw-${user}` } : {});
  cleanups.push(() => mqtt.endAsync(true));
  return mqtt;
}

// The embedded broker refuses what ingest rejected (collector/broker/policy.ts).
const QUOTA_EXCEEDED = 0x97;
const PAYLOAD_FORMAT_INVALID = 0x99;

function tally(outcomes: PublishOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = typeof o === "string" ? o : String(o.code);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const uuid = (frame: number, gpu: number) =>
  `GPU-${frame.toString(16).padStart(8, "0")}-0000-4000-8000-${gpu.toString(16).padStart(12, "0")}`;

function gpusOf(c: EmbeddedCollector, host: string): number {
  return c.running.store.latest().filter((g) => g.host === host).length;
}

describe("limits: what one agent can create", () => {
  it("an authenticated agent cannot create more than max_gpus_per_host GPUs or oversized label sets", async () => {
    const c = await collectorWith({}, { flood: "pw-flood" });
    const agent = await client(c, "flood");
    // 10 frames, 64 new UUIDs each (the attack, scaled down): at most 64 GPUs (the default).
    for (let f = 1; f <= 10; f++) {
      const gpus = Object.fromEntries(Array.from({ length: 64 }, (_, g) => [uuid(f, g), 40]));
      // Frames 2..10 keep their frame (host readings) and lose their GPU entries: acknowledged.
      expect(await publishOutcome(agent, topicFor("flood", "frame"), batchOf("flood", f, gpus))).toBe(
        "acknowledged",
      );
    }
    expect(gpusOf(c, "flood")).toBe(64);
    await waitFor(() => rejected(c.running, "host_gpu_limit") === 9 * 64, 5000, "host_gpu_limit counted");

    // 40 label keys (default max 32), then a label value of 300 characters (default max 256).
    const labels = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${i}`, "v"]));
    const tooMany = { ...frameOf("flood", 11, { [uuid(1, 0)]: 40 }), labels };
    const tooLong = { ...frameOf("flood", 12, { [uuid(1, 0)]: 40 }), labels: { rack: "r".repeat(300) } };
    // Refused at the broker with quota exceeded (0x97): a limit the operator may raise.
    for (const frame of [tooMany, tooLong])
      expect(await publishOutcome(agent, topicFor("flood", "frame"), encodeFrameBatch([frame]))).toEqual({
        code: QUOTA_EXCEEDED,
      });
    await waitFor(() => rejected(c.running, "label_limit") === 2, 5000, "label_limit counted");
    expect(c.running.store.hostRows().find((h) => h.name === "flood")?.labels).toBe("{}");
    expect(c.running.store.frameCount()).toBe(10);
  }, 60_000);

  it("anonymous clients cannot create more than max_hosts hosts", async () => {
    const c = await collectorWith({ "limits.max_hosts": 20 });
    const anon = await client(c);
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, h) =>
        publishOutcome(
          anon,
          topicFor(`fake-${h}`, "frame"),
          batchOf(`fake-${h}`, 1, Object.fromEntries(Array.from({ length: 8 }, (_, g) => [uuid(h, g), 40]))),
        ),
      ),
    );
    expect(tally(outcomes)).toEqual({ acknowledged: 20, [QUOTA_EXCEEDED]: 80 });
    await waitFor(() => rejected(c.running, "host_limit") === 80, 5000, "host_limit counted");
    expect(c.running.store.hostRows()).toHaveLength(20);
    expect(c.running.store.latest()).toHaveLength(20 * 8);
  }, 60_000);

  it("an agent cannot create more than max_boots_per_host boot ids (sequence rows)", async () => {
    const c = await collectorWith({ "limits.max_boots_per_host": 5 });
    const anon = await client(c);
    for (let b = 0; b < 20; b++) {
      // Distinct timestamps: the same GPU at the same time would be a duplicate sample.
      const frame = {
        ...frameOf("node-a", 1, { [uuid(0, 0)]: 40 }, `boot-${b}`),
        timestamp_ms: Date.now() - 9000 + b,
      };
      expect(await publishOutcome(anon, topicFor("node-a", "frame"), encodeFrameBatch([frame]))).toEqual(
        b < 5 ? "acknowledged" : { code: QUOTA_EXCEEDED },
      );
    }
    expect(c.running.store.db.prepare("SELECT count(*) FROM frame_seen").pluck().get()).toBe(5);
    await waitFor(() => rejected(c.running, "boot_limit") === 15, 5000, "boot_limit counted");
    // Known boots go on being stored.
    const next = { ...frameOf("node-a", 2, { [uuid(0, 0)]: 40 }, "boot-0"), timestamp_ms: Date.now() - 5000 };
    expect(await publishOutcome(anon, topicFor("node-a", "frame"), encodeFrameBatch([next]))).toBe(
      "acknowledged",
    );
    expect(c.running.store.frameCount()).toBe(6);
  }, 60_000);

  it("hosts together cannot create more than max_gpus GPUs", async () => {
    const c = await collectorWith({ "limits.max_gpus": 50 });
    const anon = await client(c);
    for (let h = 0; h < 3; h++) {
      const gpus = Object.fromEntries(Array.from({ length: 20 }, (_, g) => [uuid(h, g), 40]));
      expect(await publishOutcome(anon, topicFor(`node-${h}`, "frame"), batchOf(`node-${h}`, 1, gpus))).toBe(
        "acknowledged",
      );
    }
    expect(c.running.store.latest()).toHaveLength(50);
    expect(gpusOf(c, "node-2")).toBe(10);
    await waitFor(() => rejected(c.running, "gpu_limit") === 10, 5000, "gpu_limit counted");
  }, 60_000);

  it("garbage on 2,000 invented host topics adds one rejects row and one log line per reason", async () => {
    const c = await collectorWith({});
    const anon = await client(c);
    const outcomes = await Promise.all(
      Array.from({ length: 2000 }, (_, h) =>
        publishOutcome(anon, topicFor(`garbage-${h}`, "frame"), Buffer.from([1, 2, 3, h % 256])),
      ),
    );
    // Content that will never be valid: payload format invalid (0x99), which the agent drops.
    expect(tally(outcomes)).toEqual({ [PAYLOAD_FORMAT_INVALID]: 2000 });
    await waitFor(() => rejected(c.running, "decode_error") === 2000, 10_000, "all 2,000 counted");
    expect(c.running.store.rejectCounts().map((r) => [r.host, r.reason, r.count])).toEqual([
      ["-", "decode_error", 2000],
    ]);
    expect(c.running.pipeline.snapshot().rejects).toMatchObject({ decode_error: 2000 });
    expect(c.lines("Message rejected")).toHaveLength(1);
  }, 60_000);
});
