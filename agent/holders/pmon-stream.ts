// The long-lived `nvidia-smi pmon -s um -d <period>` child (docs/processes.md: 0.47 % of a core
// against 11.4 % for one-shots), under its own source supervisor: restarted with backoff when it
// exits, killed when silent. Its lines are split into intervals by the PmonReader parsePmon uses
// (a repeated header, a repeated (GPU, pid) or a repeated idle GPU closes the interval being
// read), each line parsed with the last header's layout, found once per header.
import type { Logger } from "../../shared/logger.js";
import type { Clock } from "../sources/supervisor/clock.js";
import { realClock } from "../sources/supervisor/clock.js";
import type { SourceHealth } from "../sources/supervisor/health.js";
import { SourceSupervisor } from "../sources/supervisor/supervisor.js";
import { PmonReader, type PmonSample } from "./pmon.js";

export interface PmonStreamOptions {
  /** nvidia-smi's argv (the agent's `nvidia_smi`). */
  command: readonly string[];
  /** Seconds between pmon intervals (pmon accepts 1..10). */
  periodS: number;
  logger: Logger;
  clock?: Clock;
  backoffMaxMs?: number;
}

/** The last complete interval, or why there is none. */
export type PmonLatest = { sample: PmonSample; atMs: number } | { missing: string };

export class PmonStream {
  readonly sup: SourceSupervisor;
  private reader = new PmonReader();
  private latest: { sample: PmonSample; atMs: number } | undefined;
  private missing = "pmon has not answered yet";

  constructor(private readonly options: PmonStreamOptions) {
    const log = options.logger.child({ component: "agent.pmon" });
    const periodMs = options.periodS * 1000;
    this.sup = new SourceSupervisor({
      source: "pmon",
      logger: log,
      launch: async () => this.launch(),
      codes: { timeout: "GPUTEL_E_NVSMI_TIMEOUT", stuck: "GPUTEL_E_NVSMI_STUCK" },
      watchEveryMs: periodMs,
      clock: options.clock ?? realClock(),
      backoffMinMs: 1000,
      backoffMaxMs: options.backoffMaxMs ?? 60_000,
    });
  }

  start(): Promise<void> {
    return this.sup.start();
  }

  stop(): Promise<void> {
    return this.sup.stop();
  }

  health(): SourceHealth {
    return this.sup.stats();
  }

  /** The last complete interval while it is at most 3 periods old. */
  last(): PmonLatest {
    if (this.latest && this.sup.now() - this.latest.atMs <= 3 * this.options.periodS * 1000)
      return this.latest;
    return { missing: this.latest ? "pmon gave no interval within 3 periods" : this.missing };
  }

  /** One line of the child's output (public for tests). */
  push(line: string): void {
    const read = this.reader.push(line);
    if ("error" in read) {
      this.missing = read.error;
      return;
    }
    if (read.closed) this.latest = { sample: read.closed, atMs: this.sup.now() };
    if (read.data) this.sup.progress();
  }

  private launch(): void {
    const periodMs = this.options.periodS * 1000;
    this.reader = new PmonReader();
    this.sup.startStream({
      argv: [...this.options.command, "pmon", "-s", "um", "-d", String(this.options.periodS)],
      onLine: (line) => this.push(line),
      firstRecordTimeoutMs: Math.max(3 * periodMs, 10_000),
      recordTimeoutMs: 4 * periodMs,
      onTimeout: (silentMs) => {
        this.missing = `pmon printed nothing for ${silentMs} ms`;
      },
      onExit: (info) => {
        const why = info.error
          ? info.error.message
          : `pmon exited with ${info.signal ? `signal ${info.signal}` : `code ${info.code}`}`;
        this.missing = this.missing.startsWith("pmon has not") ? why : `${why}: ${this.missing}`;
        this.latest = undefined;
        return { code: "GPUTEL_E_NVSMI_EXIT", detail: this.missing };
      },
    });
  }
}
