// End to end through the real shell-out path: `gputel agent` runs `gputel mock-smi` as its
// nvidia-smi, publishes to a real broker (aedes in-process; Mosquitto when installed), and a
// subscriber decodes what arrives.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { frameToJson } from "../../shared/codec.js";
import { AgentState, GpuState } from "../../shared/proto.js";
import { startAedes, type TestBroker } from "../helpers/aedes.js";
import { ROOT, type Spawned, spawnGputel } from "../helpers/cli.js";
import { mosquittoAvailable, startMosquitto } from "../helpers/mosquitto.js";
import { waitFor } from "../helpers/net.js";
import { type Received, subscribe } from "../helpers/subscriber.js";

const H100 = join(
  ROOT,
  "test/fixtures/nvidia-smi/captures/linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt",
);
const GOLDEN = join(ROOT, "test/golden/agent-frame-h100-idle.json");

interface Running {
  agent: Spawned;
  received: Received;
  subscriber: MqttClient;
  broker: { url: string; stop(): Promise<void> };
  stateDir: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function runAgent(broker: { url: string; stop(): Promise<void> }, host: string): Promise<Running> {
  const { received, client } = await subscribe(broker.url, `gputel/v1/${host}/#`);
  const stateDir = mkdtempSync(join(tmpdir(), "gputel-agent-e2e-"));
  const agent = spawnGputel([
    "agent",
    "--nvidia-smi",
    `${join(ROOT, "bin/gputel")} mock-smi --replay ${H100} --`,
    "--broker",
    broker.url,
    "--host",
    host,
    "--site",
    "lab",
    "--label",
    "customer=acme",
    "--interval",
    "200ms",
    "--state-dir",
    stateDir,
  ]);
  cleanups.push(async () => {
    agent.child.kill("SIGKILL");
    await agent.exited;
    await client.endAsync();
    rmSync(stateDir, { recursive: true, force: true });
  });
  return { agent, received, subscriber: client, broker, stateDir };
}

/** The stable part of a frame: identity, timing and host readings removed. */
function stable(frame: Record<string, unknown>): Record<string, unknown> {
  const { boot_id, seq, timestamp_ms, host_sample, agent_version, host, ...rest } = frame;
  return rest;
}

async function checkFlow(run: Running, host: string): Promise<void> {
  await waitFor(
    () => run.received.frames.length >= 3,
    20_000,
    `3 frames (agent output: ${run.agent.output()})`,
  );
  const [first, second] = run.received.frames;
  expect(first?.host).toBe(host);
  expect(first?.site).toBe("lab");
  expect(first?.labels).toEqual({ customer: "acme" });
  expect(Number(second?.seq)).toBe(Number(first?.seq) + 1);
  expect(second?.boot_id).toBe(first?.boot_id);
  expect(first?.interval_ms).toBe(200);
  const gpu = first?.gpus?.[0];
  // The capture's own numbers (idle phase of the H100 capture).
  expect(gpu?.state).toBe(GpuState.GPU_STATE_OK);
  expect(gpu?.uuid).toBe("GPU-00000000-0000-0000-0000-000000000000");
  expect(gpu?.temperature_gpu_celsius).toBe(41);
  expect(gpu?.temperature_memory_celsius).toBe(48);
  expect(gpu?.power_draw_watts).toBeCloseTo(69.85, 2);
  expect(gpu?.memory_total_mib).toBe(81559);
  expect(gpu?.fan_speed_pct ?? undefined).toBeUndefined();

  const json = stable(frameToJson(first ?? {}));
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, `${JSON.stringify(json, null, 2)}\n`);
  expect(json).toEqual(JSON.parse(readFileSync(GOLDEN, "utf8")));

  await waitFor(
    () => run.received.statuses.some((s) => s.state === AgentState.AGENT_STATE_ONLINE),
    10_000,
    "online status",
  );
  await waitFor(() => run.received.inventories.length > 0, 20_000, "inventory");
  const inventory = run.received.inventories.at(-1);
  expect(inventory?.driver_version).toBe("590.48.01");
  expect(inventory?.gpus?.[0]?.name).toBe("NVIDIA H100 80GB HBM3");

  run.agent.child.kill("SIGKILL");
  await waitFor(
    () =>
      run.received.statuses.some(
        (s) => s.state === AgentState.AGENT_STATE_OFFLINE && s.reason === "connection lost",
      ),
    20_000,
    "offline last will after SIGKILL",
  );
}

describe("agent end to end", () => {
  it("publishes the capture's values through aedes and goes offline when killed", async () => {
    const broker: TestBroker = await startAedes();
    cleanups.push(() => broker.stop());
    const run = await runAgent(broker, "e2e-aedes");
    await checkFlow(run, "e2e-aedes");
  });

  it("says `stopped` on a clean stop (SIGTERM)", async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const run = await runAgent(broker, "e2e-term");
    await waitFor(
      () => run.received.frames.length >= 1,
      20_000,
      `a frame (agent output: ${run.agent.output()})`,
    );
    run.agent.child.kill("SIGTERM");
    expect(await run.agent.exited).toBe(0);
    await waitFor(
      () =>
        run.received.statuses.some(
          (s) => s.state === AgentState.AGENT_STATE_OFFLINE && s.reason === "stopped",
        ),
      10_000,
      "offline status with reason stopped",
    );
  });

  it.runIf(mosquittoAvailable())("interoperates with Mosquitto", async () => {
    const mosquitto = await startMosquitto();
    cleanups.push(() => mosquitto.stop());
    const run = await runAgent(mosquitto, "e2e-mosquitto");
    await checkFlow(run, "e2e-mosquitto");
  });
});
