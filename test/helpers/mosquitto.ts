// A real Mosquitto for tests: started on a free loopback port with a config in a temp dir.
// Required when GPUTEL_REQUIRE_MOSQUITTO=1 (missing binary fails); otherwise tests skip with a message.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./net.js";

export const MOSQUITTO_BIN = process.env.GPUTEL_MOSQUITTO ?? "/usr/sbin/mosquitto";

/** Whether Mosquitto tests run here; throws when required but missing. */
export function mosquittoAvailable(): boolean {
  if (existsSync(MOSQUITTO_BIN)) return true;
  if (process.env.GPUTEL_REQUIRE_MOSQUITTO === "1") {
    throw new Error(`GPUTEL_REQUIRE_MOSQUITTO=1 but ${MOSQUITTO_BIN} is missing (apt-get install mosquitto)`);
  }
  console.warn(
    `Mosquitto tests skipped: ${MOSQUITTO_BIN} not found (set GPUTEL_REQUIRE_MOSQUITTO=1 to require it)`,
  );
  return false;
}

export interface MosquittoOptions {
  /** Extra mosquitto.conf lines (e.g. "max_queued_messages 100000"). */
  extraConfig?: string[];
  /** Keep sessions and queued messages across a broker restart (persistence in the temp dir). */
  persistence?: boolean;
}

export interface Mosquitto {
  url: string;
  port: number;
  dir: string;
  /** The broker's stderr/stdout so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await mkdtemp(join(tmpdir(), "gputel-mosquitto-"));
  const port = await freePort();
  const config = [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    options.persistence ? `persistence true\npersistence_location ${dir}/` : "persistence false",
    // Started as root, Mosquitto drops to the user `mosquitto`, which cannot write our root-owned
    // temp dir: persistence would silently keep nothing. Stay root for these test brokers.
    ...(process.getuid?.() === 0 ? ["user root"] : []),
    "log_dest stderr",
    "log_type error",
    "log_type warning",
    ...(options.extraConfig ?? []),
  ];
  const configFile = join(dir, "mosquitto.conf");
  await writeFile(configFile, `${config.join("\n")}\n`);
  let output = "";
  const child: ChildProcess = spawn(MOSQUITTO_BIN, ["-c", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d) => {
    output += String(d);
  });
  child.stderr?.on("data", (d) => {
    output += String(d);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitListening(port, child, () => output);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitListening(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
