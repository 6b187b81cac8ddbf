// Pure: the GPU, flag and process list answers of several collectors → the answer one collector holding
// every sample gives to the same query and limit: merged (merge-lists.ts), cut to the limit in the
// API's order, with totals that count every GPU and episode once. The fan-out (http.peers) and
// `gputel query --url a,b` both answer through these.
import type { ProcessPart } from "../contract/api-contract.js";
import { countByKind } from "../flags/order.js";
import type { Flag } from "../flags/types.js";
import { type ProcessGroup, type ProcessReport, processReport } from "../reports/process-report.js";
import {
  type MergeableFlag,
  type MergeableGpu,
  type MergeableProcess,
  mergeFlagAnswers,
  mergeFlagLists,
  mergeGpuLists,
  mergeProcessLists,
  sumKindTotals,
  withDurations,
} from "./merge-lists.js";

/** A GPU with what the `state` and `flag` filters read. */
export interface FilterableGpu extends MergeableGpu {
  state: string;
  flags: readonly { kind: string }[];
}

/**
 * One GPU list. The `state` and `flag` filters read one collector's view of a GPU (its latest
 * sample, its open flags), and a collector that knows a GPU only from its inventory holds it as
 * "unknown" with no flags: so they apply here, to each GPU's newest copy, and the lists merged
 * must not be filtered by them. The total is exact when every list came whole (none truncated).
 */
export function mergeGpuAnswers<G extends FilterableGpu>(
  answers: readonly { gpus: readonly G[]; truncated?: boolean | undefined }[],
  filter: { state?: string | undefined; flag?: string | undefined },
  limit: number,
): { total: number; truncated: boolean; gpus: G[] } {
  const { state, flag } = filter;
  const all = mergeGpuLists(answers.map((a) => a.gpus)).filter(
    (g) =>
      (state === undefined || g.state === state) &&
      (flag === undefined || g.flags.some((f) => f.kind === flag)),
  );
  return {
    total: all.length,
    truncated: all.length > limit || answers.some((a) => a.truncated === true),
    gpus: all.slice(0, limit),
  };
}

type ListedFlag = MergeableFlag & Pick<Flag, "severity" | "id" | "gpuIndex">;

/**
 * One flag list from answers to the same query, each cut at `limit` in the API's order, so the
 * first `limit` merged episodes are among them. Totals: every list came whole, the merged list
 * counted (an episode several collectors hold, as a host's offline status, counts once); a list
 * was cut, the sums of the collectors' totals, left out when one gave none.
 */
export function mergeFlagPages<F extends ListedFlag>(
  answers: readonly {
    flags: readonly F[];
    truncated?: boolean | undefined;
    totalsByKind?: Record<string, number> | undefined;
  }[],
  state: string,
  limit: number,
  nowMs: number,
): {
  truncated: boolean;
  total?: number;
  totalsByKind?: Record<string, number>;
  flags: (F & { durationMs: number })[];
} {
  const merged = mergeFlagAnswers(
    answers.map((a) => a.flags),
    state,
  );
  const cut = answers.some((a) => a.truncated === true);
  const totals = cut ? sumKindTotals(answers.map((a) => a.totalsByKind)) : countByKind(merged);
  return {
    truncated: merged.length > limit || cut,
    ...(totals ? { total: Object.values(totals).reduce((a, b) => a + b, 0), totalsByKind: totals } : {}),
    flags: withDurations(merged.slice(0, limit), nowMs),
  };
}

/**
 * One process list from answers to the same query, each cut at `limit` newest first (the store's
 * order), so the `limit` newest merged sessions are among them: merged (a session on several
 * collectors once), cut at `limit`; current holders then biggest memory first, as one collector
 * lists them. `truncated` when the merge cut it or any list came cut (no total: a session several
 * collectors hold would count in each one's, and a cut list's sessions past it are unknown).
 */
export function mergeProcessAnswers<P extends MergeableProcess & { memoryMib: number | null }>(
  answers: readonly { processes: readonly P[]; truncated?: boolean | undefined }[],
  current: boolean,
  limit: number,
): { truncated: boolean; processes: P[] } {
  const merged = mergeProcessLists(answers.map((a) => a.processes));
  const cut = merged.slice(0, limit);
  return {
    truncated: merged.length > limit || answers.some((a) => a.truncated === true),
    processes: current ? cut.sort((a, b) => (b.memoryMib ?? 0) - (a.memoryMib ?? 0)) : cut,
  };
}

/**
 * The hosts no collector has a recent process set of: each answer's silent hosts, less those any
 * answer names as reporting and the hosts of the merged list's current sessions (a host whose
 * agent moved to another collector is silent on the one it left; `reportingHosts` tells it apart
 * when it runs nothing there, the sessions do for a collector that does not send that field).
 */
export function mergeSilentHosts(
  answers: readonly { silentHosts?: readonly string[]; reportingHosts?: readonly string[] }[],
  merged: readonly { host: string }[],
): string[] {
  const reporting = new Set([
    ...merged.map((p) => p.host),
    ...answers.flatMap((a) => a.reportingHosts ?? []),
  ]);
  const silent = new Set(answers.flatMap((a) => a.silentHosts ?? []));
  return [...silent].filter((h) => !reporting.has(h)).sort();
}

/**
 * The process report over several collectors' parts of one range (the first part's: the
 * collector asked first): the sessions merged (each counted once, seen over every copy) and the
 * idle-held episodes joined (merge-lists.ts), then reported as one collector holding them all
 * reports (processReport). With one part, that collector's own report.
 */
export function mergeProcessReport(parts: readonly ProcessPart[], by: ProcessGroup): ProcessReport {
  const first = parts[0];
  if (!first) throw new Error("no process part to merge");
  const idle = mergeFlagLists(parts.map((p) => p.idle)).flatMap((f) =>
    f.gpuUuid === null ? [] : [{ gpuUuid: f.gpuUuid, startMs: f.startMs, endMs: f.endMs }],
  );
  return {
    ...processReport(
      mergeProcessLists(parts.map((p) => p.sessions)),
      idle,
      { fromMs: first.fromMs, toMs: first.toMs },
      by,
    ),
    truncated: parts.some((p) => p.truncated === true),
  };
}
