// A real `gputel agent` child for the reliability tests and the soak script. Its debug log line
// "Frame sampled" (host, boot_id, seq, gpus) is the record of what it produced: parsed here as
// it arrives, and kept across restarts of the same agent (same state directory, new boot id).
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";

export const ROOT = join(import.meta.dirname, "..", "..", "..");
export const GPUTEL = join(ROOT, "bin", "gputel");
export const REPLAY_CAPTURE = join(
  ROOT,
  "test/fixtures/nvidia-smi/captures/linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt",
);

export interface AgentSpec {
  host: string;
  brokerUrl: string;
  stateDir: string;
  interval: string;
  /** nvidia-smi command line (default: mock-smi replaying an H100 capture). */
  nvidiaSmi?: string;
  /** Extra agent.yaml content, e.g. { spool: { max_size: "16KiB" } }. */
  config?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Called with every output line that is not a "Frame sampled" record. */
  onLine?: (line: string, parsed: LogLine | undefined) => void;
  /** Keep every log line in memory (tests; the soak keeps only what it needs). */
  keepOutput?: boolean;
}

export interface LogLine {
  level?: string | number;
  msg?: string;
  [key: string]: unknown;
}

export interface Sampled {
  /** boot_id → seqs in the order sampled. */
  boots: Map<string, number[]>;
  /** boot_id → seq → number of GPU entries in that frame. */
  gpus: Map<string, Map<number, number>>;
}

export class AgentProc {
  readonly sampled: Sampled = { boots: new Map(), gpus: new Map() };
  readonly output: string[] = [];
  bootIds: string[] = [];
  private child: ChildProcess | undefined;
  private exit: Promise<number | null> = Promise.resolve(null);

  constructor(readonly spec: AgentSpec) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get totalSampled(): number {
    let n = 0;
    for (const seqs of this.sampled.boots.values()) n += seqs.length;
    return n;
  }

  start(): void {
    const { spec } = this;
    const configFile = join(spec.stateDir, "agent.yaml");
    const config = {
      host: spec.host,
      interval: spec.interval,
      nvidia_smi:
        spec.nvidiaSmi ?? `${process.execPath} ${GPUTEL} mock-smi --replay ${REPLAY_CAPTURE} --phase load --`,
      state_directory: spec.stateDir,
      log_level: "debug",
      broker: { url: spec.brokerUrl, keepalive: "5s" },
      ...spec.config,
    };
    writeFileSync(configFile, JSON.stringify(config));
    const child = spawn(process.execPath, [GPUTEL, "agent", "--config", configFile], {
      cwd: ROOT,
      env: { ...process.env, GPUTEL_LOG_LEVEL: "debug", ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    this.exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on("line", (line) => this.onLine(line));
    }
  }

  /** Signals the child and waits for it to exit; returns the exit code (null when killed). */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.running) this.child?.kill(signal);
    return this.exit;
  }

  async restart(): Promise<void> {
    await this.stop("SIGKILL");
    this.start();
  }

  /** Frames still in the spool file (read while the agent runs: WAL allows a second reader). */
  spoolPending(): { frames: number; droppedTotal: number } {
    const db = new Database(join(this.spec.stateDir, "spool.db"), { readonly: true, fileMustExist: true });
    try {
      const frames = (db.prepare("SELECT count(*) AS n FROM frames").get() as { n: number }).n;
      const row = db.prepare("SELECT value FROM meta WHERE key = 'dropped_total'").get() as
        | { value: number }
        | undefined;
      return { frames, droppedTotal: row?.value ?? 0 };
    } finally {
      db.close();
    }
  }

  private onLine(line: string): void {
    let parsed: LogLine | undefined;
    if (line.startsWith("{")) {
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        parsed = undefined;
      }
    }
    if (parsed?.msg === "Frame sampled") {
      const boot = String(parsed.boot_id);
      const seq = Number(parsed.seq);
      let seqs = this.sampled.boots.get(boot);
      if (!seqs) {
        seqs = [];
        this.sampled.boots.set(boot, seqs);
        this.sampled.gpus.set(boot, new Map());
        this.bootIds.push(boot);
      }
      seqs.push(seq);
      this.sampled.gpus.get(boot)?.set(seq, Number(parsed.gpus ?? 0));
      if (this.spec.keepOutput) this.output.push(line);
      return;
    }
    if (this.spec.keepOutput !== false) this.output.push(line);
    this.spec.onLine?.(line, parsed);
  }
}
