// Issue 13 item 2: GPU takeover across hosts, through the shipped Mosquitto config (passwords, TLS,
// per-agent ACL). The attacker is authenticated as gpu-b and publishes only on its own topics, but
// names the victim's GPU. The real collector (external-broker mode, real SQLite file) must keep the
// GPU on gpu-a, store none of gpu-b's samples for it (its own GPU still is), count and flag the
// refusal, and accept a real move (the GPU gone from gpu-a's inventory) into the history.
import { readFileSync } from "node:fs";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicFor } from "../../shared/topics.js";
import { type FleetBroker, startFleetBroker } from "../deploy/fleet-broker.js";
import {
  FLEET_USERS,
  startTestCollector,
  type TestCollector,
  Workspace,
} from "../deploy/fleet-e2e-harness.js";
import { mosquittoAvailable } from "../helpers/mosquitto.js";
import { waitFor } from "../helpers/net.js";
import { batchOf, connectClient, getJson, inventoryHistory, inventoryOf, rejected } from "./attack-parts.js";

const available = mosquittoAvailable();
const VICTIM_GPU = "GPU-0a1b2c3d-0000-4000-8000-00000000a000";
const ATTACKER_GPU = "GPU-0a1b2c3d-0000-4000-8000-00000000b000";
const HOUR = 3_600_000;

describe.skipIf(!available)("GPU takeover across hosts (shipped Mosquitto config)", () => {
  let ws: Workspace;
  let broker: FleetBroker;
  let collector: TestCollector;
  const clients: MqttClient[] = [];
  const agent = async (user: "gpu-a" | "gpu-b") => {
    const client = await connectClient(`mqtts://127.0.0.1:${broker.tlsPort}`, {
      username: user,
      password: FLEET_USERS[user],
      ca: readFileSync(ws.path("ca.pem")),
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    ws = new Workspace();
    broker = await startFleetBroker(ws.pki, { users: FLEET_USERS });
    collector = await startTestCollector(ws, "claims", `mqtts://127.0.0.1:${broker.tlsPort}`, false);
  }, 30_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await collector?.running.stop();
    await broker?.stop();
    ws?.remove();
  }, 30_000);

  it("refuses another live host's GPU, keeps the claimant's own, counts, logs and flags it; a real move is accepted", async () => {
    const { store } = collector.running;
    const samplesAt = (uuid: string, temperature: number) =>
      store
        .samples(uuid, Date.now() - HOUR, Date.now() + HOUR)
        .filter((s) => s.values.temperature_gpu_celsius === temperature).length;

    const victim = await agent("gpu-a");
    await victim.publishAsync(
      topicFor("gpu-a", "inventory"),
      inventoryOf("gpu-a", { [VICTIM_GPU]: "NVIDIA H100 80GB HBM3" }),
      { qos: 1 },
    );
    await victim.publishAsync(topicFor("gpu-a", "frame"), batchOf("gpu-a", 1, { [VICTIM_GPU]: 41 }), {
      qos: 1,
    });
    await waitFor(() => samplesAt(VICTIM_GPU, 41) === 1, 15_000, "the victim's frame");

    // The attack: its own topics only (the ACL holds), the victim's UUID with a fake model.
    const attacker = await agent("gpu-b");
    await attacker.publishAsync(
      topicFor("gpu-b", "inventory"),
      inventoryOf("gpu-b", { [VICTIM_GPU]: "Fake GPU 9000", [ATTACKER_GPU]: "NVIDIA L4" }),
      { qos: 1 },
    );
    for (let seq = 1; seq <= 3; seq++) {
      await attacker.publishAsync(
        topicFor("gpu-b", "frame"),
        batchOf("gpu-b", seq, { [VICTIM_GPU]: 99, [ATTACKER_GPU]: 55 }),
        { qos: 1 },
      );
    }
    await waitFor(() => samplesAt(ATTACKER_GPU, 55) === 3, 15_000, "the attacker's own GPU's samples");
    await waitFor(
      () => rejected(collector.running, "gpu_claimed_by_other_host") >= 4,
      15_000,
      "refusals counted",
    );

    // The GPU stays the victim's, with its real model; none of the attacker's samples mix in.
    const gpu = await getJson(collector.running.httpPort, `/api/v1/gpus/${VICTIM_GPU}`);
    expect(gpu.status).toBe(200);
    expect(gpu.body).toMatchObject({ uuid: VICTIM_GPU, host: "gpu-a", model: "NVIDIA H100 80GB HBM3" });
    expect(samplesAt(VICTIM_GPU, 99)).toBe(0);
    expect(inventoryHistory(collector.running, VICTIM_GPU)).toEqual([
      { host: "gpu-a", model: "NVIDIA H100 80GB HBM3", moveReason: null, open: true },
    ]);
    // The attacker's own GPU (same frames, same inventory) is stored as usual.
    expect(store.latest().find((g) => g.uuid === ATTACKER_GPU)).toMatchObject({
      host: "gpu-b",
      model: "NVIDIA L4",
    });

    // Counted per reason on /metrics, logged with its reason, and a flag an operator sees.
    const metrics = await fetch(`http://127.0.0.1:${collector.running.httpPort}/metrics`).then((r) =>
      r.text(),
    );
    expect(metrics).toMatch(/gputel_ingest_rejected_total\{reason="gpu_claimed_by_other_host"\} [1-9]/);
    expect(metrics).toContain(
      `gputel_flag_open{kind="gpu-claim-conflict",host="gpu-b",gpu="0",uuid="${VICTIM_GPU}"`,
    );
    expect(collector.log()).toMatch(/"reason":"gpu_claimed_by_other_host".*"msg":"Message rejected"/);
    const flags = await getJson(collector.running.httpPort, "/api/v1/flags?kind=gpu-claim-conflict");
    expect(flags.body).toMatchObject({
      flags: [{ kind: "gpu-claim-conflict", host: "gpu-b", gpuUuid: VICTIM_GPU, values: { owner: "gpu-a" } }],
    });

    // A real move: the GPU is taken out of gpu-a (its new inventory lacks it) and shows up in gpu-b.
    await victim.publishAsync(topicFor("gpu-a", "inventory"), inventoryOf("gpu-a", {}), { qos: 1 });
    await waitFor(
      () => store.db.prepare("SELECT inventory_uuids FROM hosts WHERE name = 'gpu-a'").pluck().get() === "[]",
      15_000,
      "gpu-a's new inventory",
    );
    await attacker.publishAsync(topicFor("gpu-b", "frame"), batchOf("gpu-b", 4, { [VICTIM_GPU]: 77 }), {
      qos: 1,
    });
    await waitFor(() => samplesAt(VICTIM_GPU, 77) === 1, 15_000, "the moved GPU's sample");
    expect(store.latest().find((g) => g.uuid === VICTIM_GPU)?.host).toBe("gpu-b");
    expect(inventoryHistory(collector.running, VICTIM_GPU)).toEqual([
      { host: "gpu-a", model: "NVIDIA H100 80GB HBM3", moveReason: null, open: false },
      { host: "gpu-b", model: "NVIDIA H100 80GB HBM3", moveReason: "not_in_owner_inventory", open: true },
    ]);
    const after = await getJson(collector.running.httpPort, "/api/v1/flags?kind=gpu-claim-conflict");
    expect(after.body).toMatchObject({ flags: [] });
  }, 60_000);
});
