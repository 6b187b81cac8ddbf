// The /api/v1 routes: parameters are checked by schema (schemas.ts), then parsed and bounded
// (params.ts), then answered by the QueryBackend. Responses are JSON; the summary, one GPU and
// the fleet reports answer CSV too (format=csv or Accept: text/csv), the CLI's CSV of the same
// answer. With peers (collector/fanout), summary, gpus, flags and the fleet reports merge every
// collector's answer.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { MetricKey } from "../../shared/metrics.js";
import type {
  FlagPage,
  FlagQuery,
  FleetPartKind,
  GpuView,
  MigDeviceBrief,
  PeersInfo,
  ReportKind,
  SeriesRequest,
  TimeRange,
} from "../contract/api-contract.js";
import { FLEET_PART_KINDS } from "../contract/api-contract.js";
import { isNotHeld, NOT_HELD } from "../fanout/fan-out.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import { compareProblems, countByKind } from "../flags/order.js";
import type { Flag } from "../flags/types.js";
import type { LeaseService } from "../leases/service.js";
import { mergeSeries } from "../merge/merge-series.js";
import { reportCsv, reportFileName } from "../reports/report-csv.js";
import { csvAnswer, wantsCsv } from "../request/csv-wanted.js";
import { ApiError, badParam } from "../request/errors.js";
import { parseTime } from "../request/time.js";
import { gpuCsv, summaryCsv } from "./answer-csv.js";
import type { QueryBackend } from "./backend.js";
import {
  type FanOutContext,
  fanCellGpus,
  fanFlags,
  fanFleetReport,
  fanFor,
  fanGpu,
  fanGpus,
  fanSummary,
  fanUsageReport,
  listedGpu,
  peersHeaders,
  queryOf,
} from "./fanout.js";
import { fanGpuShare, peerCopies, peerRef } from "./fanout-gpu-share.js";
import { fanTenantSummary } from "./fanout-tenant.js";
import { flagScope, withinBoth } from "./flag-scope.js";
import {
  autoStep,
  checkRange,
  EVERY_OPEN_FLAG,
  LIMITS,
  parseGroupBy,
  parseKinds,
  parseLabel,
  parseMetrics,
  parseRange,
  parseStep,
} from "./params.js";
import {
  type CellsQuery,
  type FlagsQuery,
  type GpusQuery,
  type RangeQuery,
  type ReportQuery,
  type SeriesQuery,
  schemas,
} from "./schemas.js";
import {
  leasedHosts,
  leaseHost,
  tenantCells,
  tenantFlagScope,
  tenantGpus,
  tenantGpuViews,
  tenantSummary,
} from "./tenant-reads.js";
import { tenantReport } from "./tenant-report.js";
import {
  meetsRange,
  refuseLabelFilter,
  scopeFor,
  type TenantScope,
  tenantFlags,
  tenantSeries,
} from "./tenant-scope.js";

const HOUR = 3_600_000;
/** problems=true: what needs someone (an idle GPU's info flag does not). */
const PROBLEM_SEVERITIES = ["warning", "critical"] as const;
const DAY = 24 * HOUR;
/** A route that also answers tenant tokens, scoped to the tenant's leases (tenant-scope.ts). */
const scoped = <S>(schema: S) => ({ schema, config: { access: "tenant" as const } });
const DEFAULT_SERIES_METRICS: readonly MetricKey[] = [
  "utilization_gpu_pct",
  "temperature_gpu_celsius",
  "power_draw_watts",
  "memory_used_mib",
];

