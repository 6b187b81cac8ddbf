// What a flag is, as stored, served by the API and delivered as an alert.
import type { ValidEvent } from "../ingest/validate-event.js";

export const FLAG_KINDS = [
  "idle",
  "idle-held",
  "overheat",
  "throttled",
  "stale",
  "offline",
  "lost",
  "error",
  "gpu-claim-conflict",
  "xid",
  "reset-required",
  "pcie-degraded",
  "nvlink-degraded",
] as const;
export type FlagKind = (typeof FLAG_KINDS)[number];
export type Severity = "info" | "warning" | "critical";

export type FlagValues = Record<string, number | string | boolean | null>;

export interface Flag {
  id: number;
  kind: FlagKind;
  severity: Severity;
  host: string;
  /** Null for host-level flags (stale, offline). */
  gpuUuid: string | null;
  gpuIndex: number | null;
  site: string;
  labels: Record<string, string>;
  startMs: number;
  /** Null while open. */
  endMs: number | null;
  /** A sentence with the numbers, for people. */
  reason: string;
  /** The values that triggered the flag (and, for throttled, the time lost so far). */
  values: FlagValues;
  updatedMs: number;
}

export interface FlagEvent {
  type: "opened" | "updated" | "closed";
  flag: Flag;
}

export type FlagListener = (event: FlagEvent) => void;

/** A flag before it has an id (what a rule asks to open). */
export type NewFlag = Omit<Flag, "id" | "endMs" | "updatedMs">;

export interface FlagFilter {
  kinds?: readonly FlagKind[];
  host?: string;
  site?: string;
  /** [key, value]: the agent label must be equal. */
  label?: readonly [string, string];
  /**
   * Only these GPUs' flags and these hosts' host-level flags (a model or text search resolved
   * to GPUs by the API, flag-scope.ts). Empty lists match nothing.
   */
  within?: { uuids: readonly string[]; hosts: readonly string[] };
  /** Only these severities ("problems only": warning and critical). */
  severities?: readonly Severity[];
}

export interface HistoryQuery extends FlagFilter {
  /** Episodes that overlap [fromMs, toMs]. */
  fromMs?: number;
  toMs?: number;
  /** At most this many, newest start first (default 1000, at most 10000). */
  limit?: number;
  /** Skip this many of the newest first (paging); default 0. */
  offset?: number;
}

/** An operator's acknowledgement of a flag (`gputel flag ack ID --note …`). */
export interface FlagAck {
  id: number;
  flagId: number;
  host: string;
  gpuUuid: string | null;
  kind: string;
  note: string;
  atMs: number;
  /** Who acknowledged it (the request's principal; '' for one recorded before migration 100). */
  actor: string;
}

/** When a GPU's episode (of any kind) began: what a lease line counts as its flags. */
export interface FlagStart {
  gpuUuid: string;
  startMs: number;
}

/** GPU episodes that began in [fromMs, toMs): of these GPUs only, when `uuids` is given. */
export interface FlagStartQuery {
  fromMs: number;
  toMs: number;
  uuids?: readonly string[];
}

/**
 * A GPU episode as lease parts carry it for the fan-out merge (collector/merge/merge-leases.ts):
 * enough to join the copies several collectors hold of one episode as the merged flag list joins
 * them (mergeFlagLists), so that a lease counts it once.
 */
export interface FlagEpisode {
  gpuUuid: string;
  kind: FlagKind;
  host: string;
  startMs: number;
  endMs: number | null;
  /** An xid episode's opening Xid (code, fault, action), which the join keys xid episodes by; else absent. */
  values?: FlagValues;
}

/** An Xid a share-group member keeps until its host's first frame reaches it (FlagEngine.park). */
export interface ParkedXid {
  event: ValidEvent;
  /** Collector clock when it arrived: it lapses limits.gpu_move_hold after. */
  atMs: number;
}

/** Where the parked Xids are kept across restarts (ParkedXids in collector/store/parked-xids.ts). */
export interface ParkedXidRecords {
  park(event: ValidEvent, atMs: number): void;
  /** Raised, lapsed or dropped: parked no more. */
  unpark(events: readonly ValidEvent[]): void;
  /** Those parked at or after sinceMs, in the order they were parked; the older ones go. */
  load(sinceMs: number): ParkedXid[];
}

/** Where the flag engine keeps flags and rule timers (FlagStore in collector/store/flag-store.ts). */
export interface FlagRecords {
  insert(flag: NewFlag, nowMs: number): Flag;
  update(flag: Flag): void;
  close(flag: Flag): void;
  openFlags(filter?: FlagFilter): Flag[];
  history(query?: HistoryQuery): Flag[];
  /** How many episodes of each kind the history query matches (no limit): the true totals. */
  historyCounts(query?: HistoryQuery): Map<FlagKind, number>;
  /** GPU episodes' starts alone (no labels, values nor reasons to decode): one index read. */
  flagStarts(query: FlagStartQuery): FlagStart[];
  /** GPU episodes that overlap [fromMs, toMs) (began before it too), of `uuids` when given. */
  flagEpisodes(query: FlagStartQuery): FlagEpisode[];
  loadRuleStates(): Map<string, string>;
  saveRuleStates(entries: Iterable<[string, string]>, nowMs: number): void;
  /** Records an acknowledgement; absent where acknowledgements are not kept (then ack is refused). */
  addAck?(ack: Omit<FlagAck, "id">): FlagAck;
  /** One flag by id, open or closed. */
  byId?(id: number): Flag | undefined;
  /** Runs fn in one transaction (joins the one already open). */
  transaction<T>(fn: () => T): T;
}
