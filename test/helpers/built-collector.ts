// The built collector (bin/gputel → dist/) as a real process on free loopback ports, with a fresh
// database in a temporary folder: for the tests that run the CLI against it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnGputel } from "./cli.js";
import { freePort, waitFor } from "./net.js";

export interface BuiltCollector {
  /** The HTTP API's base URL. */
  url: string;
  /** SIGTERM, wait for the exit, remove the folder. */
  stop(): Promise<void>;
}

/** Starts `gputel collector` and resolves once its API answers. */
export async function startBuiltCollector(prefix: string): Promise<BuiltCollector> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const [mqtt, http] = [await freePort(), await freePort()];
  const config = join(dir, "collector.yaml");
  writeFileSync(
    config,
    `database: ${join(dir, "c.db")}\nbroker:\n  listen: 127.0.0.1:${mqtt}\nhttp:\n  listen: 127.0.0.1:${http}\n`,
  );
  const collector = spawnGputel(["collector", "--config", config]);
  const url = `http://127.0.0.1:${http}`;
  const stop = async () => {
    collector.child.kill("SIGTERM");
    await collector.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => (await fetch(`${url}/api/v1/hosts`).catch(() => undefined))?.ok === true,
      30_000,
      "the collector's API",
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
