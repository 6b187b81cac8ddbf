// Shared pieces of the scale tests: a collector configuration on temp files and free ports,
// and frames published straight to a broker (valid wire frames, as an agent sends them).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CollectorConfig, loadCollectorConfig } from "../../collector/config.js";

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
