// `gputel query --url a,b`: asks every collector for its own lists and report parts and merges
// them with the functions the API's fan-out (http.peers) uses (collector/merge), so both give
// the numbers one collector holding every sample would give.
import { type GpuCopies, peerRef } from "../../collector/api/fanout-gpu-share.js";
import { LIMITS, parseGroupBy } from "../../collector/api/params.js";
import type {
  FleetPart,
  GpuView,
  HealthPart,
  HostView,
  OpenFlagKey,
  Report,
  ReportPart,
  Summary,
  SummaryGpu,
} from "../../collector/contract/api-contract.js";
import {
  FLEET_PART_KINDS,
  FLEET_PART_PATH,
  HEALTH_PART_PATH,
  OPEN_FLAGS_PATH,
  REPORT_PART_PATH,
  SUMMARY_GPUS_PATH,
} from "../../collector/contract/api-contract.js";
import { isNotHeld, type NOT_HELD } from "../../collector/fanout/fan-out.js";
import { mergeGpuAnswers } from "../../collector/merge/list-answers.js";
import { mergeFleetReport } from "../../collector/merge/merge-fleet.js";
import { mergeHealthParts } from "../../collector/merge/merge-health-report.js";
import { mergeUsageReport } from "../../collector/merge/merge-report.js";
import { mergeSummary, type SummaryAnswer } from "../../collector/merge/summary.js";
import type { HealthReport } from "../../collector/reports/health-types.js";
import { ApiError } from "../../collector/request/errors.js";
import { type ClientOptions, getAll, getJson, QueryError } from "./client.js";
import { OptionError, parseLimit } from "./options.js";

type Range = { from: string; to: string | undefined };

/**
 * GPU `ref` as every collector is then asked for it. Several (--url a,b, each asked for its own
 * data): a host:index by the UUID of the newest of their views (peerRef, as a collector with
 * http.peers resolves it), since each resolves a host:index by its own registry, and one that
 * missed a move names another GPU there. `first`: the URL whose view named it (its answer places
 * the GPU). One collector resolves the reference itself.
 */
export async function gpuRef(ref: string, client: ClientOptions): Promise<{ ref: string; first?: string }> {
  return client.urls.length > 1 ? peerRef(collectorCopies(client), ref, undefined) : { ref };
}

/** Each collector's own view of a GPU (gpus/:id), of those that hold it: one that fails names none. */
function collectorCopies(client: ClientOptions): GpuCopies {
  return async (ref) => {
    const path = `/api/v1/gpus/${encodeURIComponent(ref)}`;
    const answers = await Promise.allSettled(
      client.urls.map(async (peer) => ({
        peer,
        view: await getJson<GpuView | typeof NOT_HELD>(peer, path, {}, client),
      })),
    );
    return answers.flatMap((a) =>
      a.status === "fulfilled" && !isNotHeld(a.value.view) ? [{ ...a.value.view, peer: a.value.peer }] : [],
    );
  };
}

/**
 * The first collector resolves the range (a duration before its now, whole minutes) in its own
 * summary; every collector is then asked for the same absolute range, and for its GPUs and open
 * flags whole (the fan-out's routes: every URL must be a collector from 2026-12-08 or later).
 */
export async function mergedSummary(range: Range, client: ClientOptions): Promise<Summary> {
  const [first] = client.urls;
  if (first === undefined) throw new Error("no collector URL");
  const head = await getJson<Summary>(first, "/api/v1/summary", range, client);
  const r = { fromMs: head.utilization.range.fromMs, toMs: head.utilization.range.toMs };
  const rq = { from: String(r.fromMs), to: String(r.toMs) };
  const [hosts, gpus, flags, parts] = await Promise.all([
    getAll<{ hosts: HostView[] }>("/api/v1/hosts", {}, client),
    // Every GPU and every open flag, whole: a GPU list stops at 100,000 (every collector knows
    // every GPU of the fleet from the inventories), a flag list at 10,000; counts made from them
    // would be low.
    getAll<{ gpus: SummaryGpu[] }>(SUMMARY_GPUS_PATH, {}, client),
    getAll<{ flags: OpenFlagKey[] }>(OPEN_FLAGS_PATH, {}, client),
    getAll<ReportPart>(REPORT_PART_PATH, rq, client),
  ]);
  const answers: SummaryAnswer[] = client.urls.map((_, i) => ({
    hosts: hosts[i]?.hosts ?? [],
    gpus: gpus[i]?.gpus ?? [],
    openFlags: flags[i]?.flags ?? [],
    part: parts[i] ?? { fromMs: r.fromMs, toMs: r.toMs, gpus: [] },
  }));
  return mergeSummary(answers, r, head.generatedMs);
}

