// Issue 6 end to end: the shipped Mosquitto fleet configuration (TLS, mTLS, passwords, ACL) between
// real `gputel agent` children and the real collector, checked in the collector's database.
// Required where GPUTEL_REQUIRE_MOSQUITTO=1; skipped with a message where mosquitto is absent.
import { readFileSync } from "node:fs";
import { connect, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicFor } from "../../shared/topics.js";
import type { Spawned } from "../helpers/cli.js";
import { mosquittoAvailable } from "../helpers/mosquitto.js";
import { waitFor } from "../helpers/net.js";
import { type FleetBroker, startFleetBroker } from "./fleet-broker.js";
import {
  FLEET_USERS,
  H100_UUID,
  markedBatch,
  spawnAgent,
  startTestCollector,
  stopAgent,
  type TestCollector,
  Workspace,
} from "./fleet-e2e-harness.js";

const available = mosquittoAvailable();
const HOUR = 3_600_000;

/** Frames of `host` with the capture's idle readings in the collector's database. */
function storedFrom(c: TestCollector, host: string): boolean {
  return c.running.store
    .latest()
    .some((g) => g.host === host && g.uuid === H100_UUID && g.values.temperature_gpu_celsius === 41);
}

function hosts(c: TestCollector): string[] {
  return c.running.store.hostRows().map((h) => h.name);
}

/** Rows of frame_seen for a boot id: a frame with it was committed. */
function seenBoot(c: TestCollector, bootId: string): number {
  const row = c.running.store.db
    .prepare("SELECT count(*) AS n FROM frame_seen WHERE boot_id = ?")
    .get(bootId);
  return (row as { n: number }).n;
}

/** Every raw sample of the capture's GPU in the last hour with this GPU temperature. */
function samplesAt(c: TestCollector, uuid: string, temperature: number): number {
  const now = Date.now();
  return c.running.store
    .samples(uuid, now - HOUR, now + HOUR)
    .filter((s) => s.values.temperature_gpu_celsius === temperature).length;
}

/** Waits for `count` more frames to be committed: what was sent before them has been handled. */
async function moreFrames(c: TestCollector, count: number, what: string): Promise<void> {
  const target = c.running.store.frameCount() + count;
  await waitFor(() => c.running.store.frameCount() >= target, 15_000, what);
}

/** Whether the agent logged `msg` with an `err` field matching `err` (its pino JSON lines). */
function logged(agent: Spawned, msg: string, err: RegExp): boolean {
  return agent
    .output()
    .split("\n")
    .some((line) => {
      if (!line.startsWith("{")) return false;
      const entry = JSON.parse(line) as { msg?: string; err?: string };
      return entry.msg === msg && err.test(entry.err ?? "");
    });
}

/** waitFor, with the agent's output as it is at the deadline in the failure message. */
async function waitLogged(agent: Spawned, check: () => boolean, what: string): Promise<void> {
  try {
    await waitFor(check, 20_000, what);
  } catch (error) {
    throw new Error(`${(error as Error).message}\nagent output:\n${agent.output()}`);
  }
}

