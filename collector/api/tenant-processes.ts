// Process sessions as one tenant sees them (pure): only those on the devices it leased, once per
// stay of its own a session overlaps (TenantScope.staysOf, as its flags are), each piece clipped
// to that stay at both ends: a session that ran across two of its leases with another tenant's
// between shows twice, never over the other tenant's time, and its pieces add up to the tenant's
// own time with it.
import type { ProcessRow } from "../store/process-store.js";
import { type LeasePeriod, stayPieceId, type TenantScope } from "./tenant-scope.js";

export interface TenantProcessView {
  nowMs: number;
  /** Current sessions: only the piece of the stay the tenant is in now. */
  current: boolean;
  /** Keeps the pieces that meet [fromMs, toMs), as the store reads sessions. */
  range?: { fromMs: number; toMs: number };
  /** At most this many pieces. */
  limit?: number;
}

/**
 * The pieces of these sessions the tenant may see, in the sessions' order, a session's pieces
 * newest first. The first (oldest) piece keeps the session's id, the n-th after it reads
 * `id + n·2^32` (stayPieceId, as a flag's). A session on a MIG device is the tenant's during its
 * stays on that device or on the whole GPU.
 */
export function tenantProcesses(
  scope: TenantScope,
  rows: readonly ProcessRow[],
  view: TenantProcessView,
): ProcessRow[] {
  const out: ProcessRow[] = [];
  const { nowMs, range } = view;
  for (const r of rows) {
    const devices = r.migUuid !== null ? [r.migUuid, r.gpuUuid] : [r.gpuUuid];
    // lastSeenMs is a sighting (inclusive): the session spans [firstSeenMs, lastSeenMs + 1).
    const pieces = scope
      .staysOf(devices, r.firstSeenMs, r.lastSeenMs + 1)
      .map((stay, n) => ({ stay, piece: clipSession({ ...r, id: stayPieceId(r.id, n) }, stay) }))
      .filter(
        ({ stay, piece }) =>
          (!view.current || (stay.startMs <= nowMs && nowMs < stay.endMs)) &&
          (!range || (piece.lastSeenMs >= range.fromMs && piece.firstSeenMs < range.toMs)),
      );
    for (const { piece } of pieces.reverse()) out.push(piece);
  }
  return view.limit === undefined ? out : out.slice(0, view.limit);
}

/** The session within one stay: from its start (or the session's) to its last instant inside it. */
function clipSession(r: ProcessRow, stay: LeasePeriod): ProcessRow {
  // The last instant inside [start, end) is end - 1.
  const lastSeenMs = Math.min(r.lastSeenMs, stay.endMs - 1);
  const cut = lastSeenMs < r.lastSeenMs;
  return {
    ...r,
    firstSeenMs: Math.max(r.firstSeenMs, stay.startMs),
    lastSeenMs,
    ...(cut ? { open: false } : {}),
    stayStartMs: stay.startMs,
  };
}
