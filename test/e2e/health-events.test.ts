// End to end, collector side of issue 16: EventBatch and FrameBatch messages published with a
// real mqtt.js client into the real collector (embedded aedes, and Mosquitto in external mode
// where it is installed) -> events stored once (re-sent: still once) -> reset-required opened by
// Xid 79 and by the recovery action, closed by evidence -> alerts delivered to a webhook receiver.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCollectorConfig } from "../../collector/config.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { FrameBatch, GpuState, type IGpuSample, SCHEMA_VERSION } from "../../shared/proto.js";
import { topicFor } from "../../shared/topics.js";
import { eventPayload, xidEvent } from "../collector/health/events.js";
import { type Mosquitto, mosquittoAvailable, startMosquitto } from "../helpers/mosquitto.js";
import { freePort, waitFor } from "../helpers/net.js";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.js";

const HOST = "health-e2e";
const UUID = "GPU-test-0";

interface Hook {
  type: string;
  flag: { kind: string; id: number };
}

const modes = [
  ["embedded aedes", false] as const,
  ...(mosquittoAvailable() ? [["Mosquitto", true] as const] : []),
];

describe.each(modes)("health events through %s", (_name, external) => {
  let dir: string;
  let collector: RunningCollector;
  let client: MqttClient;
  let receiver: WebhookReceiver<Hook> | undefined;
  let mosquitto: Mosquitto | undefined;
  let hooks: Hook[] = [];
  let seq = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gputel-e2e-health-"));
    receiver = await startWebhookReceiver<Hook>();
    hooks = receiver.bodies;
    const hookPort = receiver.port;
    if (external) mosquitto = await startMosquitto();
    const mqttPort = await freePort();
    const loaded = loadCollectorConfig({
      env: {},
      overrides: {
        database: join(dir, "collector.db"),
        "http.listen": `127.0.0.1:${await freePort()}`,
        "alerts.webhook.url": `http://127.0.0.1:${hookPort}/hook`,
        ...(mosquitto
          ? { "broker.mode": "external", "broker.url": mosquitto.url }
          : { "broker.listen": `127.0.0.1:${mqttPort}` }),
      },
    });
    if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded)}`);
    collector = await startCollector(loaded.config, silentLogger());
    client = await mqtt.connectAsync(mosquitto?.url ?? `mqtt://127.0.0.1:${mqttPort}`, {
      protocolVersion: 5,
      clientId: `agent-${HOST}`,
      reconnectPeriod: 0,
    });
  }, 20_000);

  afterAll(async () => {
    await client?.endAsync();
    await collector?.stop();
    await mosquitto?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = () => collector.store.events().list({ limit: 100 }).length;
  const open = (kind: string) => collector.flags.openFlags({ kinds: [kind as "xid"] })[0];
  const hooked = (type: string, kind: string) =>
    hooks.filter((h) => h.type === type && h.flag.kind === kind).length;

  function frame(gpu: Partial<IGpuSample>, bootId: string, uptimeS: number): Uint8Array {
    seq += 1;
    return FrameBatch.encode({
      schema_version: SCHEMA_VERSION,
      frames: [
        {
          schema_version: SCHEMA_VERSION,
          host: HOST,
          boot_id: bootId,
          seq,
          timestamp_ms: Date.now(),
          interval_ms: 1000,
          gpus: [{ index: 0, uuid: UUID, state: GpuState.GPU_STATE_OK, ...gpu }],
          host_sample: { uptime_seconds: uptimeS },
        },
      ],
    }).finish();
  }

  it("stores an event once however often it is sent, and flags it", async () => {
    const t = Date.now() - 60_000;
    const payload = eventPayload(HOST, [
      xidEvent(1, 79, { time_ms: t, pid: null, process_name: "" }),
      xidEvent(2, 13, { time_ms: t + 1 }),
    ]);
    await client.publishAsync(topicFor(HOST, "event"), Buffer.from(payload), { qos: 1 });
    await waitFor(() => stored() === 2, 10_000);
    // The PUBACK of a re-send comes after its commit (embedded) or the collector's own ack
    // (external): wait for the duplicate count rather than a delay.
    await client.publishAsync(topicFor(HOST, "event"), Buffer.from(payload), { qos: 1 });
    await waitFor(() => collector.pipeline.snapshot().eventsDuplicate >= 2, 10_000);
    expect(stored()).toBe(2);
    expect(open("xid")?.values).toMatchObject({ code: 79 });
    await waitFor(() => hooked("opened", "reset-required") === 1, 10_000);
    expect(hooks.filter((h) => h.flag.kind === "xid").length).toBeGreaterThanOrEqual(1);
  });

  it("keeps reset-required through frames without evidence, closes it after the host rebooted", async () => {
    // The same agent boot, recovery action unknown: no evidence.
    await client.publishAsync(topicFor(HOST, "frame"), Buffer.from(frame({}, "agent-boot-1", 3600)), {
      qos: 1,
    });
    await waitFor(() => collector.flags.stats().samples >= 1, 10_000);
    expect(open("reset-required")).toBeDefined();
    // A new agent boot on a host that booted 10 s ago (after the Xid), GPU healthy.
    await client.publishAsync(topicFor(HOST, "frame"), Buffer.from(frame({}, "agent-boot-2", 10)), {
      qos: 1,
    });
    await waitFor(() => open("reset-required") === undefined, 10_000);
    await waitFor(() => hooked("closed", "reset-required") === 1, 10_000);
  });

  it("opens reset-required on a recovery action and closes it when the action is back to none", async () => {
    await client.publishAsync(
      topicFor(HOST, "frame"),
      Buffer.from(frame({ gpu_recovery_action: 1 }, "agent-boot-2", 20)),
      { qos: 1 },
    );
    await waitFor(() => hooked("opened", "reset-required") === 2, 10_000);
    await client.publishAsync(
      topicFor(HOST, "frame"),
      Buffer.from(frame({ gpu_recovery_action: 0 }, "agent-boot-2", 21)),
      { qos: 1 },
    );
    await waitFor(() => hooked("closed", "reset-required") === 2, 10_000);
    expect(open("reset-required")).toBeUndefined();
  });
});
