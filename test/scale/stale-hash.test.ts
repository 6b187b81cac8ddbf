// Stale with several collectors as EMQX hash_clientid places frames (docs/scaling.md, "Which broker
// strategy"): every collector gets every host's retained status, but a host's frames go to one
// collector only. No EMQX here, so a real Mosquitto stands in for the hash with its ACLs: each
// collector's MQTT user may read every status and inventory but the frames of its own host only
// (a one-member share group each, so the frames are shared ones as with EMQX). Two real collectors
// (startCollector), A answering for both through http.peers.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Summary } from "../../collector/contract/api-contract.js";
import type { Flag } from "../../collector/flags/types.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { encodeFrameBatch } from "../../shared/codec.js";
import { silentLogger } from "../../shared/logger.js";
import { AgentState, frameTopic, makeFrame, statusPayload } from "../collector/ingest/frames.js";
import { type Mosquitto, mosquittoAvailable, startMosquitto } from "../helpers/mosquitto.js";
import { waitFor } from "../helpers/net.js";
import { collectorConfig, tempDir } from "./helpers.js";

const available = mosquittoAvailable();
const HOSTS = ["host-a", "host-b"] as const;
/** The frames' interval: stale after 3 of them, 6 s (a frame goes every 0.5 s: a loaded machine's pauses are no staleness). */
const INTERVAL_MS = 2000;
/** The statuses' interval (frames.ts statusPayload): a host with a status and no frame was stale after 3 s. */
const STATUS_INTERVAL_MS = 1000;

const staleHosts = (c: RunningCollector) =>
  c.flags
    .openFlags({ kinds: ["stale"] })
    .map((f) => f.host)
    .sort();

describe.skipIf(!available)("stale under hash_clientid: statuses everywhere, frames on one collector", () => {
  let broker: Mosquitto;
  let publisher: MqttClient;
  let dir: { dir: string; remove(): Promise<void> };
  const collectors: RunningCollector[] = [];
  const seq = { "host-a": 0, "host-b": 0 };
  let sending = new Set<string>(HOSTS);
  let timer: NodeJS.Timeout | undefined;

  const publishFrame = (host: (typeof HOSTS)[number]) => {
    seq[host] += 1;
    const frame = makeFrame(host, seq[host], {
      gpus: 1,
      timestampMs: Date.now(),
      overrides: { interval_ms: INTERVAL_MS },
    });
    for (const g of frame.gpus ?? []) g.uuid = `GPU-${host}-0`;
    publisher.publish(frameTopic(host), Buffer.from(encodeFrameBatch([frame])), { qos: 1 });
  };

  beforeAll(async () => {
    dir = await tempDir("gputel-stale-hash-");
    const acl = join(dir.dir, "acl");
    const own = (user: string, host: string) => [
      `user ${user}`,
      ...["status", "inventory", "event", "processes"].map((t) => `topic read gputel/v1/+/${t}`),
      `topic read gputel/v1/${host}/frame`,
    ];
    // Lines before any `user` apply to anonymous clients: the test's publisher, standing in for agents.
    await writeFile(
      acl,
      `${["topic write gputel/v1/#", ...own("collector-a", "host-a"), ...own("collector-b", "host-b")].join("\n")}\n`,
    );
    broker = await startMosquitto({ extraConfig: [`acl_file ${acl}`] });
    const collector = async (name: "a" | "b", peers: string[] = []) => {
      const c = await startCollector(
        collectorConfig({
          database: join(dir.dir, `${name}.db`),
          "broker.mode": "external",
          "broker.url": broker.url,
          "broker.client_id": `gputel-${name}`,
          "broker.username": `collector-${name}`,
          "broker.share_group": `fleet-${name}`,
          "http.peers": peers,
        }),
        silentLogger(),
      );
      collectors.push(c);
      return c;
    };
    const b = await collector("b");
    await collector("a", [`http://127.0.0.1:${b.httpPort}`]);
    publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    for (const host of HOSTS) {
      const status = statusPayload(host, AgentState.AGENT_STATE_ONLINE, "started");
      await publisher.publishAsync(`gputel/v1/${host}/status`, Buffer.from(status), { qos: 1, retain: true });
    }
    // Like agents: a frame per host every interval, while that host is sending.
    timer = setInterval(() => {
      for (const host of HOSTS) if (sending.has(host)) publishFrame(host);
    }, 500);
  }, 60_000);

  afterAll(async () => {
    if (timer) clearInterval(timer);
    await publisher?.endAsync();
    for (const c of collectors.splice(0)) await c.stop();
    await broker?.stop();
    await dir?.remove();
  });

  it("no stale for a live host on either collector; stale on the receiving one when its frames stop", async () => {
    const [b, a] = collectors as [RunningCollector, RunningCollector];
    // Each collector has both statuses but only its own host's frames.
    await waitFor(
      () => a.store.frameCount() > 0 && b.store.frameCount() > 0,
      15_000,
      "frames at both collectors",
    );
    expect(a.store.latest().map((g) => g.host)).toEqual(["host-a"]);
    expect(b.store.latest().map((g) => g.host)).toEqual(["host-b"]);
    // Well past 3 intervals of both hosts' online status: without frames of host-b, A would call it stale.
    const since = Date.now();
    await waitFor(() => Date.now() - since > 8 * STATUS_INTERVAL_MS, 15_000, "8 status intervals");
    expect(staleHosts(a)).toEqual([]);
    expect(staleHosts(b)).toEqual([]);
    const merged = async () => {
      const response = await fetch(`http://127.0.0.1:${a.httpPort}/api/v1/flags?kind=stale`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { flags: Flag[] }).flags.map((f) => f.host);
    };
    expect(await merged()).toEqual([]);
    // The merged summary counts no host as unreachable.
    const staleInSummary = async () => {
      const response = await fetch(`http://127.0.0.1:${a.httpPort}/api/v1/summary`);
      expect(response.status).toBe(200);
      return ((await response.json()) as Summary).flags.byKind.stale ?? 0;
    };
    expect(await staleInSummary()).toBe(0);

    // host-a's agent hangs: connected (its status stays online), no frames. A, which received them, calls it stale.
    sending = new Set(["host-b"]);
    await waitFor(() => staleHosts(a).length > 0, 15_000, "stale for host-a at collector A");
    expect(staleHosts(a)).toEqual(["host-a"]);
    const [flag] = a.flags.openFlags({ kinds: ["stale"] });
    expect(flag?.reason).toMatch(/^No frame from host-a for 3 intervals/);
    // B never received host-a's frames: not its to judge; host-b is live.
    expect(staleHosts(b)).toEqual([]);
    expect(await merged()).toEqual(["host-a"]);
    expect(await staleInSummary()).toBe(1);

    // Frames again: closed.
    sending = new Set(HOSTS);
    await waitFor(() => staleHosts(a).length === 0, 15_000, "stale for host-a to close");
    expect(a.flags.history({ kinds: ["stale"] }).map((f) => [f.host, f.endMs !== null])).toEqual([
      ["host-a", true],
    ]);
  }, 60_000);
});
