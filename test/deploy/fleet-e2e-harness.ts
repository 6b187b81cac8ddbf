// Parts for the fleet end-to-end test: the real collector in this process on the real config
// loader, real `gputel agent` children with their secrets in files, and hand-made frames for
// the attacks an agent's own code would never send.
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCollectorConfig } from "../../collector/config.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { encodeFrameBatch } from "../../shared/codec.js";
import { createLogger } from "../../shared/logger.js";
import { GpuState, type IFrame, SCHEMA_VERSION } from "../../shared/proto.js";
import { ROOT, type Spawned, spawnGputel } from "../helpers/cli.js";
import { makeCert, makePki } from "./fleet-broker.js";

export const H100 = join(
  ROOT,
  "test/fixtures/nvidia-smi/captures/linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt",
);
/** The GPU of the H100 capture. */
export const H100_UUID = "GPU-00000000-0000-0000-0000-000000000000";

/** Broker accounts: two agents and the collector user the shipped ACL names. */
export const FLEET_USERS = { "gpu-a": "pw-gpu-a", "gpu-b": "pw-gpu-b", "gputel-collector": "pw-collector" };

/** A temp dir for everything (PKI, password files, databases, state dirs); remove() deletes it all. */
export class Workspace {
  readonly pki = makePki();
  readonly dir = mkdtempSync(join(tmpdir(), "gputel-fleet-e2e-"));

  constructor() {
    for (const name of ["gpu-a", "gpu-b", "gputel-collector"]) makeCert(this.pki, name, name, "ca");
  }

  /** A file holding `text` as `echo` writes it (with the trailing newline secrets files have). */
  secret(name: string, text: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, `${text}\n`, { mode: 0o600 });
    return file;
  }

  path(name: string): string {
    return join(this.pki, name);
  }

  subdir(name: string): string {
    const dir = join(this.dir, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.pki, { recursive: true, force: true });
  }
}

export interface TestCollector {
  running: RunningCollector;
  log(): string;
}

/** startCollector in this process from loadCollectorConfig, like `gputel collector` does. */
export async function startTestCollector(
  ws: Workspace,
  name: string,
  url: string,
  mtls: boolean,
  extra: Record<string, unknown> = {},
): Promise<TestCollector> {
  const overrides: Record<string, unknown> = {
    database: join(ws.subdir(name), "collector.db"),
    "http.listen": "127.0.0.1:0",
    "broker.mode": "external",
    "broker.url": url,
    "broker.username": "gputel-collector",
    "broker.password_file": ws.secret(`${name}-password`, FLEET_USERS["gputel-collector"]),
    "broker.ca_file": ws.path("ca.pem"),
    "broker.client_id": `gputel-collector-${name}`,
  };
  if (mtls) {
    overrides["broker.cert_file"] = ws.path("gputel-collector.pem");
    overrides["broker.key_file"] = ws.path("gputel-collector.key");
  }
  Object.assign(overrides, extra);
  for (const [key, value] of Object.entries(extra)) if (value === undefined) delete overrides[key];
  const loaded = loadCollectorConfig({ env: {}, overrides });
  if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded.problems)}`);
  let text = "";
  const destination = {
    write(chunk: string) {
      text += chunk;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const logger = createLogger({ host: name }, { level: "info", destination });
  return { running: await startCollector(loaded.config, logger), log: () => text };
}

export interface AgentSecrets {
  /** Written to a file passed as GPUTEL_BROKER_PASSWORD_FILE. */
  password: string;
  /** Client certificate and key (PKI file base names) for mutual TLS. */
  cert?: string;
}

/** `gputel agent` on the H100 capture, its secrets and TLS files through GPUTEL_* variables. */
export function spawnAgent(
  ws: Workspace,
  name: string,
  host: string,
  url: string,
  secrets: AgentSecrets,
): Spawned {
  const env: NodeJS.ProcessEnv = {
    GPUTEL_BROKER_PASSWORD_FILE: ws.secret(`${name}-password`, secrets.password),
    GPUTEL_BROKER_CA_FILE: ws.path("ca.pem"),
  };
  if (secrets.cert) {
    env.GPUTEL_BROKER_CERT_FILE = ws.path(`${secrets.cert}.pem`);
    env.GPUTEL_BROKER_KEY_FILE = ws.path(`${secrets.cert}.key`);
  }
  return spawnGputel(
    [
      "agent",
      "--config",
      "/dev/null",
      "--nvidia-smi",
      `${join(ROOT, "bin/gputel")} mock-smi --replay ${H100} --`,
      "--broker",
      url,
      "--host",
      host,
      "--interval",
      "200ms",
      "--state-dir",
      ws.subdir(`${name}-state`),
    ],
    env,
  );
}

/** SIGTERM, then SIGKILL if it has not exited within the deadline. */
export async function stopAgent(agent: Spawned, graceMs = 5_000): Promise<void> {
  if (agent.child.exitCode !== null || agent.child.signalCode !== null) return;
  agent.child.kill("SIGTERM");
  const timer = setTimeout(() => agent.child.kill("SIGKILL"), graceMs);
  await agent.exited;
  clearTimeout(timer);
}

/** A valid one-frame FrameBatch claiming `host`, with a marker boot id and GPU temperature. */
export function markedBatch(
  host: string,
  marker: { uuid: string; temperature: number },
): { bootId: string; payload: Buffer } {
  const bootId = `marker-${randomUUID()}`;
  const frame: IFrame = {
    schema_version: SCHEMA_VERSION,
    host,
    boot_id: bootId,
    seq: 1,
    timestamp_ms: Date.now(),
    interval_ms: 200,
    gpus: [
      {
        index: 0,
        uuid: marker.uuid,
        state: GpuState.GPU_STATE_OK,
        temperature_gpu_celsius: marker.temperature,
        utilization_gpu_pct: 99,
      },
    ],
  };
  return { bootId, payload: Buffer.from(encodeFrameBatch([frame])) };
}
