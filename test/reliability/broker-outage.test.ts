// Broker down, then up (Mosquitto stopped and restarted on the same port with persistence):
// agents keep sampling into their spools; after the restart every frame arrives, stored once,
// and the frames sampled during the outage arrive oldest first.
import { join } from "node:path";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { FrameBatch } from "../../shared/proto.js";
import { mosquittoAvailable } from "../helpers/mosquitto.js";
import { freePort, waitFor } from "../helpers/net.js";
import { readSeen, storedCount } from "./harness/audit.js";
import { BrokerProc } from "./harness/broker-proc.js";
import { assertAllStoredOnce, Harness, waitAllStored } from "./harness/setup.js";

const available = mosquittoAvailable();
let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe.skipIf(!available)("broker down, then up", () => {
  it("delivers every sampled frame once, the outage's backlog oldest first", {
    timeout: 120_000,
  }, async () => {
    h = new Harness();
    const harness = h;
    const broker = new BrokerProc({ dir: join(harness.dir, "broker"), port: await freePort() });
    await broker.start();
    harness.onCleanup(() => broker.stop("SIGKILL"));
    const database = join(harness.dir, "collector.db");
    const collector = await harness.collector(database, { url: broker.url });

    // A second persistent subscriber records the order in which frames reach the broker's subscribers.
    const arrivals = new Map<string, number[]>();
    const watcher = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: "order-watch",
      clean: false,
      reconnectPeriod: 200,
      properties: { sessionExpiryInterval: 600 },
    });
    harness.onCleanup(() => watcher.endAsync(true));
    watcher.on("message", (_topic, payload) => {
      for (const frame of FrameBatch.decode(payload).frames) {
        const key = `${frame.host} ${frame.boot_id}`;
        arrivals.set(key, [...(arrivals.get(key) ?? []), Number(frame.seq)]);
      }
    });
    await watcher.subscribeAsync("gputel/v1/+/frame", { qos: 1 });

    const agents = ["outage-a", "outage-b"].map((host) => harness.agent(host, broker.url));
    for (const agent of agents) agent.start();
    const hosts = agents.map((a) => a.spec.host);
    await waitFor(() => storedCount(database, hosts) >= 10, 30_000, "frames before the outage");

    await broker.stop("SIGTERM");
    const before = agents.map((a) => a.totalSampled);
    await waitFor(
      () => agents.every((a, i) => a.totalSampled >= (before[i] as number) + 20),
      30_000,
      "frames sampled during the outage",
    );
    const during = agents.map((a) => a.totalSampled);
    const storedDuringOutage = storedCount(database, hosts);
    await broker.start();

    await waitAllStored(database, agents, 60_000, "the backlog stored");
    for (const agent of agents) expect(await agent.stop("SIGTERM")).toBe(0);
    await waitAllStored(database, agents, 30_000, "the last frames stored");
    await collector.stop();

    for (const [i, agent] of agents.entries()) {
      expect(agent.bootIds).toHaveLength(1);
      const boot = agent.bootIds[0] as string;
      const seqs = agent.sampled.boots.get(boot) ?? [];
      // Sampled 1..N with no gap, and the database holds exactly 1..N for this boot.
      expect(seqs).toEqual(seqs.map((_, k) => k + 1));
      const stored = readSeen(database).get(agent.spec.host)?.get(boot);
      expect([...(stored ?? [])].sort((a, b) => a - b)).toEqual(seqs);
      // The frames sampled while the broker was away arrived oldest first.
      const outage = new Set(seqs.slice(before[i], during[i]));
      const firstArrivals = [...new Set(arrivals.get(`${agent.spec.host} ${boot}`) ?? [])];
      const replayed = firstArrivals.filter((s) => outage.has(s));
      expect(replayed).toHaveLength(outage.size);
      expect(replayed).toEqual([...replayed].sort((a, b) => a - b));
    }
    expect(storedDuringOutage).toBeLessThan(agents.reduce((n, a) => n + a.totalSampled, 0));
    const result = assertAllStoredOnce(database, agents);
    expect(result.problems).toEqual([]);
    expect(result.stored).toBe(result.sampled);
  });
});
