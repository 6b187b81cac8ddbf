// The API's answers with http.peers: this collector's answer plus every peer's, merged. Peers
// are asked with FANOUT_HEADER so they answer from their own store (no loops); every merged
// answer carries `peers: { asked, missing }`, so one built from fewer collectors says so.
import { maskUrl } from "../../shared/mask.js";
import type { GpuView, QueryBackend, Summary, TimeRange } from "../api/backend.js";
import { ApiError, LIMITS } from "../api/params.js";
import { usageTotals } from "../api/usage-totals.js";
import { compareProblems } from "../flags/order.js";
import type { Flag } from "../flags/types.js";
import type { EnergyReport, GroupBy, UtilizationReport } from "../reports/reports.js";
import type { GpuUsage } from "../reports/types.js";
import { buildEnergyReport, buildUtilizationReport } from "../reports/usage-report.js";
import { CWMS_PER_WH } from "../store/rollup-acc.js";
import { type FanOutOptions, fanOut, settle } from "./fan-out.js";
import { fleetCounts, mergeFlagLists, mergeGpuLists } from "./merge-lists.js";
import { mergeGpuParts, mergeReportParts } from "./merge-report.js";
import type { ReportPart } from "./report-part.js";
import { REPORT_PART_PATH } from "./report-part.js";

export interface FanOutContext extends FanOutOptions {
  peers: readonly string[];
  /** The fleet's own http.token, sent to peers as Bearer. */
  token?: string;
}

export interface PeersInfo {
  asked: number;
  /** Peers whose answer is not in the merge (down, refused, timed out). */
  missing: string[];
  errors: { peer: string; error: string }[];
}

type Query = Record<string, string>;
type FlagJson = Flag & { durationMs: number };
const MINUTE = 60_000;

/** Defined query values as strings, to repeat a request to the peers. */
export function queryOf(q: object): Query {
  const out: Query = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out[k] = String(v);
  return out;
}

function ask<T>(ctx: FanOutContext, path: string, query: Query) {
  return fanOut<T>(ctx.peers, path, query, ctx.token, ctx);
}

function info(ctx: FanOutContext, missing: { peer: string; error: string }[]): PeersInfo {
  // A peer URL may hold a password (from the config file): never in an answer.
  const masked = missing.map((m) => ({ peer: maskUrl(m.peer), error: maskUrl(m.error) }));
  return { asked: ctx.peers.length, missing: masked.map((m) => m.peer), errors: masked };
}

export async function fanGpus(
  ctx: FanOutContext,
  local: readonly GpuView[],
  query: Query,
  limit: number,
  nowMs: number,
) {
  const { data, missing } = settle(
    await ask<{ gpus: GpuView[]; truncated: boolean }>(ctx, "/api/v1/gpus", query),
  );
  const all = mergeGpuLists([local, ...data.map((d) => d.gpus)]);
  return {
    generatedMs: nowMs,
    total: all.length,
    truncated: all.length > limit || data.some((d) => d.truncated),
    gpus: all.slice(0, limit),
    peers: info(ctx, missing),
  };
}

export async function fanFlags(
  ctx: FanOutContext,
  local: {
    generatedMs: number;
    state: string;
    limit: number;
    truncated: boolean;
    total?: number;
    totalsByKind?: Record<string, number>;
    flags: FlagJson[];
  },
  query: Query,
) {
  const answers = await ask<{
    flags: FlagJson[];
    truncated: boolean;
    totalsByKind?: Record<string, number>;
  }>(ctx, "/api/v1/flags", query);
  const { data, missing } = settle(answers);
  const merged = mergeFlagLists([local.flags, ...data.map((d) => d.flags)]);
  // Open problems in the one-collector order: most severe, then longest open, first.
  if (local.state === "open") merged.sort(compareProblems);
  const now = local.generatedMs;
  const truncated = merged.length > local.limit || local.truncated || data.some((d) => d.truncated);
  // Totals are summed over the collectors that answered: exact while each agent's frames reach
  // one collector (as hosts by status in the summary), and left out when a peer gave none.
  const kinds = [local.totalsByKind, ...data.map((d) => d.totalsByKind)];
  const totals = kinds.every((k) => k !== undefined)
    ? sumCounts(kinds as Record<string, number>[])
    : undefined;
  return {
    ...local,
    truncated,
    next: truncated ? local.limit : null,
    ...(totals ? { total: Object.values(totals).reduce((a, b) => a + b, 0), totalsByKind: totals } : {}),
    flags: merged.slice(0, local.limit).map((f) => ({ ...f, durationMs: (f.endMs ?? now) - f.startMs })),
    peers: info(ctx, missing),
  };
}

function sumCounts(list: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counts of list) for (const [k, n] of Object.entries(counts)) out[k] = (out[k] ?? 0) + n;
  return out;
}

function localPart(backend: QueryBackend, range: TimeRange): ReportPart {
  if (!backend.reportPart) throw new ApiError(501, "not_implemented", undefined, "no report parts here");
  return backend.reportPart(range);
}

/**
 * Counts from the merged GPU and open-flag lists (a GPU held by two collectors counts once),
 * range usage from the merged report parts. Hosts by status and utilization now are the sums of
 * every collector's own summary: exact while each agent's frames reach one collector.
 */