export function registerApiRoutes(
  app: FastifyInstance,
  backend: QueryBackend,
  fanout?: FanOutContext,
  leases?: LeaseService,
): void {
  const fan = (req: FastifyRequest) => fanFor(fanout, req);

  app.get<{ Querystring: RangeQuery }>("/api/v1/summary", scoped(schemas.summary), async (req, reply) => {
    const range = parseRange(req.query, backend.now(), DAY);
    const ctx = fan(req);
    const scope = scopeFor(req, req.query.tenant, leases);
    const summary = await (scope
      ? ctx
        ? fanTenantSummary(ctx, backend, scope, range)
        : tenantSummary(backend, scope, range)
      : ctx
        ? fanSummary(ctx, backend, range)
        : backend.summary(range));
    if (!wantsCsv(req.query.format, req.headers.accept)) return summary;
    // The CLI's CSV of this answer (a tenant's is its own JSON's); a merged one names missing peers.
    if ("peers" in summary) peersHeaders(reply, summary.peers as PeersInfo);
    const r = summary.utilization.range;
    return csvAnswer(reply, reportFileName({ kind: "summary", ...r }), summaryCsv(summary));
  });

  app.get("/api/v1/hosts", { schema: schemas.hosts }, async () => ({ hosts: backend.hosts() }));

  app.get<{ Querystring: GpusQuery }>("/api/v1/gpus", scoped(schemas.gpus), async (req) => {
    const scope = scopeFor(req, req.query.tenant, leases);
    // The scope travels to the peers as ?tenant= (they are asked with the fleet's token).
    const q = scope ? { ...req.query, tenant: scope.tenant } : req.query;
    if (scope) refuseLabelFilter(q.label);
    const now = backend.now();
    const ctx = fan(req);
    // With peers, state and flag filter the merged list (fanGpus): this collector's copy may be stale.
    const byView = ctx ? {} : { state: q.state, flag: q.flag };
    const listed = backend
      .gpus({
        ...(q.host !== undefined ? { host: q.host } : {}),
        ...(q.site !== undefined ? { site: q.site } : {}),
        ...(q.model !== undefined ? { model: q.model } : {}),
        ...(q.label !== undefined ? { label: parseLabel(q.label) } : {}),
        ...(byView.state !== undefined ? { state: byView.state } : {}),
        ...(byView.flag !== undefined ? { flag: byView.flag } : {}),
      })
      .map(withMig(backend.migDeviceBriefs?.()));
    const all = scope ? tenantGpuViews(backend, scope, listed, now) : listed;
    const limit = q.limit ?? LIMITS.maxGpuRows;
    if (ctx) return fanGpus(ctx, all, queryOf(q), limit, backend.now());
    return {
      generatedMs: backend.now(),
      total: all.length,
      truncated: all.length > limit,
      gpus: all.slice(0, limit),
    };
  });

  // What a wall screen draws, as columns (fleet-cells.ts). With peers, built from every peer's
  // GPUs, whole and compact (fanCellGpus: poll a fan-out front slowly, as its summary).
  // A tenant's cells are its own GPUs' (those it leases now), here and on the peers.
  app.get<{ Querystring: CellsQuery }>("/api/v1/fleet/cells", scoped(schemas.cells), async (req) => {
    if (!backend.fleetCells) throw new ApiError(501, "not_implemented", undefined, "no fleet cells here");
    const layout = req.query.layout === true;
    const ctx = fan(req);
    const scope = scopeFor(req, req.query.tenant, leases);
    const now = backend.now();
    const local = scope ? tenantGpus(backend, scope, now) : undefined;
    if (!ctx) return scope ? tenantCells(backend, scope, layout, local) : backend.fleetCells({ layout });
    const merged = await fanCellGpus(ctx, local ?? backend.gpus({}), scope?.tenant);
    return { ...backend.fleetCells({ layout, gpus: merged.gpus }), peers: merged.peers };
  });

  app.get<{ Params: { id: string }; Querystring: { tenant?: string; format?: "json" | "csv" } }>(
    "/api/v1/gpus/:id",
    scoped(schemas.gpu),
    async (req, reply) => {
      const view = await gpuAnswer(req);
      if (!wantsCsv(req.query.format, req.headers.accept) || isNotHeld(view)) return view;
      // The CLI's CSV of this answer: a tenant's view as its JSON has it; with peers, whom it lacks.
      if ("peers" in view) peersHeaders(reply, view.peers as PeersInfo);
      const at = view.timestampMs ?? backend.now();
      const file = reportFileName({ kind: `gpu-${view.uuid}`, fromMs: at, toMs: at });
      return csvAnswer(reply, file, gpuCsv(view));
    },
  );

  /** The answer of /api/v1/gpus/:id: this collector's view, or with peers the newest one's. */
  async function gpuAnswer(
    req: FastifyRequest<{ Params: { id: string }; Querystring: { tenant?: string } }>,
  ): Promise<GpuView | typeof NOT_HELD> {
    const id = req.params.id;
    const scope = scopeFor(req, req.query.tenant, leases);
    const now = backend.now();
    const ctx = fan(req);
    // Outside the tenant's lease, the same 404 as an unknown GPU: existence does not leak. Not
    // held here: a peer's request gets NOT_HELD; with peers, the view of one that holds it.
    const gpu = listedGpu(
      req,
      backend.gpu(id),
      (g) => !scope || scope.holdsAt(g.uuid, now),
      () => notFound(id),
      ctx !== undefined,
    );
    if (gpu === null) return ctx ? fanGpu(ctx, id, scope?.tenant, () => notFound(id)) : NOT_HELD;
    const migDevices = backend.migDevices?.(gpu.uuid) ?? [];
    const view = migDevices.length > 0 ? { ...gpu, migDevices } : gpu;
    const [seen] = scope ? tenantGpuViews(backend, scope, [view], now) : [view];
    // With peers, theirs too: the GPU's frames may go to a peer, this copy being from the
    // inventory or from before its host's frames moved (the newest sample wins, fanGpu).
    if (ctx) return fanGpu(ctx, gpu.uuid, scope?.tenant, () => notFound(id), seen);
    if (!seen) throw notFound(id);
    return seen;
  }

  app.get<{ Params: { id: string }; Querystring: SeriesQuery }>(
    "/api/v1/gpus/:id/series",
    scoped(schemas.series),
    async (req) => {
      const q = req.query;
      const range = parseRange(q, backend.now(), HOUR);
      const metrics = q.metrics !== undefined ? parseMetrics(q.metrics) : DEFAULT_SERIES_METRICS;
      const stepMs = q.step !== undefined ? parseStep(q.step) : autoStep(range);
      const points = Math.ceil((range.toMs - range.fromMs) / stepMs);
      if (points > LIMITS.maxSeriesPoints)
        throw badParam(
          "step",
          `gives ${points} points per series; at most ${LIMITS.maxSeriesPoints}: use a larger step`,
        );
      const id = req.params.id;
      const known = backend.gpu(id);
      const scope = scopeFor(req, q.tenant, leases);
      const ctx = fan(req);
      // Outside the tenant's leases in the range, the same 404 as an unknown GPU. Not held here:
      // a peer's request gets NOT_HELD; with peers, the shares of those that hold it.
      const gpu = listedGpu(
        req,
        known,
        (g) => !scope || scope.overlaps(g.uuid, range.fromMs, range.toMs),
        () => notFound(id),
        ctx !== undefined,
      );
      const local = gpu ? localSeries(gpu, { metrics, ...range, stepMs }, scope) : undefined;
      if (!ctx) return (await local) ?? NOT_HELD;
      // Every collector may hold a share of the range (fanout-gpu-share.ts): asked for the same grid.
      const query = {
        metrics: metrics.join(","),
        from: String(range.fromMs),
        to: String(range.toMs),
        step: `${stepMs}ms`,
        ...(scope ? { tenant: scope.tenant } : {}),
      };
      const asked = {
        route: "series" as const,
        ...(await peerRef(peerCopies(ctx), id, known)),
        query,
        answer: PEER_ANSWERS.series,
      };
      return fanGpuShare(ctx, asked, local, mergeSeries, () => notFound(id));
    },
  );

  /** This collector's series of a GPU it holds, as the tenant may see it (buckets of its leases). */
  async function localSeries(gpu: GpuView, request: SeriesRequest, scope: TenantScope | undefined) {
    const series = await backend.series(gpu, request);
    if (!scope) return series;
    const host = leaseHost(backend, scope, gpu.uuid, request.fromMs, request.toMs) ?? "";
    return tenantSeries(scope, series, host);
  }

  app.get<{ Querystring: FlagsQuery }>("/api/v1/flags", scoped(schemas.flags), async (req) => {
    const scope = scopeFor(req, req.query.tenant, leases);
    const q = scope ? { ...req.query, tenant: scope.tenant } : req.query;
    if (scope) refuseLabelFilter(q.label);
    const now = backend.now();
    const fromMs = q.from !== undefined ? parseTime("from", q.from, now, true) : undefined;
    const toMs = q.to !== undefined ? parseTime("to", q.to, now, true) : undefined;
    if (fromMs !== undefined && toMs !== undefined) checkRange(fromMs, toMs);
    const limit = q.limit ?? LIMITS.defaultFlagRows;
    const offset = q.offset ?? 0;
    const ctx = fan(req);
    // Pages of a merged list would need every collector's whole list: narrow the query instead.
    if (ctx && offset > 0)
      throw badParam(
        "offset",
        "paging is not available with http.peers: narrow by kind, site or host, or raise limit",
      );
    const state = q.state ?? "open";
    const ref = q.gpu;
    const known = ref === undefined ? undefined : backend.gpu(ref);
    // A GPU the tenant never leased: the same 404 as an unknown GPU, not an empty list (existence
    // does not leak). The GPU of a MIG device it leased is known to it (its statement names it).
    // A GPU not held here (or not shown to the tenant) gets null: an empty list here, and with
    // peers, theirs (a 404 when none holds it).
    const one =
      ref === undefined
        ? undefined
        : listedGpu(
            req,
            known,
            (g) => !scope || scope.gpus().includes(g.uuid),
            () => notFound(ref),
            ctx !== undefined,
          );
    // The GPU list is read only for a model or a search (narrowed by the model where given).
    const listed = q.model !== undefined || q.q !== undefined;
    const candidates = listed ? backend.gpus(q.model !== undefined ? { model: q.model } : {}) : [];
    // A tenant's search looks in what it is shown: not the host labels.
    const searched = scope ? candidates.map((g) => ({ ...g, labels: {} })) : candidates;
    const filtered =
      one === null
        ? { uuids: [], hosts: [] }
        : flagScope(searched, {
            ...(q.model !== undefined ? { model: q.model } : {}),
            ...(q.q !== undefined ? { q: q.q } : {}),
            ...(one ? { gpu: one } : {}),
          });
    // A tenant's list reads only what it may be shown: a read cut at LIMITS.maxFlagRows then holds
    // its own flags, not the fleet's newest.
    const where = scope && leasedHosts(backend, scope);
    const within = scope && where ? withinBoth(filtered, tenantFlagScope(scope, where)) : filtered;
    // A scoped list is filtered after reading: read all that may be asked for, from the start;
    // every open flag (at most one per kind, GPU and host: EVERY_OPEN_FLAG), the history up to
    // LIMITS.maxFlagRows.
    const scopedRead = state === "open" ? EVERY_OPEN_FLAG : LIMITS.maxFlagRows;
    const query = {
      state,
      // Unscoped, one more than asked tells whether the list was cut where no totals are known.
      limit: scope ? scopedRead : Math.min(limit + 1, LIMITS.maxFlagRows),
      offset: scope ? 0 : offset,
      ...(q.kind !== undefined ? { kinds: parseKinds("kind", q.kind) } : {}),
      ...(q.host !== undefined ? { host: q.host } : {}),
      ...(q.site !== undefined ? { site: q.site } : {}),
      ...(q.label !== undefined ? { label: parseLabel(q.label) } : {}),
      ...(within ? { within } : {}),
      ...(q.problems === true ? { severities: PROBLEM_SEVERITIES } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(toMs !== undefined ? { toMs } : {}),
    };
    const read = scope ? backend.flags(query) : [];
    // A tenant's history read is cut at LIMITS.maxFlagRows of its own flags: no total is known
    // past it, and the pages end there with `truncated` still saying flags are missing.
    const cut = state === "all" && read.length >= LIMITS.maxFlagRows;
    const { page, flags } =
      scope && where
        ? scopedFlagPage(
            // A flag closed at its lease's end is no longer open for the tenant; of a flag over
            // several stays, only the pieces that meet the range asked for are listed.
            tenantFlags(scope, read, where, now).filter((f) =>
              state === "all" ? meetsRange(f, fromMs, toMs) : f.endMs === null,
            ),
            state,
            offset,
            limit,
          )
        : unscopedFlagPage(backend, query);
    const shown = flags.slice(0, limit).map((f) => ({ ...f, durationMs: (f.endMs ?? now) - f.startMs }));
    const more = page ? offset + shown.length < page.total : flags.length > limit;
    const answer = {
      generatedMs: now,
      state,
      limit,
      offset,
      // `truncated` (older clients) and `next` say the same: more flags than this page holds
      // (a tenant's cut read: also past its last page, where `next` is null).
      truncated: more || cut,
      next: more ? offset + shown.length : null,
      ...(page && !cut ? { total: page.total, totalsByKind: page.totalsByKind } : {}),
      flags: shown,
    };
    if (!ctx) return one === null ? { ...answer, ...NOT_HELD } : answer;
    const unheld = ref !== undefined && one === null ? () => notFound(ref) : undefined;
    // Every peer is asked for one GPU, by peerRef's UUID, not by a host:index each resolves itself.
    const gpu = ref === undefined ? undefined : (await peerRef(peerCopies(ctx), ref, known)).ref;
    return fanFlags(ctx, answer, queryOf({ ...q, gpu }), unheld);
  });

  app.get<{ Params: { kind: ReportKind }; Querystring: ReportQuery }>(
    "/api/v1/reports/:kind",
    scoped(schemas.report),
    async (req, reply) => {
      const range = parseRange(req.query, backend.now(), DAY);
      const kind = req.params.kind;
      const by = parseGroupBy(req.query.by ?? (kind === "capacity" ? "model" : "site"));
      const ctx = fan(req);
      const scope = scopeFor(req, req.query.tenant, leases);
      const merged =
        scope || !ctx
          ? undefined
          : kind === "utilization" || kind === "energy"
            ? await fanUsageReport(ctx, backend, kind, range, by)
            : await fanFleetReport(ctx, backend, fleetKind(kind), range, by);
      const report =
        merged ??
        (scope
          ? await tenantReport(backend, scope, kind, range, by, ctx !== undefined)
          : await backend.report(kind, range, by));
      if (!wantsCsv(req.query.format, req.headers.accept)) return report;
      peersHeaders(reply, merged?.peers);
      const names =
        by !== "gpu" ? undefined : scope ? tenantGpuNames(backend, scope, range) : gpuNames(backend);
      return csvAnswer(
        reply,
        reportFileName(report),
        reportCsv(report, names ? { nameOf: (k) => names.get(k) ?? k } : {}),
      );
    },
  );
}

function fleetKind(kind: ReportKind): FleetPartKind {
  const k = FLEET_PART_KINDS.find((f) => f === kind);
  if (!k) throw badParam("kind", `no fleet part for the ${kind} report`);
  return k;
}

/** UUID → host:index of the GPUs listed now (a report by GPU is read by people as host:index). */
function gpuNames(backend: QueryBackend): Map<string, string> {
  return new Map(backend.gpus({}).map((g) => [g.uuid, `${g.host}:${g.index}`]));
}

/**
 * host:index of the tenant's GPUs as they were at the end of its latest lease in the range; a GPU
 * that has moved since keeps its UUID (its slot on that host is not kept, and its slot now would
 * name the host it moved to: issue 15).
 */
function tenantGpuNames(backend: QueryBackend, scope: TenantScope, range: TimeRange): Map<string, string> {
  const names = new Map<string, string>();
  for (const uuid of scope.devices()) {
    const now = backend.gpu(uuid);
    const host = leaseHost(backend, scope, uuid, range.fromMs, range.toMs);
    if (now && host === now.host) names.set(uuid, `${host}:${now.index}`);
  }
  return names;
}

/** A tenant's flags, read whole and scoped: totals and the page are counted after scoping. */
function scopedFlagPage(
  scoped: Flag[],
  state: "open" | "all",
  offset: number,
  limit: number,
): { page: FlagPage; flags: Flag[] } {
  // Scoping moves a flag's start to the tenant's lease: sort again in the route's order.
  if (state === "open") scoped.sort(compareProblems);
  else scoped.sort((a, b) => b.startMs - a.startMs || b.id - a.id);
  const totalsByKind = countByKind(scoped);
  return {
    page: { items: scoped, total: scoped.length, totalsByKind },
    flags: scoped.slice(offset, offset + limit + 1),
  };
}

function unscopedFlagPage(
  backend: QueryBackend,
  query: FlagQuery,
): { page: FlagPage | undefined; flags: Flag[] } {
  const page = backend.flagPage?.(query);
  return { page, flags: page ? page.items : backend.flags(query) };
}

function notFound(id: string): ApiError {
  return new ApiError(404, "not_found", "id", `no GPU ${JSON.stringify(id)} (give a UUID or host:index)`);
}

/** A GPU with its MIG devices where it has any (the list's compact form). */
function withMig(byGpu: Map<string, MigDeviceBrief[]> | undefined): (gpu: GpuView) => GpuView {
  return (gpu) => {
    const migDevices = byGpu?.get(gpu.uuid);
    return migDevices ? { ...gpu, migDevices } : gpu;
  };
}
