// Issue 13 item 4, first attack: user `attacker` publishes a retained OFFLINE status for `victim`.
// Ingest rejects it (username_mismatch); the embedded broker must refuse it too (MQTT 5: PUBACK
// 0x87; 3.1.1: the connection is closed), and neither relay it to a subscriber nor retain it.
// Real collector in process, real mqtt.js clients at both protocol versions.
import type { MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrameBatch } from "../../shared/codec.js";
import { FrameBatch, type IStatus, Status } from "../../shared/proto.js";
import {
  AgentState,
  framePayload,
  frameTopic,
  makeFrame,
  statusPayload,
} from "../collector/ingest/frames.js";
import { waitFor } from "../helpers/net.js";
import { connectAs, publishOutcome, startTestCollector, type TestCollector } from "./broker-harness.js";

const USERS = {
  victim: { password: "pw-victim" },
  attacker: { password: "pw-attacker" },
  watch: { password: "pw-watch", role: "reader" as const },
};
const STATUS = "gputel/v1/victim/status";

let env: TestCollector | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await env?.stop();
  env = undefined;
});

async function as(user: keyof typeof USERS, protocolVersion: 4 | 5): Promise<MqttClient> {
  const client = await connectAs((env as TestCollector).url, user, USERS[user].password, protocolVersion);
  clients.push(client);
  return client;
}

/** Statuses a reader sees on `filter` (retained ones first, on subscribe), and frames as a sentinel. */
async function watcher(filter: string) {
  const client = await as("watch", 5);
  const seen = { statuses: [] as IStatus[], frames: 0, seqs: [] as number[] };
  client.on("message", (topic, payload) => {
    if (topic.endsWith("/status")) seen.statuses.push(Status.decode(payload));
    else {
      seen.frames += 1;
      seen.seqs.push(...(FrameBatch.decode(payload).frames ?? []).map((f) => Number(f.seq)));
    }
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return seen;
}

describe.each([5, 4] as const)("MQTT %i: a publish that ingest rejects", (protocolVersion) => {
  it("is refused, neither relayed to a live subscriber nor retained for a later one", async () => {
    env = await startTestCollector(USERS);
    const victim = await as("victim", 5);
    const online = statusPayload("victim", AgentState.AGENT_STATE_ONLINE, "started");
    expect(await publishOutcome(victim, STATUS, online, true)).toBe("acknowledged");
    const live = await watcher("gputel/v1/#");
    await waitFor(() => live.statuses.length === 1, 5_000, "the retained ONLINE status");

    const attacker = await as("attacker", protocolVersion);
    const forged = statusPayload("victim", AgentState.AGENT_STATE_OFFLINE, "forged");
    const outcome = await publishOutcome(attacker, STATUS, forged, true);
    expect(outcome).toEqual(protocolVersion === 5 ? { code: 0x87 } : "closed");

    // The victim's next frame is the sentinel: once it reaches the subscriber, so would the forgery.
    expect(await publishOutcome(victim, frameTopic("victim"), framePayload("victim", 1))).toBe(
      "acknowledged",
    );
    await waitFor(() => live.frames === 1, 5_000, "the victim's frame relayed");
    expect(live.statuses.map((s) => s.reason)).toEqual(["started"]);

    const later = await watcher(STATUS);
    await waitFor(() => later.statuses.length > 0, 5_000, "the retained status");
    expect(later.statuses.map((s) => [s.state, s.reason])).toEqual([
      [AgentState.AGENT_STATE_ONLINE, "started"],
    ]);
    expect(env.collector.store.hostRows().map((h) => [h.name, h.status])).toEqual([["victim", "online"]]);
  });

  it("refuses garbage, oversized and other-host payloads with a fitting code, and stores none", async () => {
    env = await startTestCollector(USERS);
    const attacker = await as("attacker", protocolVersion);
    const own = frameTopic("attacker");
    const cases: [string, Uint8Array, number][] = [
      [own, new Uint8Array([0xde, 0xad, 0xbe, 0xef]), 0x99],
      [own, new Uint8Array(300 * 1024), 0x99],
      [own, framePayload("victim", 1), 0x87], // the payload names another host than the topic
    ];
    for (const [topic, payload, code] of cases) {
      const client = protocolVersion === 5 ? attacker : await as("attacker", 4);
      expect(await publishOutcome(client, topic, payload)).toEqual(
        protocolVersion === 5 ? { code } : "closed",
      );
    }
    expect(env.collector.store.frameCount()).toBe(0);
    // A storage failure is not a rejection: that still drops the connection so mqtt.js re-sends
    // (test/collector/ingest/embedded.test.ts), and a good frame is still taken.
    const ok = await as("attacker", protocolVersion);
    expect(await publishOutcome(ok, own, framePayload("attacker", 1))).toBe("acknowledged");
  });
});

it("a batch stored only in part is acknowledged but not relayed: subscribers never see the bad frames", async () => {
  env = await startTestCollector(USERS);
  const live = await watcher("gputel/v1/+/frame");
  const attacker = await as("attacker", 5);
  const good = makeFrame("attacker", 1);
  const bad = makeFrame("attacker", 2, { timestampMs: Date.now() + 86_400_000 });
  const mixed = encodeFrameBatch([good, bad]);
  expect(await publishOutcome(attacker, frameTopic("attacker"), mixed)).toBe("acknowledged");
  expect(await publishOutcome(attacker, frameTopic("attacker"), framePayload("attacker", 3))).toBe(
    "acknowledged",
  );
  await waitFor(() => live.seqs.includes(3), 5_000, "the sentinel frame relayed");
  expect(live.seqs).toEqual([3]);
  expect(env.collector.store.frameCount()).toBe(2);
});

it.each([
  ["another host's status", "gputel/v1/victim/status", "username_mismatch"],
  ["garbage", "gputel/v1/attacker/status", "decode_error"],
] as const)("a last will carrying %s is neither relayed nor retained", async (what, topic, reason) => {
  env = await startTestCollector(USERS);
  const running = env.collector;
  const live = await watcher("gputel/v1/+/status");
  const payload =
    what === "garbage"
      ? new Uint8Array([0xde, 0xad, 0xbe, 0xef])
      : statusPayload("victim", AgentState.AGENT_STATE_OFFLINE, "forged");
  const will = { topic, payload: Buffer.from(payload), qos: 1 as const, retain: true };
  const attacker = await connectAs(env.url, "attacker", USERS.attacker.password, 5, { will });
  attacker.stream.destroy(); // an abnormal drop: the broker hands the will to authorizePublish
  // Ingest has judged the will (and the broker decided on it in the same tick): then the sentinel.
  await waitFor(() => (running.pipeline.snapshot().rejects[reason] ?? 0) === 1, 5_000, "the will rejected");
  const victim = await as("victim", 5);
  const online = statusPayload("victim", AgentState.AGENT_STATE_ONLINE, "sentinel");
  expect(await publishOutcome(victim, STATUS, online, true)).toBe("acknowledged");
  await waitFor(() => live.statuses.some((s) => s.reason === "sentinel"), 5_000, "the sentinel status");
  const later = await watcher("gputel/v1/+/status");
  await waitFor(() => later.statuses.length > 0, 5_000, "the retained status");
  expect(live.statuses.map((s) => s.reason)).toEqual(["sentinel"]);
  expect(later.statuses.map((s) => [s.host, s.reason])).toEqual([["victim", "sentinel"]]);
});
