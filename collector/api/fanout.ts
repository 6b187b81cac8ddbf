// The API's answers with http.peers: this collector's answer plus every peer's, merged. Peers
// are asked with FANOUT_HEADER so they answer from their own store (no loops); every merged
// answer carries `peers: { asked, missing }`, so one built from fewer collectors says so (a CSV
// answer in its x-gputel-peers-* headers).

import type { TSchema } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { maskUrl } from "../../shared/mask.js";
import type {
  CellGpu,
  FlagJson,
  FleetPart,
  FleetPartKind,
  GpuView,
  HealthPart,
  HostView,
  OpenFlagKey,
  PeersInfo,
  ReportPart,
  SummaryGpu,
  TimeRange,
} from "../contract/api-contract.js";
import {
  FLEET_PART_PATH,
  HEALTH_PART_PATH,
  OPEN_FLAGS_PATH,
  REPORT_PART_PATH,
  SUMMARY_GPUS_PATH,
} from "../contract/api-contract.js";
import { FANOUT_HEADER, type FanOutOptions, fanOut, isNotHeld, settle } from "../fanout/fan-out.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import { mergeFlagPages, mergeGpuAnswers } from "../merge/list-answers.js";
import { mergeFleetReport } from "../merge/merge-fleet.js";
import { mergeHealthParts } from "../merge/merge-health-report.js";
import { mergeGpuLists } from "../merge/merge-lists.js";
import { mergeUsageReport } from "../merge/merge-report.js";
import { mergeSummary, type SummaryAnswer, summaryRange } from "../merge/summary.js";
import type { HealthReport } from "../reports/health-types.js";
import type {
  CapacityReport,
  DowntimeReport,
  EnergyReport,
  GroupBy,
  ThermalReport,
  UtilizationReport,
} from "../reports/reports.js";
import { ApiError } from "../request/errors.js";
import type { QueryBackend } from "./backend.js";
import type { HealthBackend } from "./health-backend.js";
import { EVERY_OPEN_FLAG, LIMITS, parseLabel } from "./params.js";
import { matches } from "./store-backend.js";

export interface FanOutContext extends FanOutOptions {
  peers: readonly string[];
  /** The fleet's own http.token, sent to peers as Bearer. */
  token?: string;
}

type Query = Record<string, string>;

/**
 * The fan-out context for this request: none without peers, and none for a peer's own request
 * (FANOUT_HEADER), which is answered locally so that collectors never ask each other in a loop.
 */
export function fanFor(ctx: FanOutContext | undefined, req: FastifyRequest): FanOutContext | undefined {
  return ctx && ctx.peers.length > 0 && req.headers[FANOUT_HEADER] === undefined ? ctx : undefined;
}

/**
 * The GPU a list is filtered by (flags?gpu=, processes?gpu=), or one GPU's own route (gpus/:id),
 * which answers NOT_HELD alone where a list answers its empty list: `gpu` as this collector found it,
 * where `visible` lets it through (a tenant's scope). Otherwise null, this collector holding no
 * share of it, where another collector may: on a peer's request (FANOUT_HEADER), whose route
 * answers an empty list marked NOT_HELD, so the asking collector does not count it missing; and
 * where this collector asks its peers (`fanning`), which then settle whether any holds it
 * (refuseUnheld). Else it is refused with `notFound()`: one 404 for a GPU unknown here and one
 * outside the tenant's leases (existence does not leak). A tenant's view (`tenant=`) of a GPU it
 * never leased here is empty in the same way, the same answer as for a GPU this collector never saw.
 */
export function listedGpu<G>(
  req: FastifyRequest,
  gpu: G | undefined,
  visible: (gpu: G) => boolean,
  notFound: () => ApiError,
  fanning: boolean,
): G | null {
  if (gpu !== undefined && visible(gpu)) return gpu;
  if (fanning || req.headers[FANOUT_HEADER] !== undefined) return null;
  throw notFound();
}

/**
 * A GPU-filtered list of a GPU this collector holds no share of: `notFound()` when every peer
 * answered NOT_HELD too, the same 404 as without peers (for a tenant, whether the GPU exists or was
 * never leased). A peer missing may hold it, so then the merged answer stands, partial, naming it.
 */
export function refuseUnheld(
  answers: readonly { gpuHeld?: boolean }[],
  missing: readonly unknown[],
  notFound: () => ApiError,
): void {
  if (missing.length === 0 && answers.every(isNotHeld)) throw notFound();
}

