// The shipped Mosquitto fleet config against real clients: TLS, mTLS, passwords, per-agent ACL.
// Required where GPUTEL_REQUIRE_MOSQUITTO=1; skipped with a message where mosquitto is absent.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { connect, type IClientOptions, type IConnackPacket, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mosquittoAvailable } from "../helpers/mosquitto.js";
import { waitFor } from "../helpers/net.js";
import { type FleetBroker, makePki, startFleetBroker, USERS } from "./fleet-broker.js";

const available = mosquittoAvailable();
const clients: MqttClient[] = [];

function pem(pki: string, name: string): Buffer {
  return readFileSync(join(pki, name));
}

/** Connects once (no reconnect); rejects with the broker's or TLS's refusal. */
function connectOnce(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...options,
    });
    clients.push(client);
    client.once("connect", () => resolve(client));
    client.once("error", (error) => {
      client.end(true);
      reject(error);
    });
    client.once("close", () => reject(new Error("closed before CONNACK")));
  });
}

function publish(
  client: MqttClient,
  topic: string,
  payload: string,
): Promise<{ ok: true } | { ok: false; code: unknown }> {
  return new Promise((resolve) => {
    client.publish(topic, payload, { qos: 1 }, (error) => {
      resolve(error ? { ok: false, code: (error as Error & { code?: unknown }).code } : { ok: true });
    });
  });
}

describe.skipIf(!available)("shipped Mosquitto fleet configuration", () => {
  let pki = "";
  let tls: FleetBroker;
  let mtls: FleetBroker;
  const tlsUrl = () => `mqtts://127.0.0.1:${tls.tlsPort}`;
  const as = (user: keyof typeof USERS, extra: IClientOptions = {}): IClientOptions => ({
    username: user,
    password: USERS[user],
    ca: pem(pki, "ca.pem"),
    ...extra,
  });

  beforeAll(async () => {
    pki = makePki();
    tls = await startFleetBroker(pki);
    mtls = await startFleetBroker(pki, { mtls: true });
  }, 30_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await tls?.stop();
    await mtls?.stop();
    if (pki) rmSync(pki, { recursive: true, force: true });
  });

  it("accepts an agent over TLS with its password, and announces max_packet_size", async () => {
    const connack = await new Promise<IConnackPacket>((resolve, reject) => {
      const client = connect(tlsUrl(), { protocolVersion: 5, reconnectPeriod: 0, ...as("node-1") });
      clients.push(client);
      client.once("connect", resolve);
      client.once("error", reject);
    });
    expect(connack.reasonCode).toBe(0);
    // 256 KiB payload + 32 KiB headroom, told to MQTT 5 clients in CONNACK.
    expect(connack.properties?.maximumPacketSize).toBe(294_912);
    const agent = await connectOnce(tlsUrl(), as("node-1"));
    expect(await publish(agent, "gputel/v1/node-1/frame", "x".repeat(256 * 1024))).toEqual({ ok: true });
    // Too big: refused, either by the client (it knows the limit from CONNACK) or by the broker,
    // which then disconnects; either way it is not delivered.
    const refused = await new Promise<string>((resolve) => {
      agent.once("error", (e) => resolve(`error: ${e.message}`));
      agent.once("close", () => resolve("closed"));
      agent.publish("gputel/v1/node-1/frame", "x".repeat(300 * 1024), { qos: 1 }, (e) =>
        resolve(e ? `error: ${e.message}` : "delivered"),
      );
    });
    expect(refused).not.toBe("delivered");
  });

  it("refuses a wrong password, an unknown user and anonymous clients", async () => {
    for (const options of [
      as("node-1", { password: "wrong" }),
      as("node-1", { username: "intruder" }),
      { ca: pem(pki, "ca.pem") },
    ]) {
      await expect(connectOnce(tlsUrl(), options)).rejects.toMatchObject({ code: 135 });
    }
  });

  it("refuses plain MQTT on the TLS port and serves plain MQTT only on loopback", async () => {
    await expect(
      connectOnce(`mqtt://127.0.0.1:${tls.tlsPort}`, { ...as("node-1"), connectTimeout: 2_000 }),
    ).rejects.toBeDefined();
    const local = await connectOnce(`mqtt://127.0.0.1:${tls.plainPort}`, as("node-1"));
    expect(local.connected).toBe(true);
    expect(readFileSync(join(import.meta.dirname, "../../deploy/mosquitto/mosquitto.conf"), "utf8")).toMatch(
      /\nlistener 1883 127\.0\.0\.1\n/,
    );
  });

  it("the client refuses a broker whose certificate its CA did not sign", async () => {
    await expect(connectOnce(tlsUrl(), as("node-1", { ca: pem(pki, "rogue-ca.pem") }))).rejects.toMatchObject(
      {
        code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/),
      },
    );
  });

  it("mutual TLS: a client certificate from the CA connects; none, or a rogue one, is refused", async () => {
    const url = `mqtts://127.0.0.1:${mtls.tlsPort}`;
    const client = await connectOnce(
      url,
      as("node-1", { cert: pem(pki, "node-1.pem"), key: pem(pki, "node-1.key") }),
    );
    expect(client.connected).toBe(true);
    await expect(connectOnce(url, as("node-1"))).rejects.toBeDefined();
    await expect(
      connectOnce(url, as("node-1", { cert: pem(pki, "rogue.pem"), key: pem(pki, "rogue.key") })),
    ).rejects.toBeDefined();
  });

  it("an agent cannot write another host's topics (PUBACK 0x87) and the collector never sees it", async () => {
    const collector = await connectOnce(tlsUrl(), as("gputel-collector"));
    const seen: string[] = [];
    collector.on("message", (topic, payload) => seen.push(`${topic} ${payload}`));
    await collector.subscribeAsync("gputel/v1/#", { qos: 1 });

    const agent = await connectOnce(tlsUrl(), as("node-1"));
    expect(await publish(agent, "gputel/v1/node-2/frame", "forged")).toEqual({ ok: false, code: 0x87 });
    expect(await publish(agent, "gputel/v1/other/status", "forged")).toEqual({ ok: false, code: 0x87 });
    expect(await publish(agent, "gputel/v1/node-1/frame", "mine")).toEqual({ ok: true });
    // The allowed frame was published last; once it arrives, anything forged would have too.
    await waitFor(() => seen.length > 0, 5_000, "the agent's own frame at the collector");
    expect(seen).toEqual(["gputel/v1/node-1/frame mine"]);

    // The collector reads only.
    expect(await publish(collector, "gputel/v1/node-1/frame", "forged")).toEqual({ ok: false, code: 0x87 });
  });
});
