// The long-lived `nvidia-smi pmon -s um -d <period>` child (docs/processes.md: 0.47 % of a core
// against 11.4 % for one-shots), under its own source supervisor: restarted with backoff when it
// exits, killed when silent. Its lines are split into intervals here: a repeated header, a
// repeated (GPU, pid) or a repeated idle GPU closes the interval being read. Each line is parsed
// on its own with the last header's layout (found once per header), so a line costs one split.
import type { Logger } from "../../shared/logger.js";
import type { Clock } from "../sources/supervisor/clock.js";
import { realClock } from "../sources/supervisor/clock.js";
import type { SourceHealth } from "../sources/supervisor/health.js";
import { SourceSupervisor } from "../sources/supervisor/supervisor.js";
import { type PmonLayout, type PmonSample, parsePmonLine, pmonHeader } from "./pmon.js";

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
  /** The last header's columns: each line is parsed with them. */
  private layout: PmonLayout | undefined;
  private current: PmonSample = { rows: [], idleGpus: [] };
  private seen = new Set<string>();
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
    const trimmed = line.trim();
    if (trimmed === "") return;
    if (trimmed.startsWith("#")) {
      const layout = pmonHeader(trimmed);
      if (layout) {
        this.close();
        this.layout = layout;
      }
      return;
    }
    const parsed = parsePmonLine(this.layout, trimmed);
    if ("error" in parsed) {
      this.missing = parsed.error;
      return;
    }
    const key = "idleGpu" in parsed ? `idle/${parsed.idleGpu}` : `${parsed.row.gpuIndex}/${parsed.row.pid}`;
    if (this.seen.has(key)) this.close();
    this.seen.add(key);
    if ("idleGpu" in parsed) this.current.idleGpus.push(parsed.idleGpu);
    else this.current.rows.push(parsed.row);
    this.sup.progress();
  }

  /** Closes the interval being read: it becomes the latest. */
  private close(): void {
    if (this.current.rows.length > 0 || this.current.idleGpus.length > 0)
      this.latest = { sample: this.current, atMs: this.sup.now() };
    this.current = { rows: [], idleGpus: [] };
    this.seen = new Set();
  }

  private launch(): void {
    const periodMs = this.options.periodS * 1000;
    this.layout = undefined;
    this.current = { rows: [], idleGpus: [] };
    this.seen = new Set();
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
