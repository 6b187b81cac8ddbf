// What the process routes read: the store's process sessions and the flag engine's idle-held
// episodes (for the report). Reads go through the store's methods (its SQL stays in
// collector/store).
import type { PartSession, ProcessPart } from "../contract/api-contract.js";
import type { FlagEngine } from "../flags/engine.js";
import { mergeProcessReport } from "../merge/list-answers.js";
import type { ProcessGroup, ProcessReport } from "../reports/process-report.js";
import { flagsIn } from "../reports/reports.js";
import type { DeviceWindow, ProcessQuery, ProcessRow } from "../store/process-store.js";
import type { Store } from "../store/store.js";

/** Sessions a report reads at most (a week of a large fleet's churn fits). */
export const REPORT_SESSIONS = 200_000;

/** Hosts a current process list speaks for, by whether their newest process set is recent. */
export interface HostsBySets {
  silent: string[];
  reporting: string[];
}

/** A process list cut at its limit, and whether the store held more sessions than it gives. */
export interface ProcessList {
  rows: ProcessRow[];
  truncated: boolean;
}

export interface ProcessBackend {
  /** Current sessions (`current`) or the history overlapping [fromMs, toMs), at most `limit`. */
  list(query: Omit<ProcessQuery, "currentSinceMs">, current: boolean): ProcessList;
  /**
   * Of these hosts (undefined: every host known), those that sent no process set recent enough to
   * say what runs now (`silent`) and the others (`reporting`), each sorted.
   */
  hostsBySets(hosts?: Iterable<string>): HostsBySets;
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
  /**
   * What the report reads, for a collector that merges it with its peers' (PROCESS_PART_PATH):
   * the sessions (those `visible` keeps) and the idle-held episodes over the range.
   */
  part(
    range: { fromMs: number; toMs: number },
    visible?: (rows: ProcessRow[]) => ProcessRow[],
    within?: readonly DeviceWindow[],
  ): ProcessPart;
}

/** A session as a process part carries it: what the report reads and its identity. */
function partSession(r: ProcessRow): PartSession {
  return {
    host: r.host,
    gpuUuid: r.gpuUuid,
    migUuid: r.migUuid,
    pid: r.pid,
    startMs: r.startMs,
    user: r.user,
    jobId: r.jobId,
    podUid: r.podUid,
    containerId: r.containerId,
    firstSeenMs: r.firstSeenMs,
    lastSeenMs: r.lastSeenMs,
    ...(r.stayStartMs !== undefined ? { stayStartMs: r.stayStartMs } : {}),
  };
}

export class StoreProcessBackend implements ProcessBackend {
  constructor(
    private readonly parts: {
      store: Store;
      flags: Pick<FlagEngine, "history">;
      now?: () => number;
    },
  ) {}

  list(query: Omit<ProcessQuery, "currentSinceMs">, current: boolean): ProcessList {
    const store = this.parts.store.processes();
    // One more than asked tells whether the list was cut.
    const more = { ...query, limit: query.limit + 1 };
    const { fromMs: _f, toMs: _t, ...rest } = more;
    const rows = current
      ? store.current({ ...rest, nowMs: (this.parts.now ?? Date.now)() })
      : store.query(more);
    if (rows.length <= query.limit) return { rows, truncated: false };
    // The one read past the limit is the one the store's order (newest sighting, then newest row,
    // first) puts last; a current list is sorted by memory, so it is found, not the list's last.
    const past = rows.reduce((a, b) =>
      b.lastSeenMs < a.lastSeenMs || (b.lastSeenMs === a.lastSeenMs && b.id < a.id) ? b : a,
    );
    return { rows: rows.filter((r) => r !== past), truncated: true };
  }

  hostsBySets(hosts?: Iterable<string>): HostsBySets {
    const { store } = this.parts;
    const recent = store.processes().reportingHosts((this.parts.now ?? Date.now)());
    // The host table's names, not the API's host views: those read every GPU's latest values.
    const known = [...new Set(hosts ?? store.hostRows().map((h) => h.name))].sort();
    return { silent: known.filter((h) => !recent.has(h)), reporting: known.filter((h) => recent.has(h)) };
  }

  report(
    range: { fromMs: number; toMs: number },
    by: ProcessGroup,
    visible?: (rows: ProcessRow[]) => ProcessRow[],
    within?: readonly DeviceWindow[],
  ): ProcessReport {
    // One collector's report is the merge of its own part alone: the same function as with peers.
    return mergeProcessReport([this.part(range, visible, within)], by);
  }

  part(
    range: { fromMs: number; toMs: number },
    visible: (rows: ProcessRow[]) => ProcessRow[] = (rows) => rows,
    within?: readonly DeviceWindow[],
  ): ProcessPart {
    // One more than read tells whether sessions seen earlier in the range were left out.
    const query = { ...range, limit: REPORT_SESSIONS + 1, ...(within ? { within } : {}) };
    const rows = this.parts.store.processes().query(query);
    const sessions = visible(rows.slice(0, REPORT_SESSIONS)).map(partSession);
    // Every episode of the range, paged: one read's 10,000 newest are a few hours of a large
    // fleet's, and the sessions' older idle-held time went uncounted. A tenant's: its GPUs' only.
    const gpus = within ? { within: { uuids: [...new Set(within.map((w) => w.gpu))], hosts: [] } } : {};
    const idle = flagsIn(this.parts.flags, range.fromMs, range.toMs, { kinds: ["idle-held"], ...gpus }).map(
      (f) => ({
        kind: f.kind,
        host: f.host,
        gpuUuid: f.gpuUuid,
        startMs: f.startMs,
        endMs: f.endMs,
        updatedMs: f.updatedMs,
      }),
    );
    return { ...range, sessions, idle, truncated: rows.length > REPORT_SESSIONS };
  }
}
