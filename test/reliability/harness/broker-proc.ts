// A Mosquitto that can be killed, paused and restarted on the SAME port with the SAME persistence
// directory (test/helpers/mosquitto.ts picks a new port and deletes its directory on stop).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { MOSQUITTO_BIN } from "../../helpers/mosquitto.js";

export interface BrokerProcOptions {
  dir: string;
  port: number;
  /** Extra mosquitto.conf lines. */
  extraConfig?: string[];
}

export class BrokerProc {
  private child: ChildProcess | undefined;
  private exit: Promise<void> = Promise.resolve();
  private text = "";
  readonly url: string;

  constructor(private readonly options: BrokerProcOptions) {
    this.url = `mqtt://127.0.0.1:${options.port}`;
  }

  get output(): string {
    return this.text;
  }

  async start(): Promise<void> {
    const { dir, port } = this.options;
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, "mosquitto.conf");
    const config = [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      // Run as root, Mosquitto drops to the user "mosquitto", which cannot write a root-owned
      // persistence directory: it then logs "Error saving in-memory database" and keeps nothing.
      ...(process.getuid?.() === 0 ? ["user root"] : []),
      "persistence true",
      `persistence_location ${dir}/`,
      // Queues for an away collector must not overflow (docs/design.md §9: the default 1000 loses data).
      "max_queued_messages 10000000",
      "max_queued_bytes 0",
      "max_inflight_messages 2000",
      "set_tcp_nodelay true",
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      ...(this.options.extraConfig ?? []),
    ];
    writeFileSync(configFile, `${config.join("\n")}\n`);
    const child = spawn(MOSQUITTO_BIN, ["-c", configFile], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.exit = new Promise((resolve) => child.once("exit", () => resolve()));
    child.stdout?.on("data", (d) => {
      this.text += String(d);
    });
    child.stderr?.on("data", (d) => {
      this.text += String(d);
    });
    await this.waitListening(child);
  }

  /** SIGTERM saves the persistence file; SIGKILL loses what changed since the last autosave. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      if (signal !== "SIGCONT") child.kill("SIGCONT");
      child.kill(signal);
    }
    await this.exit;
    this.child = undefined;
  }

  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  resume(): void {
    this.child?.kill("SIGCONT");
  }

  private async waitListening(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${this.text}`);
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect(this.options.port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => resolve(false));
      });
      if (open) return;
      if (Date.now() > deadline)
        throw new Error(`mosquitto did not listen on ${this.options.port}: ${this.text}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
