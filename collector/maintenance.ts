// The collector's periodic maintenance, driven by its housekeeping timer: the flag engine's
// timers (stale hosts, quiet claims and Xids, rule-timer saves) and bounded retention steps
// (sealing silent GPUs' windows with their rollups, pruning the tiers, events and process
// sessions). Its writes wait only briefly for a lock another process holds (Store.shortWait), as
// every wait blocks the event loop: a round that finds the database locked is skipped, counted
// and logged once per period, and the next round does the work (docs/reliability.md).
import { errorMessage } from "../shared/errors.js";
import { type Logger, LogThrottle } from "../shared/logger.js";
import type { MaintenanceCounters, MaintenanceTask } from "./contract/api-contract.js";
import type { FlagEngine } from "./flags/engine.js";
import { isStoreBusy } from "./store/busy.js";
import type { Store } from "./store/store.js";

/** Retention steps per round; each is bounded (well under 50 ms) and yields between. */
const PRUNE_STEPS_PER_ROUND = 20;
/**
 * Kernel-log events and process sessions expire slowly (with the longest tier): a look once a
 * minute is enough, and a look that failed (other than on a lock) is not repeated every round.
 */
const EVENTS_PRUNE_EVERY_MS = 60_000;
/** A database locked round after round is logged once per this period, with the rounds skipped. */
const BUSY_LOG_PERIOD_MS = 60_000;

export class Maintenance {
  private readonly log: Logger;
  private readonly busyLog: LogThrottle;
  private pruning = false;
  private eventsPrunedMs = 0;
  private readonly skippedBusy: Record<MaintenanceTask, number> = { flags: 0, retention: 0 };

  constructor(
    private readonly parts: {
      store: Pick<Store, "shortWait" | "pruneEvents" | "pruneProcesses" | "pruneStep">;
      flags: Pick<FlagEngine, "tick">;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.log = parts.logger.child({ component: "collector.maintenance" });
    this.busyLog = new LogThrottle(BUSY_LOG_PERIOD_MS, parts.now ?? Date.now);
  }

  /**
   * One round: the flag timers now, then retention steps unless the last round's still run.
   * Settles when this round's retention steps are done (at once when it started none).
   */
  round(nowMs: number): Promise<void> {
    try {
      this.parts.store.shortWait(() => this.parts.flags.tick(nowMs));
    } catch (error) {
      if (!this.busy("flags", error)) this.log.error({ err: errorMessage(error) }, "Flag tick failed");
    }
    if (this.pruning) return Promise.resolve();
    this.pruning = true;
    return this.pruneSteps(nowMs).finally(() => {
      this.pruning = false;
    });
  }

  counters(): MaintenanceCounters {
    return { skippedBusy: { ...this.skippedBusy } };
  }

  private async pruneSteps(nowMs: number): Promise<void> {
    const { store } = this.parts;
    try {
      this.pruneRecords(nowMs);
      for (let i = 0; i < PRUNE_STEPS_PER_ROUND; i++) {
        if (!store.shortWait(() => store.pruneStep(nowMs)).more) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      if (!this.busy("retention", error))
        this.log.warn({ code: "GPUTEL_E_STORE", err: errorMessage(error) }, "Retention step failed");
    }
  }

  /**
   * Events and process sessions, once a minute. A lock skips the round (thrown on), to be tried
   * again next round; another failure is logged and tried again a minute on, and the tiers' steps
   * (sealing, rollups, pruning) go on without it.
   */
  private pruneRecords(nowMs: number): void {
    const { store } = this.parts;
    if (nowMs - this.eventsPrunedMs < EVENTS_PRUNE_EVERY_MS) return;
    try {
      store.shortWait(() => {
        store.pruneEvents(nowMs);
        store.pruneProcesses(nowMs);
      });
    } catch (error) {
      if (isStoreBusy(error)) throw error;
      this.log.warn({ code: "GPUTEL_E_STORE", err: errorMessage(error) }, "Retention step failed");
    }
    this.eventsPrunedMs = nowMs;
  }

  /** A write that found the database locked: counted, logged once per period; true if it was one. */
  private busy(task: MaintenanceTask, error: unknown): boolean {
    if (!isStoreBusy(error)) return false;
    this.skippedBusy[task] += 1;
    const suppressed = this.busyLog.admit(task);
    if (suppressed !== undefined)
      this.log.warn(
        { code: "GPUTEL_E_STORE", task, skipped: this.skippedBusy[task], suppressed },
        "Maintenance skipped: another process holds the database's write lock; retrying next round",
      );
    return true;
  }
}
