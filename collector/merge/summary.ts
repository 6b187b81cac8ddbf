// The fleet summary, counted by one function from lists: one collector's own (StoreBackend), or
// the merged lists of several collectors (the fan-out and `gputel query --url a,b`). Counting the
// merged lists, never adding the collectors' counts, keeps a GPU or host that every collector
// knows (round robin) from counting once per collector.
import type {
  HostView,
  ReportPart,
  Summary,
  SummaryGpu,
  TimeRange,
  UsageClass,
} from "../contract/api-contract.js";
import type { Flag, FlagKind } from "../flags/types.js";
import { type UsageTotals, usageTotals } from "../usage/usage-sums.js";
import { type MergeableFlag, mergeFlagLists, mergeGpuLists, mergeHostLists } from "./merge-lists.js";
import { mergeReportParts } from "./merge-report.js";

/** Host-level flags (stale, offline) hold every GPU of their host in doubt. */
const HOST_DOUBT: readonly FlagKind[] = ["stale", "offline"];

export interface SummaryInput {
  generatedMs: number;
  hosts: readonly { status: string }[];
  /** Every GPU, with its latest state and how its latest sample counts toward utilization. */
  gpus: readonly {
    uuid: string;
    host: string;
    state: string;
    usage: UsageClass;
    values?: { utilization_gpu_pct?: number };
  }[];
  openFlags: readonly Pick<Flag, "kind" | "host" | "gpuUuid">[];
  range: TimeRange & UsageTotals;
}

export function summarize(input: SummaryInput): Summary {
  const byStatus: Record<string, number> = {};
  for (const h of input.hosts) byStatus[h.status] = (byStatus[h.status] ?? 0) + 1;
  const byKind: Partial<Record<FlagKind, number>> = {};
  const flaggedGpus = new Set<string>();
  const flaggedHosts = new Set<string>();
  const doubtHosts = new Set<string>();
  for (const f of input.openFlags) {
    byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    if (f.gpuUuid !== null) flaggedGpus.add(f.gpuUuid);
    else flaggedHosts.add(f.host);
    if (f.gpuUuid === null && HOST_DOUBT.includes(f.kind)) doubtHosts.add(f.host);
  }
  const byState: Record<string, number> = {};
  let busy = 0;
  let known = 0;
  let flagged = 0;
  let utilSum = 0;
  let utilCount = 0;
  for (const g of input.gpus) {
    byState[g.state] = (byState[g.state] ?? 0) + 1;
    if (flaggedGpus.has(g.uuid) || flaggedHosts.has(g.host)) flagged++;
    if (doubtHosts.has(g.host) || g.usage === "unknown") continue;
    known++;
    if (g.usage === "busy") busy++;
    const u = g.values?.utilization_gpu_pct;
    if (u !== undefined) {
      utilSum += u;
      utilCount++;
    }
  }
  return {
    generatedMs: input.generatedMs,
    hosts: { total: input.hosts.length, byStatus },
    gpus: { total: input.gpus.length, byState },
    flags: { open: input.openFlags.length, byKind, gpusFlagged: flagged },
    utilization: {
      now: { busy, known, rate: known > 0 ? busy / known : null },
      // Of the GPUs `now` knows, from the (merged) lists: every reading counts once, whatever
      // collector holds it.
      meanNowPct: utilCount > 0 ? utilSum / utilCount : null,
      range: input.range,
    },
  };
}

const MINUTE_MS = 60_000;

/**
 * The summary's range: rounded down to whole minutes (the finest rollup step: the aggregate
 * rounds its edges so anyway), unless that leaves nothing.
 */
export function summaryRange(range: TimeRange): TimeRange {
  const fromMs = range.fromMs - (range.fromMs % MINUTE_MS);
  const toMs = range.toMs - (range.toMs % MINUTE_MS);
  return toMs > fromMs ? { fromMs, toMs } : { fromMs: range.fromMs, toMs: range.toMs };
}

/** What the merged summary needs from each collector (each answered from its own store). */
export interface SummaryAnswer {
  hosts: readonly HostView[];
  /** Every GPU (a GPU view, or its compact form from SUMMARY_GPUS_PATH). */
  gpus: readonly SummaryGpu[];
  /** Every open flag, as much of each as the merge joins and the summary counts. */
  openFlags: readonly MergeableFlag[];
  /** The report part over `range`. */
  part: ReportPart;
}

/** The summary of the fleet several collectors hold between them, over `range` (whole minutes). */
export function mergeSummary(
  answers: readonly SummaryAnswer[],
  range: TimeRange,
  generatedMs: number,
): Summary {
  const open = mergeFlagLists(answers.map((a) => a.openFlags)).filter((f) => f.endMs === null);
  return summarize({
    generatedMs,
    hosts: mergeHostLists(answers.map((a) => a.hosts)),
    gpus: mergeGpuLists(answers.map((a) => a.gpus)),
    openFlags: open,
    range: {
      fromMs: range.fromMs,
      toMs: range.toMs,
      ...usageTotals(
        mergeReportParts(
          answers.map((a) => a.part),
          "site",
        ),
      ),
    },
  });
}
