// The /api/v1 routes: parameters are checked by schema (schemas.ts), then parsed and bounded
// (params.ts), then answered by the QueryBackend. Responses are plain JSON. With peers
// (collector/fanout), summary, gpus, flags and the usage reports merge every collector's answer.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { MetricKey } from "../../shared/metrics.js";
import type { ReportKind } from "../contract/api-contract.js";
import { REPORT_PART_PATH } from "../contract/api-contract.js";
import { FANOUT_HEADER } from "../fanout/fan-out.js";
import type { LeaseService } from "../leases/service.js";
import type { QueryBackend } from "./backend.js";
import { type FanOutContext, fanFlags, fanGpus, fanSummary, fanUsageReport, queryOf } from "./fanout.js";
import {
  ApiError,
  autoStep,
  badParam,
  checkRange,
  LIMITS,
  parseGroupBy,
  parseKinds,
  parseLabel,
  parseMetrics,
  parseRange,
  parseStep,
  parseTime,
} from "./params.js";
import {
  type FlagsQuery,
  type GpusQuery,
  type RangeQuery,
  type ReportQuery,
  type SeriesQuery,
  schemas,
} from "./schemas.js";
import { scopeFor, tenantFlags, tenantGpuView, tenantSeries } from "./tenant-scope.js";

