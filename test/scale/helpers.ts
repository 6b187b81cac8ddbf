// Shared pieces of the scale tests: a collector configuration on temp files and free ports,
// and frames published straight to a broker (valid wire frames, as an agent sends them).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CollectorConfig, loadCollectorConfig } from "../../collector/config.js";
import type { MetricKey } from "../../shared/metrics.js";
import type { IFrame } from "../../shared/proto.js";
import { makeFrame } from "../collector/ingest/frames.js";

export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A collector configuration from dotted-path overrides (no file, no environment). */
export function collectorConfig(overrides: Record<string, unknown>): CollectorConfig {
  const loaded = loadCollectorConfig({
    env: {},
    touchFiles: false,
    overrides: {
      "broker.listen": "127.0.0.1:0",
      "http.listen": "127.0.0.1:0",
      log_level: "silent",
      ...overrides,
    },
  });
  if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded.problems)}`);
  return loaded.config;
}

/** The metrics the remote_write receiver tests read back. */
export const REMOTE_WRITE_KEYS: MetricKey[] = [
  "power_draw_watts",
  "utilization_gpu_pct",
  "temperature_gpu_celsius",
  "fan_speed_pct",
];

/** Values that change per frame (remote_write receiver tests); the fan is absent on odd sequence numbers. */
export function remoteWriteFrame(host: string, seq: number, ts: number, bootId: string): IFrame {
  const f = makeFrame(host, seq, { gpus: 2, timestampMs: ts, bootId });
  for (const g of f.gpus ?? []) {
    const i = g.index ?? 0;
    g.uuid = `GPU-${host}-${i}`;
    g.power_draw_watts = 100 + seq * 1.25 + i;
    g.utilization_gpu_pct = (seq * 7 + i) % 101;
    g.temperature_gpu_celsius = 40 + (seq % 30);
    g.fan_speed_pct = seq % 2 === 0 ? 30 + i : undefined;
  }
  return f;
}