/**
 * A CSV answer has no place for `peers`: its headers say how many were asked and which are
 * missing (space-separated), so a file made from fewer collectors says so too.
 */
export function peersHeaders(reply: FastifyReply, peers: PeersInfo | undefined): void {
  if (!peers) return;
  void reply.header("x-gputel-peers-asked", String(peers.asked));
  void reply.header("x-gputel-peers-missing", peers.missing.join(" "));
}

/** Defined query values as strings, to repeat a request to the peers. */
export function queryOf(q: object): Query {
  const out: Query = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out[k] = String(v);
  return out;
}

/** GET `path` on every peer; an answer that does not fit `answer` (PEER_ANSWERS) counts as missing. */
export function ask<T>(ctx: FanOutContext, path: string, query: Query, answer: TSchema) {
  return fanOut<T>(ctx.peers, path, query, ctx.token, { ...ctx, answer });
}

export function info(ctx: FanOutContext, missing: { peer: string; error: string }[]): PeersInfo {
  // A peer URL may hold a password (from the config file): never in an answer.
  const masked = missing.map((m) => ({ peer: maskUrl(m.peer), error: maskUrl(m.error) }));
  return { asked: ctx.peers.length, missing: masked.map((m) => m.peer), errors: masked };
}

/**
 * The merged GPU list (mergeGpuAnswers), cut at `limit`. Peers are asked for their whole lists,
 * as `gputel query gpus --url a,b` asks: the total then counts every GPU of the fleet once, also
 * one several collectors hold (each knows every GPU from its retained inventory), which the sum of
 * the peers' totals would count again. The `state` and `flag` filters apply to the merged list,
 * so peers are asked without them; `local` must not be filtered by them either.
 */
export async function fanGpus(
  ctx: FanOutContext,
  local: readonly GpuView[],
  query: Query,
  limit: number,
  nowMs: number,
) {
  const { state, flag, ...rest } = query;
  const asked = { ...rest, limit: String(LIMITS.maxGpuRows) };
  const { data, missing } = settle(
    await ask<{ gpus: GpuView[]; truncated: boolean }>(ctx, "/api/v1/gpus", asked, PEER_ANSWERS.gpus),
  );
  const merged = mergeGpuAnswers([{ gpus: local }, ...data], { state, flag }, limit);
  if (!data.some((d) => d.truncated)) return { generatedMs: nowMs, ...merged, peers: info(ctx, missing) };
  // A peer's list was cut at LIMITS.maxGpuRows (every collector knows every GPU from the
  // inventories: the fleet's size meets it), so the merged one misses GPUs past it, and counted
  // by state or flag the newest copy of some: the total comes from every GPU whole (compact),
  // each collector's copies filtered by place as its list is, then merged and filtered as above.
  // The page itself is exact: each GPU among the first `limit` is among every peer's first.
  const place = {
    ...(rest.host !== undefined ? { host: rest.host } : {}),
    ...(rest.site !== undefined ? { site: rest.site } : {}),
    ...(rest.model !== undefined ? { model: rest.model } : {}),
    ...(rest.label !== undefined ? { label: parseLabel(rest.label) } : {}),
  };
  const wholeAsked = { cells: "true", ...(rest.tenant !== undefined ? { tenant: rest.tenant } : {}) };
  const whole = settle(
    await ask<{ gpus: CellGpu[] }>(ctx, SUMMARY_GPUS_PATH, wholeAsked, PEER_ANSWERS.cellGpus),
  );
  const lists = whole.data.map((d) => ({ gpus: d.gpus.filter((g) => matches(g, place)) }));
  const { total } = mergeGpuAnswers([{ gpus: local }, ...lists], { state, flag }, 0);
  const lacking = whole.missing.filter((w) => !missing.some((m) => m.peer === w.peer));
  return { generatedMs: nowMs, ...merged, total, peers: info(ctx, [...missing, ...lacking]) };
}

/**
 * Every GPU as the wall's cells draw it (/api/v1/fleet/cells): each peer's whole list, compact
 * (SUMMARY_GPUS_PATH with `cells=true`), merged with `local` (this collector's, a tenant's
 * scoped, which goes to the peers as `tenant=`), the copy with the newest sample of each. Never a
 * GPU list, which stops at LIMITS.maxGpuRows: every collector knows every GPU from the
 * inventories, so past that many GPUs in the fleet the cells left out the GPUs a peer holds the
 * frames of, or drew their inventory-only copies.
 */
