// The health routes (issue 16): kernel-log events and the fleet health report (JSON, or CSV with
// `format=csv` / `Accept: text/csv`: health-csv.ts, what the CLI prints), a GPU's health timeline,
// and an operator's acknowledgement of a flag. Private like every route (access.ts); the
// acknowledgement changes state, so it is a POST with a JSON body and needs the API token where
// one is set (the token is the API's one, administrative, credential); with http.peers it names the
// flag as listed, ids being each collector's own (fanout-ack.ts). With http.peers a GPU's
// timeline merges every collector's share (fanout-gpu-share.ts), the events every collector's
// page (fanout-events.ts) and the fleet report every collector's part (fanHealthReport);
// acknowledgements are this collector's own.
import type { FastifyInstance } from "fastify";
import { GPU_REF } from "../../shared/gpu-id.js";
import { HOST_ID } from "../../shared/topics.js";
import { XID_ACTIONS } from "../../shared/xid/types.js";
import type { GpuView, ListedEpisode, PeersInfo, TimeRange } from "../contract/api-contract.js";
import { NOT_HELD } from "../fanout/fan-out.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import { FLAG_KINDS, type Flag } from "../flags/types.js";
import type { LeaseService } from "../leases/service.js";
import { mergeHealthTimelines } from "../merge/merge-health.js";
import { EVENT_CURSOR, isRowPosition, parseEventCursor } from "../reports/event-cursor.js";
import { eventsCsv, healthReportCsv } from "../reports/health-csv.js";
import type { HealthReport, HealthTimeline } from "../reports/health-types.js";
import { reportFileName } from "../reports/report-csv.js";
import { csvAnswer, wantsCsv } from "../request/csv-wanted.js";
import { ApiError, badParam } from "../request/errors.js";
import type { QueryBackend } from "./backend.js";
import { type FanOutContext, fanFor, fanHealthReport, listedGpu, peersHeaders, queryOf } from "./fanout.js";
import { ackEpisode, forwardAck } from "./fanout-ack.js";
import { fanEvents } from "./fanout-events.js";
import { fanGpuShare, peerCopies, peerRef } from "./fanout-gpu-share.js";
import { type HealthBackend, TIMELINE_EVENTS } from "./health-backend.js";
import { parseRange } from "./params.js";
import { FORMAT_PARAM, TENANT_PARAM } from "./schemas.js";
import { tenantEvents, tenantStays, tenantTimeline } from "./tenant-health.js";
import { leasedHosts, leaseHost } from "./tenant-reads.js";
import { type LeasePeriod, scopeFor, type TenantScope } from "./tenant-scope.js";

const DAY = 86_400_000;
export const EVENT_LIMITS = { defaultRows: 100, maxRows: 1000 } as const;

const time = { type: "string", minLength: 1, maxLength: 40 } as const;
const codeList = {
  type: "string",
  minLength: 1,
  maxLength: 200,
  pattern: "^[0-9]{1,5}(,[0-9]{1,5})*$",
} as const;
const actionList = { type: "string", minLength: 1, maxLength: 300, pattern: "^[a-z-]+(,[a-z-]+)*$" } as const;

