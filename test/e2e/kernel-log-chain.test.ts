// End to end, the whole chain of issue 16: `gputel agent` with mock-smi as its nvidia-smi and
// `gputel mock-kmsg --follow` as its kernel log, one scenario for both, publishing into a real
// collector (embedded aedes, and Mosquitto in external mode where it is installed) that alerts a
// webhook receiver. An Xid 79 on GPU 1 (it falls off the bus: lost and reset-required), an Xid 13
// on GPU 0 attributed to its process, a recovery action on GPU 0 that the scenario's timeline
// takes from Reset back to None (the GPU reset: reset-required closed on that evidence), a
// consumer GPU whose NVLink query answers "not supported". Then the agent is SIGKILLed and
// started again on the same state directory: only the new Xid reaches the collector, nothing
// twice.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCollectorConfig } from "../../collector/config.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { busIdFor, uuidFor } from "../../mock-smi/scenario-state.js";
import { kernelBusId } from "../../mock-smi/scenario-xid.js";
import { silentLogger } from "../../shared/logger.js";
import { GPUTEL, type Spawned, spawnGputel } from "../helpers/cli.js";
import { type Mosquitto, mosquittoAvailable, startMosquitto } from "../helpers/mosquitto.js";
import { freePort, waitFor } from "../helpers/net.js";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.js";

const HOST = "klog-chain";

/**
 * When GPU 0 is reset: its recovery action reads Reset until then, None from then on. Late enough
 * that the first test sees reset-required open on a busy machine, early enough for the third.
 */
const RESET_AT_S = 30;

/** The scenario; `later` adds an Xid to GPU 2. */
const scenario = (later = "") => `
hosts:
  - name: ${HOST}
    gpus:
      - model: NVIDIA H100 80GB HBM3
        xid:
          - { at: 1s, code: 13, pid: 31337, name: python3 }
        recovery_action:
          - { at: 0s, action: Reset }
          - { at: ${RESET_AT_S}s, action: None }
      - model: NVIDIA H100 80GB HBM3
        lost_at: 2s
        xid:
          - { at: 2s, code: 79 }
      - model: NVIDIA GeForce RTX 4080 SUPER${later}
`;

interface Hook {
  type: string;
  flag: { kind: string; id: number };
}

const modes = [
  ["embedded aedes", false] as const,
  ...(mosquittoAvailable() ? [["Mosquitto", true] as const] : []),
];