/**
 * The GPU list of several collectors as one collector holding every GPU lists it: each is asked
 * for its whole list, without the state and flag filters (they read each GPU's newest copy:
 * mergeGpuAnswers), and the merged list is cut at --limit, so the total counts every GPU once.
 */
export async function mergedGpus(
  query: { state?: string | undefined; flag?: string | undefined } & Record<string, string | undefined>,
  limitText: string | undefined,
  client: ClientOptions,
): Promise<{ generatedMs: number; total: number; truncated: boolean; gpus: GpuView[] }> {
  const limit = parseLimit(limitText, LIMITS.maxGpuRows) ?? LIMITS.maxGpuRows;
  const { state, flag, ...rest } = query;
  const answers = await getAll<{ generatedMs: number; gpus: GpuView[]; truncated?: boolean }>(
    "/api/v1/gpus",
    { ...rest, limit: String(LIMITS.maxGpuRows) },
    client,
  );
  return {
    generatedMs: Math.max(...answers.map((a) => a.generatedMs)),
    ...mergeGpuAnswers(answers, { state, flag }, limit),
  };
}

/**
 * Every fleet report merges from parts: utilization and energy from report parts, thermal,
 * capacity and downtime from fleet parts (per GPU and host stretch, with their flag episodes).
 */
export async function mergedReport(
  kind: string,
  range: Range,
  by: string | undefined,
  client: ClientOptions,
): Promise<Report> {
  const fleetKind = FLEET_PART_KINDS.find((k) => k === kind);
  if (kind !== "utilization" && kind !== "energy" && fleetKind === undefined)
    throw new OptionError(`the ${kind} report is not merged across collectors: ask one collector at a time`);
  let groupBy: ReturnType<typeof parseGroupBy>;
  try {
    groupBy = parseGroupBy(by ?? (kind === "capacity" ? "model" : "site"));
  } catch (error) {
    if (error instanceof ApiError)
      throw new QueryError(`${error.message} (parameter ${error.parameter})`, error.statusCode);
    throw error;
  }
  const [first, ...rest] = client.urls;
  if (first === undefined) throw new Error("no collector URL");
  // The first collector resolves the range and widens it to whole rollup steps; the rest are
  // asked for exactly that range.
  if (fleetKind !== undefined) {
    const head = await getJson<FleetPart>(first, FLEET_PART_PATH, { ...range, kind: fleetKind }, client);
    const others = await getAll<FleetPart>(
      FLEET_PART_PATH,
      { kind: fleetKind, from: String(head.fromMs), to: String(head.toMs) },
      { ...client, urls: rest },
    );
    return mergeFleetReport(fleetKind, groupBy, [head, ...others], head.nowMs);
  }
  const head = await getJson<ReportPart>(first, REPORT_PART_PATH, range, client);
  const others = await getAll<ReportPart>(
    REPORT_PART_PATH,
    { from: String(head.fromMs), to: String(head.toMs) },
    { ...client, urls: rest },
  );
  return mergeUsageReport(kind === "energy" ? "energy" : "utilization", groupBy, [head, ...others]);
}

/**
 * The fleet health report from every collector's health part (its events with their kernel keys,
 * its down episodes and leases), merged as the API's fan-out merges them (mergeHealthParts): the
 * first collector resolves the range, the rest are asked for exactly that range.
 */
export async function mergedHealthReport(range: Range, client: ClientOptions): Promise<HealthReport> {
  const [first, ...rest] = client.urls;
  if (first === undefined) throw new Error("no collector URL");
  const head = await getJson<HealthPart>(first, HEALTH_PART_PATH, range, client);
  const others = await getAll<HealthPart>(
    HEALTH_PART_PATH,
    { from: String(head.fromMs), to: String(head.toMs) },
    { ...client, urls: rest },
  );
  return mergeHealthParts([head, ...others], head.nowMs);
}

/**
 * The flag answers of `urls` (in order), each flag of a collector after the first marked with that
 * collector's URL (`peer`), as the API's fan-out marks a peer's (fanFlags): flag ids are each
 * collector's own, and the merged list keeps the mark with an id that is not the first's
 * (withIdOf), so `gputel flag ack ID --url a,b` acknowledges it there, not the first's flag with
 * that id. A flag marked already keeps its mark (that collector's peer's id: http.peers).
 */
export function markedFlagAnswers<A extends { flags: readonly object[] }>(
  answers: readonly A[],
  urls: readonly string[],
): A[] {
  return answers.map((a, i) => {
    const url = urls[i]?.replace(/\/+$/, "");
    if (i === 0 || url === undefined) return a;
    return { ...a, flags: a.flags.map((f) => ({ peer: url, ...f })) as A["flags"] };
  });
}