export async function fanCellGpus(ctx: FanOutContext, local: readonly CellGpu[], tenant: string | undefined) {
  const asked = { cells: "true", ...(tenant !== undefined ? { tenant } : {}) };
  const { data, missing } = settle(
    await ask<{ gpus: CellGpu[] }>(ctx, SUMMARY_GPUS_PATH, asked, PEER_ANSWERS.cellGpus),
  );
  return { gpus: mergeGpuLists([local, ...data.map((d) => d.gpus)]), peers: info(ctx, missing) };
}

/**
 * One GPU (gpus/:id) as the collectors that hold it answer: the copy with the newest sample, as
 * the merged GPU list keeps (mergeGpuLists). `local`: this collector's copy (in the tenant's scope,
 * which goes to the peers as `tenant=`), when it holds the GPU; the first among equals. Every
 * collector knows every GPU from the retained inventories, so a copy here may be an hour old
 * while the GPU's frames go to a peer: the peers are asked whether or not it is held here, by its
 * UUID where this collector knows it (`ref`). None holding it: heldNowhere's 404.
 */
export async function fanGpu(
  ctx: FanOutContext,
  ref: string,
  tenant: string | undefined,
  notFound: () => ApiError,
  local?: GpuView,
): Promise<GpuView & { peers: PeersInfo }> {
  const { data, missing } = settle(
    await ask<GpuView | { gpuHeld: false }>(
      ctx,
      `/api/v1/gpus/${encodeURIComponent(ref)}`,
      tenant !== undefined ? { tenant } : {},
      PEER_ANSWERS.gpu,
    ),
  );
  const held = data.filter((d): d is GpuView => !isNotHeld(d));
  // A peer resolving a host:index to another GPU than this collector's copy: only this one's GPU.
  const same = local ? held.filter((g) => g.uuid === local.uuid) : held;
  const newest = newestCopy(same, local);
  const peers = info(ctx, missing);
  if (newest) return { ...newest, peers };
  throw heldNowhere(notFound, peers);
}

/**
 * Of copies of a GPU view, the one with the newest sample; `first` (this collector's) wins a tie,
 * then the earlier copy. Of a host:index several collectors resolve to different GPUs, the GPU
 * whose frames came last from that place.
 */
export function newestCopy<G extends { timestampMs: number | null }>(
  copies: readonly G[],
  first?: G,
): G | undefined {
  return copies.reduce<G | undefined>(
    (best, g) => (!best || (g.timestampMs ?? -1) > (best.timestampMs ?? -1) ? g : best),
    first,
  );
}

/**
 * The 404 of a single-GPU route (gpus/:id, gpus/:id/processes) that no answering collector holds:
 * `notFound()` with `peers`, naming any that did not answer (it may hold it). Nothing else in it
 * depends on the GPU, so a tenant learns nothing of one that exists elsewhere.
 */
export function heldNowhere(notFound: () => ApiError, peers: PeersInfo): ApiError {
  const refused = notFound();
  return new ApiError(refused.statusCode, refused.error, refused.parameter, refused.message, {
    ...refused.extra,
    peers,
  });
}

/** `unheld`: this collector holds no share of the GPU the list is filtered by (refuseUnheld). */
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
  unheld?: () => ApiError,
) {
  const answers = await ask<{
    flags: FlagJson[];
    truncated: boolean;
    totalsByKind?: Record<string, number>;
    gpuHeld?: boolean;
  }>(ctx, "/api/v1/flags", query, PEER_ANSWERS.flags);
  const { data, missing } = settle(answers);
  if (unheld) refuseUnheld(data, missing, unheld);
  // A peer's flag ids are its own: each flag names the peer, which the merged flag keeps where its
  // id is that peer's (merge-lists.ts, withIdOf), so an acknowledgement can tell (health-routes.ts).
  const tagged = answers.flatMap((a) =>
    a.ok ? [{ ...a.data, flags: a.data.flags.map((f) => ({ ...f, peer: maskUrl(a.peer) })) }] : [],
  );
  const page = mergeFlagPages([local, ...tagged], local.state, local.limit, local.generatedMs);
  return {
    ...local,
    ...page,
    next: page.truncated ? local.limit : null,
    peers: info(ctx, missing),
  };
}

async function localPart(backend: QueryBackend, range: TimeRange): Promise<ReportPart> {
  if (!backend.reportPart) throw new ApiError(501, "not_implemented", undefined, "no report parts here");
  return backend.reportPart(range);
}