describe.each(modes)("kernel log + mock-smi -> agent -> %s -> collector", (_name, external) => {
  let dir: string;
  let collector: RunningCollector;
  let receiver: WebhookReceiver<Hook> | undefined;
  let mosquitto: Mosquitto | undefined;
  let brokerUrl: string;
  const agents: Spawned[] = [];
  let hooks: Hook[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gputel-e2e-klog-chain-"));
    receiver = await startWebhookReceiver<Hook>();
    hooks = receiver.bodies;
    const hookPort = receiver.port;
    if (external) mosquitto = await startMosquitto();
    const mqttPort = await freePort();
    brokerUrl = mosquitto?.url ?? `mqtt://127.0.0.1:${mqttPort}`;
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
  }, 20_000);

  afterAll(async () => {
    for (const agent of agents) {
      agent.child.kill("SIGKILL");
      await agent.exited;
    }
    await collector?.stop();
    await mosquitto?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const scenarioPath = () => join(dir, "scenario.yaml");
  const events = () => collector.store.events().list({ host: HOST, limit: 100 }).reverse();
  const open = (kind: string, uuid: string) =>
    collector.flags.openFlags({ kinds: [kind as "xid"], host: HOST }).find((f) => f.gpuUuid === uuid);
  const hooked = (type: string, kind: string) =>
    hooks.filter((h) => h.type === type && h.flag.kind === kind).length;
  const agentOutput = () => agents.map((a) => a.output()).join("\n---\n");

  function startAgent(): Spawned {
    const config = join(dir, "agent.yaml");
    writeFileSync(
      config,
      [
        `host: ${HOST}`,
        "interval: 200ms",
        "health_interval: 1s",
        "nvlink_interval: 1s",
        `state_directory: ${join(dir, "state")}`,
        "sources: [nvidia-smi, kernel-log]",
        `nvidia_smi: ${GPUTEL} mock-smi --scenario ${scenarioPath()} --`,
        `kernel_log: { command: ${GPUTEL} mock-kmsg --scenario ${scenarioPath()} --follow }`,
        `broker: { url: "${brokerUrl}" }`,
        "",
      ].join("\n"),
    );
    const agent = spawnGputel(["agent", "--config", config]);
    agents.push(agent);
    return agent;
  }

  it("stores each Xid once and opens lost, xid and reset-required, alerting the webhook", async () => {
    writeFileSync(scenarioPath(), scenario());
    startAgent();
    await waitFor(() => events().length >= 2, 40_000, `two events stored (agent: ${agentOutput()})`);
    const lost = events().find((e) => e.code === 79);
    const fault = events().find((e) => e.code === 13);
    expect(lost).toMatchObject({
      kind: "xid",
      code: 79,
      gpuUuid: uuidFor(HOST, 1),
      gpuIndex: 1,
      action: expect.any(String),
      applicationLevel: false,
    });
    expect(lost?.pciBusId).toBe(kernelBusId(busIdFor(1)));
    expect(fault).toMatchObject({
      code: 13,
      gpuUuid: uuidFor(HOST, 0),
      gpuIndex: 0,
      pid: 31337,
      processName: "python3",
      applicationLevel: true,
    });
    await waitFor(() => open("lost", uuidFor(HOST, 1)) !== undefined, 20_000, "GPU 1 lost");
    await waitFor(
      () => open("reset-required", uuidFor(HOST, 1)) !== undefined,
      20_000,
      "reset-required, GPU 1",
    );
    await waitFor(
      () => open("reset-required", uuidFor(HOST, 0)) !== undefined,
      20_000,
      "reset-required, GPU 0",
    );
    expect(open("xid", uuidFor(HOST, 0))?.values).toMatchObject({ code: 13 });
    await waitFor(() => hooked("opened", "reset-required") === 2, 20_000, "reset-required alerts");
    await waitFor(() => hooked("opened", "lost") === 1, 20_000, "the lost alert");
  });

  it("handles NVLink 'not supported' on the consumer GPU: no flag, no error", async () => {
    const rtx = uuidFor(HOST, 2);
    expect(open("nvlink-degraded", rtx)).toBeUndefined();
    expect(open("error", rtx)).toBeUndefined();
    expect(collector.flags.openFlags({ host: HOST }).filter((f) => f.gpuUuid === rtx)).toEqual([]);
  });

  it("closes reset-required on the evidence: the recovery action back to None", {
    timeout: RESET_AT_S * 1000 + 60_000,
  }, async () => {
    // At RESET_AT_S the GPU is reset: -q -x says None again. GPU 1, lost, shows no evidence:
    // still open.
    await waitFor(
      () => open("reset-required", uuidFor(HOST, 0)) === undefined,
      RESET_AT_S * 1000 + 30_000,
      "GPU 0 closed",
    );
    await waitFor(() => hooked("closed", "reset-required") === 1, 20_000, "the closing alert");
    expect(open("reset-required", uuidFor(HOST, 1))).toBeDefined();
  });

  it("after a SIGKILL and a restart on the same state directory, stores only the new Xid", async () => {
    const first = agents.at(-1);
    first?.child.kill("SIGKILL");
    await first?.exited;
    // The new Xid needs the file rewritten, which restarts the scenario's clock (mock-smi keys it by
    // the file's time): GPU 0 plays Reset then None again, which this test leaves aside.
    writeFileSync(scenarioPath(), scenario("\n        xid:\n          - { at: 3s, code: 31 }"));
    startAgent();
    await waitFor(() => events().length >= 3, 40_000, `the new event (agent: ${agentOutput()})`);
    // Oldest first: the scenario's times (13 at 1 s, 79 at 2 s, 31 at 3 s).
    expect(events().map((e) => [e.code, e.gpuIndex])).toEqual([
      [13, 0],
      [79, 1],
      [31, 2],
    ]);
  });
});
