// The order an operator reads open problems in: most severe first, then the kind that needs
// hands soonest (an overheating GPU before an idle one of the same severity), then the longest
// open first (an old problem is one nobody has handled yet). One comparator for the API, the
// fan-out merge and the dashboard's server-side lists.
import type { Flag, FlagKind, Severity } from "./types.js";

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, warning: 1, info: 2 };

/** Within one severity: what stops work or damages hardware first, what merely wastes it last. */
export const KIND_RANK: Readonly<Record<FlagKind, number>> = {
  // Another host claims this GPU: its numbers cannot be trusted until someone looks.
  "gpu-claim-conflict": 0,
  overheat: 1,
  // The GPU needs a reset before it can be trusted again; Xid events say why.
  "reset-required": 2,
  lost: 3,
  xid: 4,
  error: 5,
  "nvlink-degraded": 6,
  "pcie-degraded": 7,
  offline: 8,
  stale: 9,
  throttled: 10,
  "idle-held": 11,
  idle: 12,
};

type Ordered = Pick<Flag, "severity" | "kind" | "startMs" | "id" | "host" | "gpuIndex">;

function severityRank(s: string): number {
  return SEVERITY_RANK[s as Severity] ?? 3;
}

/**
 * Severity (critical first), kind rank, start (oldest first), then host, GPU index and id: a total
 * order, also over lists merged from several collectors (whose ids may repeat).
 */
export function compareProblems(a: Ordered, b: Ordered): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    (KIND_RANK[a.kind] ?? 99) - (KIND_RANK[b.kind] ?? 99) ||
    a.startMs - b.startMs ||
    (a.host < b.host ? -1 : a.host > b.host ? 1 : 0) ||
    (a.gpuIndex ?? -1) - (b.gpuIndex ?? -1) ||
    a.id - b.id
  );
}

/** Flags per kind, every kind present as a key (0 when none), so a client never guesses. */
export function countByKind(flags: readonly Pick<Flag, "kind">[]): Record<FlagKind, number> {
  const counts = Object.fromEntries(Object.keys(KIND_RANK).map((k) => [k, 0])) as Record<FlagKind, number>;
  for (const f of flags) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  return counts;
}