const HOUR = 3_600_000;
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
  // A request from a peer (FANOUT_HEADER) is answered locally: no loops between collectors.
  const fan = (req: FastifyRequest) =>
    fanout && fanout.peers.length > 0 && req.headers[FANOUT_HEADER] === undefined ? fanout : undefined;

  app.get<{ Querystring: RangeQuery }>("/api/v1/summary", { schema: schemas.summary }, async (req) => {
    const range = parseRange(req.query, backend.now(), DAY);
    const ctx = fan(req);
    return ctx ? fanSummary(ctx, backend, range) : backend.summary(range);
  });

  app.get<{ Querystring: RangeQuery }>(REPORT_PART_PATH, { schema: schemas.reportPart }, async (req) => {
    if (!backend.reportPart) throw new ApiError(501, "not_implemented", undefined, "no report parts here");
    return backend.reportPart(parseRange(req.query, backend.now(), DAY));
  });

  app.get("/api/v1/hosts", { schema: schemas.hosts }, async () => ({ hosts: backend.hosts() }));

  app.get<{ Querystring: GpusQuery }>("/api/v1/gpus", scoped(schemas.gpus), async (req) => {
    const scope = scopeFor(req, req.query.tenant, leases);
    // The scope travels to the peers as ?tenant= (they are asked with the fleet's token).
    const q = scope ? { ...req.query, tenant: scope.tenant } : req.query;
    const now = backend.now();
    const listed = backend.gpus({
      ...(q.host !== undefined ? { host: q.host } : {}),
      ...(q.site !== undefined ? { site: q.site } : {}),
      ...(q.model !== undefined ? { model: q.model } : {}),
      ...(q.label !== undefined ? { label: parseLabel(q.label) } : {}),
      ...(q.state !== undefined ? { state: q.state } : {}),
      ...(q.flag !== undefined ? { flag: q.flag } : {}),
    });
    const all = scope
      ? listed.filter((g) => scope.holdsAt(g.uuid, now)).map((g) => tenantGpuView(scope, g, now))
      : listed;
    const limit = q.limit ?? LIMITS.maxGpuRows;
    const ctx = fan(req);
    if (ctx) return fanGpus(ctx, all, queryOf(q), limit, backend.now());
    return {
      generatedMs: backend.now(),
      total: all.length,
      truncated: all.length > limit,
      gpus: all.slice(0, limit),
    };
  });

  app.get<{ Params: { id: string } }>("/api/v1/gpus/:id", scoped(schemas.gpu), async (req) => {
    const gpu = backend.gpu(req.params.id);
    const scope = scopeFor(req, undefined, leases);
    const now = backend.now();
    // Outside the tenant's lease, the same 404 as an unknown GPU: existence does not leak.
    if (!gpu || (scope && !scope.holdsAt(gpu.uuid, now))) throw notFound(req.params.id);
    return scope ? tenantGpuView(scope, gpu, now) : gpu;
  });

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
      const gpu = backend.gpu(req.params.id);
      const scope = scopeFor(req, undefined, leases);
      if (!gpu || (scope && !scope.overlaps(gpu.uuid, range.fromMs, range.toMs)))
        throw notFound(req.params.id);
      const series = await backend.series(gpu, { metrics, fromMs: range.fromMs, toMs: range.toMs, stepMs });
      return scope ? tenantSeries(scope, series) : series;
    },
  );

  app.get<{ Querystring: FlagsQuery }>("/api/v1/flags", scoped(schemas.flags), async (req) => {
    const scope = scopeFor(req, req.query.tenant, leases);
    const q = scope ? { ...req.query, tenant: scope.tenant } : req.query;
    const now = backend.now();
    const fromMs = q.from !== undefined ? parseTime("from", q.from, now, true) : undefined;
    const toMs = q.to !== undefined ? parseTime("to", q.to, now, true) : undefined;
    if (fromMs !== undefined && toMs !== undefined) checkRange(fromMs, toMs);
    const limit = q.limit ?? LIMITS.defaultFlagRows;
    const state = q.state ?? "open";
    // One more than asked tells whether the list was cut.
    const listed = backend.flags({
      state,
      // A scoped list is filtered after reading: read all that may be asked for.
      limit: scope ? LIMITS.maxFlagRows : Math.min(limit + 1, LIMITS.maxFlagRows),
      ...(q.kind !== undefined ? { kinds: parseKinds("kind", q.kind) } : {}),
      ...(q.host !== undefined ? { host: q.host } : {}),
      ...(q.site !== undefined ? { site: q.site } : {}),
      ...(q.label !== undefined ? { label: parseLabel(q.label) } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(toMs !== undefined ? { toMs } : {}),
    });
    const flags = scope ? tenantFlags(scope, listed, gpusOfHost(backend), now) : listed;
    const shown = flags.slice(0, limit).map((f) => ({ ...f, durationMs: (f.endMs ?? now) - f.startMs }));
    const answer = { generatedMs: now, state, limit, truncated: flags.length > limit, flags: shown };
    const ctx = fan(req);
    return ctx ? fanFlags(ctx, answer, queryOf(q)) : answer;
  });

  app.get<{ Params: { kind: ReportKind }; Querystring: ReportQuery }>(
    "/api/v1/reports/:kind",
    { schema: schemas.report },
    async (req) => {
      const range = parseRange(req.query, backend.now(), DAY);
      const kind = req.params.kind;
      const by = parseGroupBy(req.query.by ?? (kind === "capacity" ? "model" : "site"));
      const ctx = fan(req);
      if (ctx && (kind === "utilization" || kind === "energy"))
        return fanUsageReport(ctx, backend, kind, range, by);
      // Thermal and capacity do not merge yet: say so rather than pass one collector off as the fleet.
      return ctx
        ? { ...(await backend.report(kind, range, by)), fanout: "local only" }
        : backend.report(kind, range, by);
    },
  );
}

/** Today's GPUs of each host (host-level flags concern a tenant whose GPU is there). */
function gpusOfHost(backend: QueryBackend): (host: string) => readonly string[] {
  const byHost = new Map<string, string[]>();
  for (const g of backend.gpus({})) {
    const list = byHost.get(g.host) ?? [];
    list.push(g.uuid);
    byHost.set(g.host, list);
  }
  return (host) => byHost.get(host) ?? [];
}

function notFound(id: string): ApiError {
  return new ApiError(404, "not_found", "id", `no GPU ${JSON.stringify(id)} (give a UUID or host:index)`);
}