describe.skipIf(!available)("fleet end to end: Mosquitto's fleet config, gputel agent and collector", () => {
  let ws: Workspace;
  let tls: FleetBroker;
  let mtls: FleetBroker;
  let tlsCollector: TestCollector;
  let mtlsCollector: TestCollector;
  const agents: Spawned[] = [];
  const clients: MqttClient[] = [];
  const url = (b: FleetBroker) => `mqtts://127.0.0.1:${b.tlsPort}`;
  const agent = (...args: Parameters<typeof spawnAgent>) => {
    const a = spawnAgent(...args);
    agents.push(a);
    return a;
  };

  beforeAll(async () => {
    ws = new Workspace();
    [tls, mtls] = await Promise.all([
      startFleetBroker(ws.pki, { users: FLEET_USERS }),
      startFleetBroker(ws.pki, { users: FLEET_USERS, mtls: true }),
    ]);
    [tlsCollector, mtlsCollector] = await Promise.all([
      startTestCollector(ws, "tls", url(tls), false),
      startTestCollector(ws, "mtls", url(mtls), true),
    ]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => stopAgent(a)));
    for (const c of clients) c.end(true);
    await tlsCollector?.running.stop();
    await mtlsCollector?.running.stop();
    await tls?.stop();
    await mtls?.stop();
    ws?.remove();
  }, 30_000);

  it("TLS: the agent's frames reach the database; a wrong password never connects and stores nothing", async () => {
    const good = agent(ws, "tls-a", "gpu-a", url(tls), { password: FLEET_USERS["gpu-a"] });
    const wrong = agent(ws, "tls-b-wrong", "gpu-b", url(tls), { password: "not-the-password" });
    await waitLogged(good, () => storedFrom(tlsCollector, "gpu-a"), "gpu-a's frames");
    expect(good.output()).toMatch(/Connected to broker/);
    expect(tlsCollector.running.store.hostRows().find((h) => h.name === "gpu-a")?.status).toBe("online");

    // MQTT 5 CONNACK 0x87 as mqtt.js words it.
    await waitLogged(
      wrong,
      () => logged(wrong, "MQTT error", /^Connection refused: Not authorized$/),
      "the refusal",
    );
    // gpu-a goes on being stored while gpu-b keeps retrying: had gpu-b got through, it would show.
    await moreFrames(tlsCollector, 5, "gpu-a's next frames");
    expect(wrong.output()).not.toMatch(/Connected to broker|Agent ready/);
    expect(hosts(tlsCollector)).toEqual(["gpu-a"]);
    expect(tlsCollector.running.store.rejectCounts()).toEqual([]);
    await Promise.all([stopAgent(good), stopAgent(wrong)]);
  }, 45_000);

  it("broker.reject_unauthorized: false lets the collector reach a broker whose CA it lacks", async () => {
    const unverified = await startTestCollector(ws, "tls-unverified", url(tls), false, {
      "broker.ca_file": undefined,
      "broker.reject_unauthorized": false,
    });
    try {
      expect(unverified.log()).toMatch(/Subscribed/);
    } finally {
      await unverified.running.stop();
    }
  }, 45_000);

  it("mTLS: a CA-signed client certificate gets through; none or a rogue CA's is refused", async () => {
    const good = agent(ws, "mtls-a", "gpu-a", url(mtls), { password: FLEET_USERS["gpu-a"], cert: "gpu-a" });
    // The right password, so only the certificate can be what the broker refuses.
    const none = agent(ws, "mtls-b-none", "gpu-b", url(mtls), { password: FLEET_USERS["gpu-b"] });
    const rogue = agent(ws, "mtls-b-rogue", "gpu-b", url(mtls), {
      password: FLEET_USERS["gpu-b"],
      cert: "rogue",
    });
    await waitLogged(good, () => storedFrom(mtlsCollector, "gpu-a"), "gpu-a's frames");
    // The broker ends the handshake with a TLS alert (the agent logs OpenSSL's text for it).
    await waitLogged(
      none,
      () => logged(none, "MQTT error", /alert (certificate required|handshake failure)/),
      "the refusal",
    );
    await waitLogged(
      rogue,
      () => logged(rogue, "MQTT error", /alert (unknown ca|bad certificate)/),
      "the refusal",
    );
    await moreFrames(mtlsCollector, 5, "gpu-a's next frames");
    for (const refused of [none, rogue])
      expect(refused.output()).not.toMatch(/Connected to broker|Agent ready/);
    expect(hosts(mtlsCollector)).toEqual(["gpu-a"]);
    await Promise.all([stopAgent(good), stopAgent(none), stopAgent(rogue)]);
  }, 45_000);

  describe("an agent's credentials used against another host", () => {
    let gpuB: MqttClient;
    const publish = (topic: string, payload: Buffer) =>
      new Promise<number>((resolve) => {
        gpuB.publish(topic, payload, { qos: 1 }, (error) =>
          resolve(error ? Number((error as Error & { code?: unknown }).code) : 0),
        );
      });

    beforeAll(async () => {
      gpuB = connect(url(tls), {
        protocolVersion: 5,
        reconnectPeriod: 0,
        username: "gpu-b",
        password: FLEET_USERS["gpu-b"],
        ca: readFileSync(ws.path("ca.pem")),
      });
      clients.push(gpuB);
      await new Promise<void>((resolve, reject) => {
        gpuB.once("connect", () => resolve());
        gpuB.once("error", reject);
      });
    });

    it("the broker refuses gpu-b writing gpu-a's topic (PUBACK 0x87); nothing reaches the database", async () => {
      const forged = markedBatch("gpu-a", { uuid: H100_UUID, temperature: 123 });
      expect(await publish(topicFor("gpu-a", "frame"), forged.payload)).toBe(0x87);
      // Control: the same kind of frame on gpu-b's own topic is accepted and stored, so the
      // forged one would have been stored too had the broker let it through (it was sent first).
      const own = markedBatch("gpu-b", { uuid: "GPU-bbbbbbbb-0000-0000-0000-000000000000", temperature: 77 });
      expect(await publish(topicFor("gpu-b", "frame"), own.payload)).toBe(0);
      await waitFor(() => seenBoot(tlsCollector, own.bootId) === 1, 10_000, "gpu-b's own frame stored");
      expect(samplesAt(tlsCollector, "GPU-bbbbbbbb-0000-0000-0000-000000000000", 77)).toBe(1);

      expect(seenBoot(tlsCollector, forged.bootId)).toBe(0);
      expect(samplesAt(tlsCollector, H100_UUID, 123)).toBe(0);
      expect(
        tlsCollector.running.store.latest().filter((g) => g.values.temperature_gpu_celsius === 123),
      ).toEqual([]);
    });

    it("the collector rejects gpu-b's own topic carrying gpu-a's payload (host_mismatch)", async () => {
      const forged = markedBatch("gpu-a", { uuid: H100_UUID, temperature: 124 });
      expect(await publish(topicFor("gpu-b", "frame"), forged.payload)).toBe(0);
      await waitFor(
        () => tlsCollector.running.store.rejectCounts().some((r) => r.reason === "host_mismatch"),
        10_000,
        "the host_mismatch reject count",
      );
      expect(tlsCollector.running.store.rejectCounts()).toEqual([
        expect.objectContaining({ host: "gpu-b", reason: "host_mismatch", count: 1 }),
      ]);
      expect(seenBoot(tlsCollector, forged.bootId)).toBe(0);
      expect(samplesAt(tlsCollector, H100_UUID, 124)).toBe(0);
    });
  });
});
