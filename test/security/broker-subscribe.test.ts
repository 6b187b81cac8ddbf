// Issue 13 item 4, second attack: user `attacker` subscribed to `#` and read every host's frames,
// status and inventory. With a users_file only `reader` accounts may subscribe; an agent's
// SUBACK says 0x87 (MQTT 5) or 0x80 (3.1.1) and it receives nothing, retained messages included.
import type { MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { AgentState, framePayload, frameTopic, statusPayload } from "../collector/ingest/frames.js";
import { waitFor } from "../helpers/net.js";
import {
  connectAs,
  publishOutcome,
  startTestCollector,
  subscribeOutcome,
  type TestCollector,
} from "./broker-harness.js";

const USERS = {
  victim: { password: "pw-victim" },
  attacker: { password: "pw-attacker" },
  watch: { password: "pw-watch", role: "reader" as const },
};
const FILTERS = ["#", "gputel/v1/+/frame", "gputel/v1/victim/#", "gputel/v1/attacker/#", "$SYS/#"];

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

describe.each([5, 4] as const)("MQTT %i", (protocolVersion) => {
  it("an agent's subscriptions are refused and it receives nothing; a reader's are granted", async () => {
    env = await startTestCollector(USERS);
    const victim = await as("victim", 5);
    const retained = statusPayload("victim", AgentState.AGENT_STATE_ONLINE);
    expect(await publishOutcome(victim, "gputel/v1/victim/status", retained, true)).toBe("acknowledged");

    const attacker = await as("attacker", protocolVersion);
    const got: string[] = [];
    attacker.on("message", (topic) => got.push(topic));
    const refused = protocolVersion === 5 ? 0x87 : 0x80;
    for (const filter of FILTERS) expect(await subscribeOutcome(attacker, filter)).toBe(refused);

    const reader = await as("watch", protocolVersion);
    const read: string[] = [];
    reader.on("message", (topic) => read.push(topic));
    expect(await subscribeOutcome(reader, "gputel/v1/#")).toBe(1);
    await waitFor(() => read.length === 1, 5_000, "the retained status at the reader");

    expect(await publishOutcome(victim, frameTopic("victim"), framePayload("victim", 1))).toBe(
      "acknowledged",
    );
    await waitFor(() => read.length === 2, 5_000, "the victim's frame at the reader");
    expect(read).toEqual(["gputel/v1/victim/status", "gputel/v1/victim/frame"]);
    expect(got).toEqual([]);
    expect(attacker.connected).toBe(true);
    // A reader reads and writes nothing, not even a host of its own name.
    expect(await publishOutcome(reader, frameTopic("watch"), framePayload("watch", 1))).toEqual(
      protocolVersion === 5 ? { code: 0x87 } : "closed",
    );
  });
});

it("without a users_file (anonymous, loopback) every local client may subscribe, as before", async () => {
  env = await startTestCollector(undefined);
  const client = await connectAs(env.url, undefined, undefined, 5);
  clients.push(client);
  expect(await subscribeOutcome(client, "gputel/v1/#")).toBe(1);
});