const eventsSchema = {
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      gpu: { type: "string", minLength: 1, maxLength: 200, pattern: GPU_REF.source },
      host: { type: "string", pattern: HOST_ID.source },
      code: codeList,
      action: actionList,
      kind: { type: "string", enum: ["xid", "sxid"] },
      from: time,
      to: time,
      before: { type: "string", minLength: 3, maxLength: 240, pattern: EVENT_CURSOR },
      limit: { type: "integer", minimum: 1, maximum: EVENT_LIMITS.maxRows },
      format: FORMAT_PARAM,
      tenant: TENANT_PARAM,
    },
  },
} as const;
const rangeSchema = {
  type: "object",
  additionalProperties: false,
  properties: { from: time, to: time },
} as const;
/** The report also takes `format=csv` (or `Accept: text/csv`): the CLI's CSV (health-csv.ts). */
const reportSchema = {
  ...rangeSchema,
  properties: {
    ...rangeSchema.properties,
    format: FORMAT_PARAM,
  },
} as const;
/** A GPU's timeline also takes `tenant=` (admin, viewer: the tenant's view, as the fan-out asks). */
const timelineSchema = {
  ...rangeSchema,
  properties: { ...rangeSchema.properties, tenant: TENANT_PARAM },
} as const;
const gpuParams = {
  type: "object",
  additionalProperties: false,
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 200, pattern: GPU_REF.source } },
} as const;
/** What names the flag an acknowledgement means, all or none (ListedEpisode). */
const EPISODE_FIELDS = ["kind", "host", "gpuUuid", "startMs"];
const ackSchema = {
  params: {
    type: "object",
    additionalProperties: false,
    required: ["id"],
    properties: { id: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
  },
  // The flag as listed (ListedEpisode): optional without http.peers, required with them (the route).
  body: {
    type: "object",
    additionalProperties: false,
    required: ["note"],
    properties: {
      note: { type: "string", minLength: 1, maxLength: 1000 },
      kind: { type: "string", enum: [...FLAG_KINDS] },
      host: { type: "string", pattern: HOST_ID.source },
      gpuUuid: { type: ["string", "null"], minLength: 1, maxLength: 200 },
      startMs: { type: "integer", minimum: 0 },
      endMs: { type: ["integer", "null"], minimum: 0 },
      values: { type: "object", maxProperties: 64 },
      peer: { type: "string", minLength: 1, maxLength: 2000 },
    },
    dependencies: {
      kind: EPISODE_FIELDS,
      host: EPISODE_FIELDS,
      gpuUuid: EPISODE_FIELDS,
      startMs: EPISODE_FIELDS,
      endMs: EPISODE_FIELDS,
      values: EPISODE_FIELDS,
      peer: EPISODE_FIELDS,
    },
  },
} as const;

interface EventsQuery {
  gpu?: string;
  host?: string;
  code?: string;
  action?: string;
  kind?: "xid" | "sxid";
  from?: string;
  to?: string;
  before?: string;
  limit?: number;
  format?: "json" | "csv";
  tenant?: string;
}

/** Routes a tenant token may read too, scoped to its own leases (tenant-health.ts). */
const SCOPED = { access: "tenant" } as const;

export function registerHealthRoutes(
  app: FastifyInstance,
  backend: QueryBackend,
  leases?: LeaseService,
  fanout?: FanOutContext,
): void {
  const health = (): HealthBackend => {
    if (!backend.health) throw new ApiError(501, "not_implemented", undefined, "no health data here");
    return backend.health;
  };

  app.get<{ Querystring: EventsQuery }>(
    "/api/v1/events",
    { schema: eventsSchema, config: SCOPED },
    async (req, reply) => {
      const q = req.query;
      const range = parseRange(q, backend.now(), 7 * DAY);
      const actions = q.action?.split(",");
      const unknown = actions?.find((a) => !(XID_ACTIONS as readonly string[]).includes(a));
      if (unknown !== undefined)
        throw badParam(
          "action",
          `unknown action ${JSON.stringify(unknown)} (one of ${XID_ACTIONS.join(", ")})`,
        );
      const scope = scopeFor(req, q.tenant, leases);
      const ctx = fanFor(fanout, req);
      const before = q.before !== undefined ? parseEventCursor(q.before) : undefined;
      // A row id means nothing to the peers, whose rows are numbered otherwise.
      if (ctx && before && isRowPosition(before))
        throw badParam(
          "before",
          "a TIME:ID cursor names one collector's row: with http.peers, page with the next of a merged answer",
        );
      const ref = q.gpu;
      const notFound = () => new ApiError(404, "not_found", "gpu", `no GPU ${JSON.stringify(ref)}`);
      // Outside the tenant's leases in the range: the same 404 as an unknown GPU. The GPU of a
      // MIG device it leased then answers, as its flag list does (`flags?gpu=`), with none of the
      // GPU's events (tenantEvents). Not shown here: with peers (or to a peer), an empty list
      // marked NOT_HELD, 404 only when no collector shows it (its lease may be on a peer).
      const known = ref === undefined ? undefined : backend.gpu(ref);
      const gpu =
        ref === undefined
          ? undefined
          : listedGpu(
              req,
              known,
              (g) => !scope || scope.downStaysOf(g.uuid, range.fromMs, range.toMs).length > 0,
              notFound,
              ctx !== undefined,
            );
      const gpuUuid = gpu?.uuid;
      const query = {
        ...range,
        limit: q.limit ?? EVENT_LIMITS.defaultRows,
        ...(gpuUuid !== undefined ? { gpuUuid } : {}),
        ...(q.host !== undefined ? { host: q.host } : {}),
        ...(q.kind !== undefined ? { kind: q.kind } : {}),
        ...(q.code !== undefined ? { codes: q.code.split(",").map(Number) } : {}),
        ...(actions !== undefined ? { actions } : {}),
        ...(before !== undefined ? { before } : {}),
      };
      const local =
        gpu === null
          ? { generatedMs: backend.now(), limit: query.limit, next: null, events: [], ...NOT_HELD }
          : scope
            ? tenantEvents(health(), scope, query, backend.now())
            : health().events(query);
      // With peers: every collector asked for the same page of the range as resolved here, and
      // for one GPU, by peerRef's UUID (not by a host:index each resolves itself).
      const fanned = ctx
        ? await fanEvents(
            ctx,
            local,
            queryOf({
              ...q,
              gpu: ref === undefined ? undefined : (await peerRef(peerCopies(ctx), ref, known)).ref,
              from: range.fromMs,
              to: range.toMs,
              limit: query.limit,
              format: undefined,
              tenant: scope?.tenant,
            }),
            gpu === null ? notFound : undefined,
          )
        : undefined;
      const answer = fanned ?? local;
      if (!wantsCsv(q.format, req.headers.accept)) return answer;
      // The CLI's CSV of the same answer, so a tenant's is scoped as its JSON; the older page's
      // cursor (JSON's `next`) in a header, a CSV having no place for it, and the peers'.
      if (answer.next !== null) void reply.header("x-gputel-next", answer.next);
      if (fanned) peersHeaders(reply, fanned.peers);
      return csvAnswer(reply, reportFileName({ kind: "events", ...range }), eventsCsv(answer.events));
    },
  );

  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string; tenant?: string } }>(
    "/api/v1/gpus/:id/health",
    { schema: { params: gpuParams, querystring: timelineSchema }, config: SCOPED },
    async (req) => {
      const id = req.params.id;
      const known = backend.gpu(id);
      const range = parseRange(req.query, backend.now(), 7 * DAY);
      const scope = scopeFor(req, req.query.tenant, leases);
      const ctx = fanFor(fanout, req);
      const stays = (uuid: string) => (scope ? tenantStays(scope, uuid, range) : []);
      // Outside the tenant's leases in the range: the same 404 as an unknown GPU. Not held here:
      // a peer's request gets NOT_HELD; with peers, the shares of those that hold it.
      const notFound = () => unknownGpu(id);
      const gpu = listedGpu(req, known, (g) => !scope || stays(g.uuid).length > 0, notFound, !!ctx);
      const local = gpu ? localTimeline(gpu, range, scope, stays(gpu.uuid)) : undefined;
      if (!ctx) return local ?? NOT_HELD;
      // Every collector may hold a share of the range (fanout-gpu-share.ts).
      const query = {
        from: String(range.fromMs),
        to: String(range.toMs),
        ...(scope ? { tenant: scope.tenant } : {}),
      };
      const asked = {
        route: "health" as const,
        ...(await peerRef(peerCopies(ctx), id, known)),
        query,
        answer: PEER_ANSWERS.health,
      };
      const merge = (all: HealthTimeline[]) => mergeHealthTimelines(all, TIMELINE_EVENTS);
      return fanGpuShare(ctx, asked, local, merge, notFound);
    },
  );

  /** This collector's timeline of a GPU it holds, as the tenant sees it (over its `stays`). */
  function localTimeline(
    gpu: GpuView,
    range: TimeRange,
    scope: TenantScope | undefined,
    stays: LeasePeriod[],
  ): HealthTimeline {
    if (!scope) return health().timeline(gpu, range);
    // On the host of the lease (issue 15), whose flags are the ones of its time; a MIG device's
    // lease counts, its GPU being on that host then.
    const devices = scope.devicesOn(gpu.uuid);
    const host = leaseHost(backend, scope, gpu.uuid, range.fromMs, range.toMs, devices) ?? gpu.host;
    const where = leasedHosts(backend, scope);
    return tenantTimeline(health(), scope, { ...gpu, host }, stays, where, backend.now());
  }

  // A static route: Fastify matches it before /api/v1/reports/:kind.
  // With http.peers every collector's part merges (fanHealthReport); a peer's request, its own.
  app.get<{ Querystring: { from?: string; to?: string; format?: "json" | "csv" } }>(
    "/api/v1/reports/health",
    { schema: { querystring: reportSchema } },
    async (req, reply) => {
      const range = parseRange(req.query, backend.now(), 30 * DAY);
      const ctx = fanFor(fanout, req);
      const report: HealthReport & { peers?: PeersInfo } = ctx
        ? await fanHealthReport(ctx, health(), range, backend.now())
        : health().report(range);
      if (!wantsCsv(req.query.format, req.headers.accept)) return report;
      peersHeaders(reply, report.peers);
      return csvAnswer(reply, reportFileName(report), healthReportCsv(report));
    },
  );

  app.post<{ Params: { id: number }; Body: { note: string } & Partial<ListedEpisode> }>(
    "/api/v1/flags/:id/ack",
    // An acknowledgement closes reset-required flags: an operator's act, so admin only (access.ts).
    // With http.peers it is repeated on the peers' copies of the episode (fanout-ack.ts).
    { schema: ackSchema, config: { access: "admin" } },
    async (req) => {
      const { id } = req.params;
      const { note, ...body } = req.body;
      const actor = req.principal?.actor ?? "";
      const ctx = fanFor(fanout, req);
      // The schema takes the episode's fields all together or not at all.
      const listed = body.kind !== undefined ? (body as ListedEpisode) : undefined;
      // Each collector numbers its own flags, and a merged list shows peers' ids too (with
      // `peer`): an id alone may name another GPU's flag here, so with peers the flag meant is named.
      if (ctx && !listed)
        throw badParam(
          "kind",
          "with http.peers flag ids are each collector's own: send the flag as listed (kind, host, gpuUuid, startMs, endMs, values, and peer where the list names one); gputel flag ack does",
        );
      if (listed?.peer !== undefined) {
        if (!ctx) throw badParam("peer", "this collector asks no peers (http.peers)");
        return ackEpisode(ctx, health(), listed, { note, atMs: backend.now(), actor });
      }
      const done = health().acknowledge(id, note, actor, listed);
      if (!done) throw new ApiError(404, "not_found", "id", `no flag ${id}`);
      if ("unlike" in done) throw mismatch(id, done.unlike, listed);
      // Every member of a share group may hold a copy of the episode (fanout-ack.ts).
      return ctx ? { ...done, ...(await forwardAck(ctx, done)) } : done;
    },
  );
}

/** Flag `id` is `flag`, not the episode `listed` the acknowledgement named: both, for the operator. */
function mismatch(id: number, flag: Flag, listed: ListedEpisode | undefined): ApiError {
  const of = (f: Pick<Flag, "kind" | "host" | "gpuUuid" | "startMs">) =>
    `${f.kind} of ${f.gpuUuid ?? f.host} on ${f.host} from ${new Date(f.startMs).toISOString()}`;
  return new ApiError(
    409,
    "flag_mismatch",
    "id",
    `flag ${id} here is the ${of(flag)}, not the ${listed ? of(listed) : "flag named"}: nothing acknowledged (with http.peers, an id another collector's list showed is that collector's; send its peer)`,
  );
}

function unknownGpu(ref: string): ApiError {
  return new ApiError(404, "not_found", "id", `no GPU ${JSON.stringify(ref)} (give a UUID or host:index)`);
}