/**
 * The summary from every collector's lists (hosts, every GPU: SUMMARY_GPUS_PATH, every open flag:
 * OPEN_FLAGS_PATH) and report part, merged and then counted (collector/merge/summary.ts): a peer
 * counts only when all four of its answers came. The GPUs and open flags are read whole, not as
 * lists cut at LIMITS.maxGpuRows and LIMITS.maxFlagRows, whose counts would be low with nothing
 * saying so (every collector knows every GPU from the inventories: the fleet's size, not a
 * collector's share, meets the cut).
 */
export async function fanSummary(ctx: FanOutContext, backend: QueryBackend, range: TimeRange) {
  const r = summaryRange(range);
  const rq = { from: String(r.fromMs), to: String(r.toMs) };
  const [hosts, lists, flags, parts] = await Promise.all([
    ask<{ hosts: HostView[] }>(ctx, "/api/v1/hosts", {}, PEER_ANSWERS.hosts),
    ask<{ gpus: SummaryGpu[] }>(ctx, SUMMARY_GPUS_PATH, {}, PEER_ANSWERS.summaryGpus),
    ask<{ flags: OpenFlagKey[] }>(ctx, OPEN_FLAGS_PATH, {}, PEER_ANSWERS.openFlags),
    ask<ReportPart>(ctx, REPORT_PART_PATH, rq, PEER_ANSWERS.reportPart),
  ]);
  const answers: SummaryAnswer[] = [
    {
      hosts: backend.hosts(),
      gpus: backend.gpus({}),
      openFlags: backend.flags({ state: "open", limit: EVERY_OPEN_FLAG }),
      part: await localPart(backend, r),
    },
  ];
  const missing = new Map<string, string>();
  ctx.peers.forEach((peer, i) => {
    const h = hosts[i];
    const g = lists[i];
    const f = flags[i];
    const p = parts[i];
    if (h?.ok && g?.ok && f?.ok && p?.ok)
      answers.push({ hosts: h.data.hosts, gpus: g.data.gpus, openFlags: f.data.flags, part: p.data });
    else {
      const failed = [h, g, f, p].find((a) => a !== undefined && !a.ok);
      missing.set(peer, failed && !failed.ok ? failed.error : "no answer");
    }
  });
  return {
    ...mergeSummary(answers, r, backend.now()),
    peers: info(
      ctx,
      [...missing].map(([peer, error]) => ({ peer, error })),
    ),
  };
}

/** Utilization or energy report over this collector's report part and every peer's. */
export async function fanUsageReport(
  ctx: FanOutContext,
  backend: QueryBackend,
  kind: "utilization" | "energy",
  range: TimeRange,
  by: GroupBy,
): Promise<(UtilizationReport | EnergyReport) & { peers: PeersInfo }> {
  const local = await localPart(backend, range);
  const answers = await ask<ReportPart>(
    ctx,
    REPORT_PART_PATH,
    { from: String(local.fromMs), to: String(local.toMs) },
    PEER_ANSWERS.reportPart,
  );
  const { data, missing } = settle(answers);
  const report = mergeUsageReport(kind, by, [local, ...data], backend.now());
  return { ...report, peers: info(ctx, missing) };
}

/** Thermal, capacity or downtime report over this collector's fleet part and every peer's. */
export async function fanFleetReport(
  ctx: FanOutContext,
  backend: QueryBackend,
  kind: FleetPartKind,
  range: TimeRange,
  by: GroupBy,
): Promise<(ThermalReport | CapacityReport | DowntimeReport) & { peers: PeersInfo }> {
  if (!backend.fleetPart) throw new ApiError(501, "not_implemented", undefined, "no report parts here");
  const local = await backend.fleetPart(kind, range);
  const answers = await ask<FleetPart>(
    ctx,
    FLEET_PART_PATH,
    { kind, from: String(local.fromMs), to: String(local.toMs) },
    PEER_ANSWERS.fleetPart,
  );
  const { data, missing } = settle(answers);
  const report = mergeFleetReport(kind, by, [local, ...data], backend.now());
  return { ...report, peers: info(ctx, missing) };
}

/** The fleet health report over this collector's health part and every peer's (merge-health-report.ts). */
export async function fanHealthReport(
  ctx: FanOutContext,
  health: HealthBackend,
  range: TimeRange,
  nowMs: number,
): Promise<HealthReport & { peers: PeersInfo }> {
  const local = health.part(range);
  const answers = await ask<HealthPart>(
    ctx,
    HEALTH_PART_PATH,
    { from: String(local.fromMs), to: String(local.toMs) },
    PEER_ANSWERS.healthPart,
  );
  const { data, missing } = settle(answers);
  return { ...mergeHealthParts([local, ...data], nowMs), peers: info(ctx, missing) };
}
