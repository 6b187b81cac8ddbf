// Runs the compute-process query every computeAppsIntervalMs as a one-shot child (never
// overlapping itself) and hands the latest result to samples while it is fresh. The query asks
// for each process's name too, and the rows are handed to a listener (the processes part,
// agent/holders/process-watch.ts) instead of being only counted.
import type { Logger } from "../../../shared/logger.js";
import { AbsentReason, type IGpuSample } from "../../../shared/proto.js";
import type { RunOneShot } from "../supervisor/child-process.js";
import {
  applyComputeApps,
  type ComputeAppRow,
  type ComputeApps,
  countComputeApps,
  PROCESS_APPS_FIELDS,
  parseComputeAppRows,
} from "./compute-apps.js";

/** The compute-process rows of one successful poll, with when it answered (the poller's clock). */
export type ComputeRowsListener = (rows: readonly ComputeAppRow[], atMs: number) => void;

const QUERY = `--query-compute-apps=${PROCESS_APPS_FIELDS.join(",")}`;

export class ComputeAppsPoller {
  private last: { at: number; apps: ComputeApps } | undefined;
  private inFlight = false;
  private failures = 0;
  private listener: ComputeRowsListener | undefined;

  constructor(
    private readonly command: readonly string[],
    private readonly periodMs: number,
    private readonly timeoutMs: number,
    private readonly run: RunOneShot,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  get hasResult(): boolean {
    return this.last !== undefined;
  }

  /** Where the rows of each successful poll go (one listener). */
  onRows(listener: ComputeRowsListener): void {
    this.listener = listener;
  }

  async poll(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const result = await this.run(
        [...this.command, QUERY, "--format=csv,noheader,nounits"],
        this.timeoutMs,
      );
      if (result.error?.code === "ESTOPPED") return; // the source is stopping: no answer, no failure
      const rows =
        result.error || result.timedOut
          ? { ok: false as const, error: result.error?.message ?? "timed out" }
          : parseComputeAppRows(result.stdout, PROCESS_APPS_FIELDS);
      if (rows.ok) {
        const apps: ComputeApps = countComputeApps(rows.rows);
        this.last = { at: this.now(), apps };
        this.failures = 0;
        this.handOn(rows.rows, this.last.at);
      } else if (this.failures++ === 0) {
        // Logged once per run of failures; the absent fields say the rest.
        this.log.warn({ detail: rows.error }, "Compute process query failed");
      }
    } finally {
      this.inFlight = false;
    }
  }

  private handOn(rows: readonly ComputeAppRow[], atMs: number): void {
    try {
      this.listener?.(rows, atMs);
    } catch (error) {
      this.log.error({ err: error }, "Compute rows consumer threw");
    }
  }

  /** Fills compute_processes / compute_memory_mib: absent ERROR when the last poll is older than 3 periods. */
  apply(gpus: IGpuSample[]): void {
    const fresh = this.last && this.now() - this.last.at <= 3 * this.periodMs ? this.last.apps : undefined;
    const reason = this.last ? AbsentReason.ABSENT_REASON_ERROR : AbsentReason.ABSENT_REASON_NOT_QUERIED;
    applyComputeApps(gpus, fresh, reason);
  }
}
