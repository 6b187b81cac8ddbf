// The external-broker path: the shipped Mosquitto config (deploy/mosquitto/), started for real.
// An authenticated agent must read nothing (no `#`, no other host's topics, no retained status)
// and write only its own topics (frame, status, inventory, event, processes): a retained message
// on any deeper topic under its own prefix (gputel/v1/<me>/junk/N) would otherwise be kept by
// Mosquitto without bound, and another host's processes topic would let it name who holds that
// host's GPUs.
// Skipped with a message where mosquitto is missing, unless GPUTEL_REQUIRE_MOSQUITTO=1.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetBroker, makePki, startFleetBroker, USERS } from "../deploy/fleet-broker.js";
import { mosquittoAvailable } from "../helpers/mosquitto.js";
import { waitFor } from "../helpers/net.js";
import { publishOutcome, subscribeOutcome } from "./broker-harness.js";

const available = mosquittoAvailable();
const clients: MqttClient[] = [];

describe.skipIf(!available)("shipped Mosquitto ACL against an authenticated agent", () => {
  let pki = "";
  let broker: FleetBroker;
  const as = async (user: keyof typeof USERS, protocolVersion: 4 | 5 = 5) => {
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.tlsPort}`, {
      protocolVersion,
      reconnectPeriod: 0,
      clientId: `${user}-${protocolVersion}-${clients.length}`,
      username: user,
      password: USERS[user],
      ca: readFileSync(join(pki, "ca.pem")),
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    pki = makePki();
    broker = await startFleetBroker(pki);
  }, 30_000);

  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await broker?.stop();
    if (pki) rmSync(pki, { recursive: true, force: true });
  });

  it.each([5, 4] as const)(
    "MQTT %i: subscribing to # or another host's topics reads nothing",
    async (version) => {
      const victim = await as("node-2");
      const status = "gputel/v1/node-2/status";
      expect(await publishOutcome(victim, status, Buffer.from("online"), true)).toBe("acknowledged");

      const attacker = await as("node-1", version);
      const got: string[] = [];
      attacker.on("message", (topic) => got.push(topic));
      for (const filter of ["#", "gputel/v1/+/frame", "gputel/v1/node-2/#", status]) {
        await subscribeOutcome(attacker, filter); // Mosquitto may grant it; what matters is what arrives
      }
      const collector = await as("gputel-collector");
      const seen: string[] = [];
      collector.on("message", (topic) => seen.push(topic));
      await collector.subscribeAsync("gputel/v1/+/frame", { qos: 1 });
      expect(await publishOutcome(victim, "gputel/v1/node-2/frame", Buffer.from("f"))).toBe("acknowledged");
      // Sentinel: the collector has the frame, and the attacker's own echo path had as long.
      await waitFor(() => seen.length === 1, 5_000, "the frame at the collector");
      const probe = await as("node-1", version);
      await subscribeOutcome(probe, "gputel/v1/node-1/#");
      expect(got).toEqual([]);
    },
  );

  it("an agent cannot write below its own three topics (retained junk is refused: 0x87)", async () => {
    const agent = await as("node-1");
    for (const topic of ["gputel/v1/node-1/junk/1", "gputel/v1/node-1/frame/x", "gputel/v1/node-1"]) {
      expect(await publishOutcome(agent, topic, Buffer.alloc(1000), true)).toEqual({ code: 0x87 });
    }
    for (const kind of ["frame", "status", "inventory"]) {
      expect(
        await publishOutcome(agent, `gputel/v1/node-1/${kind}`, Buffer.from("x"), kind !== "frame"),
      ).toBe("acknowledged");
    }
  });

  it.each([5, 4] as const)(
    "MQTT %i: an agent writes its own processes topic, and another host's never reaches the collector",
    async (version) => {
      const collector = await as("gputel-collector");
      const got: [string, string][] = [];
      collector.on("message", (topic, payload) => got.push([topic, payload.toString()]));
      await collector.subscribeAsync("gputel/v1/+/processes", { qos: 1 });
      const agent = await as("node-1", version);
      const own = `processes of node-1 over MQTT ${version}`;
      expect(await publishOutcome(agent, "gputel/v1/node-1/processes", Buffer.from(own))).toBe(
        "acknowledged",
      );
      // Refused: MQTT 5 answers 0x87 (Not authorized); 3.1.1 has no such code and Mosquitto
      // acknowledges without delivering. Either way nothing reaches a subscriber.
      const spoof = await publishOutcome(agent, "gputel/v1/node-2/processes", Buffer.from("spoofed"));
      expect(spoof).toEqual(version === 5 ? { code: 0x87 } : "acknowledged");
      expect(
        await publishOutcome(agent, "gputel/v1/node-1/processes/x", Buffer.from("deeper"), true),
      ).toEqual(version === 5 ? { code: 0x87 } : "acknowledged");
      // Sentinel: node-2's own set arrives after the refused ones were handled.
      const victim = await as("node-2");
      expect(await publishOutcome(victim, "gputel/v1/node-2/processes", Buffer.from("node-2's own"))).toBe(
        "acknowledged",
      );
      await waitFor(() => got.length >= 2, 5_000, "both hosts' own process sets at the collector");
      expect(got).toEqual([
        ["gputel/v1/node-1/processes", own],
        ["gputel/v1/node-2/processes", "node-2's own"],
      ]);
    },
  );

  it("an agent writes its own event topic (health events, QoS 1) and no other host's", async () => {
    const agent = await as("node-1");
    expect(await publishOutcome(agent, "gputel/v1/node-1/event", Buffer.from("e"))).toBe("acknowledged");
    expect(await publishOutcome(agent, "gputel/v1/node-2/event", Buffer.from("e"))).toEqual({ code: 0x87 });
  });
});
