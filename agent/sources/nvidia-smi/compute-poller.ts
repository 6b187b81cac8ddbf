// Runs the compute-process query every computeAppsIntervalMs as a one-shot child (never
// overlapping itself) and hands the latest result to samples while it is fresh.
import type { Logger } from "../../../shared/logger.js";
import { AbsentReason, type IGpuSample } from "../../../shared/proto.js";
import type { RunOneShot } from "../supervisor/child-process.js";
import { applyComputeApps, COMPUTE_APPS_QUERY, type ComputeApps, parseComputeApps } from "./compute-apps.js";

export class ComputeAppsPoller {
  private last: { at: number; apps: ComputeApps } | undefined;
  private inFlight = false;
  private failures = 0;

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

  async poll(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const result = await this.run(
        [...this.command, COMPUTE_APPS_QUERY, "--format=csv,noheader,nounits"],
        this.timeoutMs,
      );
      const apps: ComputeApps =
        result.error || result.timedOut
          ? { ok: false, error: result.error?.message ?? "timed out" }
          : parseComputeApps(result.stdout);
      if (apps.ok) {
        this.last = { at: this.now(), apps };
        this.failures = 0;
      } else if (this.failures++ === 0) {
        // Logged once per run of failures; the absent fields say the rest.
        this.log.warn({ detail: apps.error }, "Compute process query failed");
      }
    } finally {
      this.inFlight = false;
    }
  }

  /** Fills compute_processes / compute_memory_mib: absent ERROR when the last poll is older than 3 periods. */
  apply(gpus: IGpuSample[]): void {
    const fresh = this.last && this.now() - this.last.at <= 3 * this.periodMs ? this.last.apps : undefined;
    const reason = this.last ? AbsentReason.ABSENT_REASON_ERROR : AbsentReason.ABSENT_REASON_NOT_QUERIED;
    applyComputeApps(gpus, fresh, reason);
  }
}