export async function fanSummary(ctx: FanOutContext, backend: QueryBackend, range: TimeRange) {
  // Whole minutes, as the one-collector summary rounds them (StoreBackend.rangeUsage).
  const r = { fromMs: range.fromMs - (range.fromMs % MINUTE), toMs: range.toMs - (range.toMs % MINUTE) };
  const rq = {
    from: String(r.toMs > r.fromMs ? r.fromMs : range.fromMs),
    to: String(r.toMs > r.fromMs ? r.toMs : range.toMs),
  };
  const [sums, lists, flags, parts] = await Promise.all([
    ask<Summary>(ctx, "/api/v1/summary", rq),
    ask<{ gpus: GpuView[] }>(ctx, "/api/v1/gpus", { limit: String(LIMITS.maxGpuRows) }),
    ask<{ flags: Flag[] }>(ctx, "/api/v1/flags", { state: "open", limit: String(LIMITS.maxFlagRows) }),
    ask<ReportPart>(ctx, REPORT_PART_PATH, rq),
  ]);
  // A peer counts only when all four of its answers came: never half a collector.
  const missing = new Map<string, string>();
  for (const list of [sums, lists, flags, parts])
    for (const a of list) if (!a.ok && !missing.has(a.peer)) missing.set(a.peer, a.error);
  const ok = <T>(list: typeof sums | typeof lists | typeof flags | typeof parts) =>
    list.flatMap((a) => (a.ok && !missing.has(a.peer) ? [a.data as T] : []));
  const local = backend.summary(range);
  const summaries = [local, ...ok<Summary>(sums)];
  const gpus = mergeGpuLists([backend.gpus({}), ...ok<{ gpus: GpuView[] }>(lists).map((d) => d.gpus)]);
  const open = mergeFlagLists([
    backend.flags({ state: "open", limit: LIMITS.maxFlagRows }),
    ...ok<{ flags: Flag[] }>(flags).map((d) => d.flags),
  ]);
  const counts = fleetCounts(gpus, open);
  const byStatus: Record<string, number> = {};
  let busy = 0;
  let known = 0;
  // Mean utilization now, weighted by each collector's known GPUs.
  let meanSum = 0;
  let meanWeight = 0;
  for (const s of summaries) {
    for (const [k, n] of Object.entries(s.hosts.byStatus)) byStatus[k] = (byStatus[k] ?? 0) + n;
    busy += s.utilization.now.busy;
    known += s.utilization.now.known;
    const mean = s.utilization.meanNowPct;
    if (mean !== undefined && mean !== null && s.utilization.now.known > 0) {
      meanSum += mean * s.utilization.now.known;
      meanWeight += s.utilization.now.known;
    }
  }
  const allParts = [
    localPart(backend, { fromMs: Number(rq.from), toMs: Number(rq.to) }),
    ...ok<ReportPart>(parts),
  ];
  return {
    ...local,
    hosts: { total: counts.hosts, byStatus },
    gpus: { total: counts.gpus, byState: counts.byState },
    flags: {
      open: open.filter((f) => f.endMs === null).length,
      byKind: counts.openFlags,
      gpusFlagged: gpus.filter((g) => g.flags.length > 0).length,
    },
    utilization: {
      now: { busy, known, rate: known > 0 ? busy / known : null },
      meanNowPct: meanWeight > 0 ? meanSum / meanWeight : null,
      range: {
        fromMs: Number(rq.from),
        toMs: Number(rq.to),
        ...usageTotals(mergeReportParts(allParts, "site")),
      },
    },
    peers: info(
      ctx,
      [...missing].map(([peer, error]) => ({ peer, error })),
    ),
  };
}

/** Merged parts as report rows: what fleetUsage gives on one collector for GPUs that did not move. */
function usageRows(parts: readonly ReportPart[], nowMs: number): GpuUsage[] {
  const first = parts[0];
  const fromMs = first?.fromMs ?? 0;
  const end = Math.min(first?.toMs ?? 0, nowMs);
  return mergeGpuParts(parts)
    .filter((g) => g.samples > 0)
    .map((g, i) => {
      const covered = g.busyMs + g.idleMs + g.idleHeldMs + g.unknownMs;
      const period =
        g.firstSeenMs !== undefined ? Math.max(0, end - Math.max(fromMs, g.firstSeenMs)) : covered;
      return {
        gpuId: i,
        uuid: g.uuid,
        model: g.model,
        host: g.host,
        site: g.site,
        labels: g.labels,
        periodMs: Math.max(period, covered),
        busyMs: g.busyMs,
        idleMs: g.idleMs,
        idleHeldMs: g.idleHeldMs,
        unknownReportedMs: g.unknownMs,
        noDataMs: Math.max(0, period - covered),
        energyWh: g.energyCwms / CWMS_PER_WH,
        energyIdleWh: g.energyIdleCwms / CWMS_PER_WH,
        maxTemperatureC: g.maxTemperatureC,
        utilSum: g.utilizationSum,
        utilCount: g.utilizationCount,
      };
    });
}

/** Utilization or energy report over this collector's report part and every peer's. */
export async function fanUsageReport(
  ctx: FanOutContext,
  backend: QueryBackend,
  kind: "utilization" | "energy",
  range: TimeRange,
  by: GroupBy,
): Promise<(UtilizationReport | EnergyReport) & { peers: PeersInfo }> {
  const local = localPart(backend, range);
  const answers = await ask<ReportPart>(ctx, REPORT_PART_PATH, {
    from: String(local.fromMs),
    to: String(local.toMs),
  });
  const { data, missing } = settle(answers);
  const nowMs = backend.now();
  const rows = usageRows([local, ...data], nowMs);
  const header = { fromMs: local.fromMs, toMs: local.toMs, nowMs };
  const report =
    kind === "utilization" ? buildUtilizationReport(header, by, rows) : buildEnergyReport(header, by, rows);
  return { ...report, peers: info(ctx, missing) };
}
