// What the process routes read: the store's process sessions and the flag engine's idle-held
// episodes (for the report). Reads go through the store's methods (its SQL stays in
// collector/store).
import type { FlagEngine } from "../flags/engine.js";
import { type ProcessGroup, type ProcessReport, processReport } from "../reports/process-report.js";
import type { DeviceWindow, ProcessQuery, ProcessRow } from "../store/process-store.js";
import type { Store } from "../store/store.js";

/** Sessions a report reads at most (a week of a large fleet's churn fits). */
export const REPORT_SESSIONS = 200_000;
const REPORT_FLAGS = 10_000;

export interface ProcessBackend {
  /** Current sessions (`current`) or the history overlapping [fromMs, toMs). */
  list(query: Omit<ProcessQuery, "currentSinceMs">, current: boolean): ProcessRow[];
  /**
   * GPU-hours and idle-held hours grouped `by`; `visible` keeps only the sessions (clipped) a
   * tenant may see.
   */
  report(
    range: { fromMs: number; toMs: number },
    by: ProcessGroup,
    visible?: (rows: ProcessRow[]) => ProcessRow[],
    within?: readonly DeviceWindow[],
  ): ProcessReport;
}

export class StoreProcessBackend implements ProcessBackend {
  constructor(
    private readonly parts: {
      store: Store;
      flags: Pick<FlagEngine, "history">;
      now?: () => number;
    },
  ) {}

  list(query: Omit<ProcessQuery, "currentSinceMs">, current: boolean): ProcessRow[] {
    const store = this.parts.store.processes();
    if (!current) return store.query(query);
    const { fromMs: _f, toMs: _t, ...rest } = query;
    return store.current({ ...rest, nowMs: (this.parts.now ?? Date.now)() });
  }

  report(
    range: { fromMs: number; toMs: number },
    by: ProcessGroup,
    visible: (rows: ProcessRow[]) => ProcessRow[] = (rows) => rows,
    within?: readonly DeviceWindow[],
  ): ProcessReport {
    const query = { ...range, limit: REPORT_SESSIONS, ...(within ? { within } : {}) };
    const sessions = visible(this.parts.store.processes().query(query));
    const idle = this.parts.flags
      .history({ kinds: ["idle-held"], fromMs: range.fromMs, toMs: range.toMs, limit: REPORT_FLAGS })
      .flatMap((f) =>
        f.gpuUuid === null ? [] : [{ gpuUuid: f.gpuUuid, startMs: f.startMs, endMs: f.endMs }],
      );
    return processReport(sessions, idle, range, by);
  }
}
