// Parts the issue-13 attack tests share: wire messages an agent's own code would never send, and
// reads of the real collector's database and HTTP API.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { hashPassword } from "../../collector/broker/password-hash.js";
import { loadCollectorConfig } from "../../collector/config.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { encodeFrameBatch, encodeInventory } from "../../shared/codec.js";
import { createLogger } from "../../shared/logger.js";
import { GpuState, type IFrame, type IGpuInfo, SCHEMA_VERSION } from "../../shared/proto.js";

/** One frame of `host` with these GPUs (uuid → GPU temperature, the marker read back). */
export function frameOf(host: string, seq: number, gpus: Record<string, number>, bootId = "boot-1"): IFrame {
  return {
    schema_version: SCHEMA_VERSION,
    host,
    boot_id: bootId,
    seq,
    timestamp_ms: Date.now() - 60_000 + seq,
    interval_ms: 1000,
    gpus: Object.entries(gpus).map(([uuid, temperature], index) => ({
      index,
      uuid,
      state: GpuState.GPU_STATE_OK,
      temperature_gpu_celsius: temperature,
      utilization_gpu_pct: 50,
    })),
  };
}

export function batchOf(host: string, seq: number, gpus: Record<string, number>): Buffer {
  return Buffer.from(encodeFrameBatch([frameOf(host, seq, gpus)]));
}

/** An inventory of `host` listing these GPUs (uuid → model name). */
export function inventoryOf(
  host: string,
  gpus: Record<string, string>,
  extra: Partial<IGpuInfo> = {},
): Buffer {
  return Buffer.from(
    encodeInventory({
      schema_version: SCHEMA_VERSION,
      host,
      timestamp_ms: Date.now(),
      driver_version: "590.48.01",
      gpus: Object.entries(gpus).map(([uuid, name], index) => ({
        index,
        uuid,
        name,
        serial: `SN-${uuid}`,
        ...extra,
      })),
    }),
  );
}

export async function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

/** Reject counters by reason, from the database (persisted counters, all hosts). */
export function rejected(collector: RunningCollector, reason: string): number {
  return collector.store
    .rejectCounts()
    .filter((r) => r.reason === reason)
    .reduce((n, r) => n + r.count, 0);
}

/** The GPU's inventory history: host, model and why it moved, oldest first. */
export function inventoryHistory(
  collector: RunningCollector,
  uuid: string,
): { host: string; model: string; moveReason: string | null; open: boolean }[] {
  return (
    collector.store.db
      .prepare(
        "SELECT h.name AS host, i.model AS model, i.move_reason AS moveReason, i.valid_to_ms IS NULL AS open FROM gpu_inventory i JOIN gpus g ON g.id = i.gpu_id JOIN hosts h ON h.id = i.host_id WHERE g.uuid = ? ORDER BY i.id",
      )
      .all(uuid) as { host: string; model: string; moveReason: string | null; open: number }[]
  ).map((r) => ({ ...r, open: r.open === 1 }));
}

export async function getJson(
  port: number | undefined,
  path: string,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.json() };
}

export interface EmbeddedCollector {
  running: RunningCollector;
  url: string;
  log(): string;
  /** Log lines (pino JSON) with this message. */
  lines(msg: string): Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * The real collector in this process, as `gputel collector` starts it (config loader, embedded
 * broker on a free loopback port, SQLite file in a temp dir), its log captured.
 */
export async function startEmbeddedCollector(
  overrides: Record<string, unknown> = {},
  users?: Record<string, string>,
): Promise<EmbeddedCollector> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-security-"));
  const all: Record<string, unknown> = {
    database: join(dir, "collector.db"),
    "http.listen": "127.0.0.1:0",
    "broker.listen": "127.0.0.1:0",
    ...overrides,
  };
  if (users) {
    const file = join(dir, "users");
    // The users file holds scrypt hashes only (a plaintext entry stops start-up).
    const lines = await Promise.all(
      Object.entries(users).map(async ([u, p]) => `${u}:${await hashPassword(p)}\n`),
    );
    writeFileSync(file, lines.join(""), { mode: 0o600 });
    all["broker.users_file"] = file;
  }
  const loaded = loadCollectorConfig({ env: {}, overrides: all });
  if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded.problems)}`);
  let text = "";
  const destination = {
    write(chunk: string) {
      text += chunk;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const running = await startCollector(loaded.config, createLogger({}, { level: "info", destination }));
  return {
    running,
    url: `mqtt://127.0.0.1:${running.mqttPort}`,
    log: () => text,
    lines: (msg) =>
      text
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === msg),
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
