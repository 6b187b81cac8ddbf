// A real `gputel collector` child (embedded broker on a fixed port, or an external broker), so it
// can be SIGKILLed and restarted on the same database and port.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { GPUTEL, ROOT } from "./agent-proc.js";

export interface CollectorSpec {
  database: string;
  httpPort: number;
  /** Embedded broker on this port … */
  mqttPort?: number;
  /** … or an external broker. */
  brokerUrl?: string;
  env?: NodeJS.ProcessEnv;
}

const READY = new Set(["Embedded broker listening", "Subscribed"]);

export class CollectorProc {
  private child: ChildProcess | undefined;
  private exit: Promise<number | null> = Promise.resolve(null);
  readonly output: string[] = [];
  starts = 0;

  constructor(private readonly spec: CollectorSpec) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the child and resolves once it accepts (embedded) or has subscribed (external). */
  async start(timeoutMs = 30_000): Promise<void> {
    const { spec } = this;
    const args = ["collector", "--database", spec.database, "--http", `127.0.0.1:${spec.httpPort}`];
    if (spec.brokerUrl) args.push("--broker", spec.brokerUrl);
    else args.push("--listen", `127.0.0.1:${spec.mqttPort}`);
    const child = spawn(process.execPath, [GPUTEL, ...args], {
      cwd: ROOT,
      env: { ...process.env, GPUTEL_LOG_LEVEL: "info", ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    this.starts += 1;
    this.exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`collector not ready: ${this.tail()}`)), timeoutMs);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`collector exited (${code}): ${this.tail()}`));
      });
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream }).on("line", (line) => {
          this.output.push(line);
          if (this.output.length > 5000) this.output.splice(0, 1000);
          const msg = /"msg":"([^"]*)"/.exec(line)?.[1];
          if (msg && READY.has(msg)) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
    });
    await ready;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.running) this.child?.kill(signal);
    return this.exit;
  }

  tail(lines = 20): string {
    return this.output.slice(-lines).join("\n");
  }
}
