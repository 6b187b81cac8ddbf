// Pure: the GPU and flag list answers of several collectors → the answer one collector holding
// every sample gives to the same query and limit: merged (merge-lists.ts), cut to the limit in the
// API's order, with totals that count every GPU and episode once. The fan-out (http.peers) and
// `gputel query --url a,b` both answer through these.
import { countByKind } from "../flags/order.js";
import type { Flag } from "../flags/types.js";
import {
  type MergeableFlag,
  type MergeableGpu,
  mergeFlagAnswers,
  mergeGpuLists,
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
