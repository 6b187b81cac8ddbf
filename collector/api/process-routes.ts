// The process routes (issue 17): who holds the GPUs now and who held them (process sessions),
// per GPU, and the GPU-hours / idle-held hours report by user, job, pod or container. All three
// answer JSON, or CSV with `format=csv` / `Accept: text/csv`: the columns `gputel query
// processes [GPU]|report processes --csv` prints (report-csv.ts). They answer
// tenant tokens too: a tenant sees only sessions on the devices it leased, during its leases
// (tenant-processes.ts), one piece per stay of its own, each clipped to it; anything else is left
// out as if it did not exist. With http.peers all three merge every collector's answer
// (fanout-processes.ts); peers read their share of the report at PROCESS_PART_PATH.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GPU_REF } from "../../shared/gpu-id.js";
import { HOST_ID } from "../../shared/topics.js";
import { type PeersInfo, PROCESS_PART_PATH } from "../contract/api-contract.js";
import { FANOUT_HEADER, NOT_HELD } from "../fanout/fan-out.js";
import type { LeaseService } from "../leases/service.js";
import { PROCESS_GROUPS, type ProcessGroup } from "../reports/process-report.js";
import { processesCsv, processReportCsv, reportFileName } from "../reports/report-csv.js";
import { csvAnswer, wantsCsv } from "../request/csv-wanted.js";
import { ApiError } from "../request/errors.js";
import type { DeviceWindow, ProcessRow } from "../store/process-store.js";
import type { QueryBackend } from "./backend.js";
import { type FanOutContext, fanFor, listedGpu, peersHeaders } from "./fanout.js";
import { peerCopies, peerRef } from "./fanout-gpu-share.js";
import { fanGpuProcesses, fanProcesses, fanProcessReport } from "./fanout-processes.js";
import { parseRange } from "./params.js";
import type { ProcessBackend } from "./process-backend.js";
import { FORMAT_PARAM } from "./schemas.js";
import { tenantProcesses } from "./tenant-processes.js";
import { scopeFor, type TenantScope } from "./tenant-scope.js";

const DAY = 86_400_000;
export const PROCESS_LIMITS = { defaultRows: 200, maxRows: 5000 } as const;

const time = { type: "string", minLength: 1, maxLength: 40 } as const;
const word = { type: "string", minLength: 1, maxLength: 128, pattern: "^[^\\s/:]+$" } as const;
const tenant = {
  type: "string",
  minLength: 1,
  maxLength: 128,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
} as const;
const filters = {
  host: { type: "string", pattern: HOST_ID.source },
  user: word,
  job: { type: "string", pattern: "^[0-9]{1,20}$" },
  pod: { type: "string", pattern: "^[0-9a-f-]{32,36}$" },
  container: { type: "string", pattern: "^[0-9a-f]{12,128}$" },
  from: time,
  to: time,
  current: { type: "boolean" },
  limit: { type: "integer", minimum: 1, maximum: PROCESS_LIMITS.maxRows },
  tenant,
} as const;
const gpuParams = {
  type: "object",
  additionalProperties: false,
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 200, pattern: GPU_REF.source } },
} as const;
const scoped = <S>(schema: S) => ({ schema, config: { access: "tenant" as const } });

interface ProcessesQuery {
  gpu?: string;
  host?: string;
  user?: string;
  job?: string;
  pod?: string;
  container?: string;
  from?: string;
  to?: string;
  current?: boolean;
  limit?: number;
  tenant?: string;
  /** The list routes (/api/v1/processes, /api/v1/gpus/:id/processes) and the report. */
  format?: "json" | "csv";
}

/** Whether the tenant ever leased this GPU, whole or one of its MIG devices. */
function everLeased(scope: TenantScope, backend: QueryBackend, gpuUuid: string): boolean {
  const held = new Set(scope.devices());
  return held.has(gpuUuid) || (backend.migDevices?.(gpuUuid) ?? []).some((m) => held.has(m.uuid));
}

export function registerProcessRoutes(
  app: FastifyInstance,
  backend: QueryBackend,
  leases?: LeaseService,
  fanout?: FanOutContext,
): void {
  const processes = (): ProcessBackend => {
    if (!backend.processes) throw new ApiError(501, "not_implemented", undefined, "no process data here");
    return backend.processes;
  };
  const local = (req: FastifyRequest, q: ProcessesQuery, gpuUuids?: string[]) => {
    const now = backend.now();
    const current = q.current ?? (q.from === undefined && q.to === undefined);
    const range = parseRange(q, now, DAY);
    const scope = scopeFor(req, q.tenant, leases);
    const limit = q.limit ?? PROCESS_LIMITS.defaultRows;
    const listed = processes().list(
      {
        ...(current ? {} : range),
        limit,
        ...(gpuUuids !== undefined ? { gpuUuids } : {}),
        ...(q.host !== undefined ? { host: q.host } : {}),
        ...(q.user !== undefined ? { user: q.user } : {}),
        ...(q.job !== undefined ? { jobId: q.job } : {}),
        ...(q.pod !== undefined ? { podUid: q.pod } : {}),
        ...(q.container !== undefined ? { containerId: q.container } : {}),
        // The limit counts only sessions inside the tenant's leases, not the fleet's newest.
        ...(scope ? { within: scope.windows() } : {}),
      },
      current,
    );
    const heard = current ? hostsAsked(q, now, scope, gpuUuids) : undefined;
    // A session over several of the tenant's stays gives a piece per stay: the limit counts pieces
    // (one more than it tells whether they were cut).
    const shown = scope
      ? tenantProcesses(scope, listed.rows, {
          nowMs: now,
          current,
          ...(current ? {} : { range }),
          limit: limit + 1,
        })
      : listed.rows;
    const answer = {
      generatedMs: now,
      current,
      ...(current ? {} : range),
      // Cut at the limit: the store held more sessions, or the tenant's pieces were more. No
      // total: it would read every session that matches (a tenant's to cut them into pieces).
      truncated: listed.truncated || shown.length > limit,
      processes: shown.slice(0, limit),
      // An empty list says nothing of a host whose agent sends no process sets (its `processes`
      // source off, or its sets stopped): name those, so no one reads "nothing runs" into it.
      ...(heard ? { silentHosts: heard.silent } : {}),
      // To the collector that merges: the hosts it speaks for that do send sets here, so a host
      // that moved here and runs nothing is not named silent for the collector it left.
      ...(heard && req.headers[FANOUT_HEADER] !== undefined ? { reportingHosts: heard.reporting } : {}),
    };
    // The peers are asked for the same: the range as resolved here, the tenant's scope as tenant=.
    const asked: Record<string, string> = {
      ...(current ? {} : { from: String(range.fromMs), to: String(range.toMs) }),
      ...(gpuUuids?.[0] !== undefined ? { gpu: gpuUuids[0] } : {}),
      ...(q.host !== undefined ? { host: q.host } : {}),
      ...(q.user !== undefined ? { user: q.user } : {}),
      ...(q.job !== undefined ? { job: q.job } : {}),
      ...(q.pod !== undefined ? { pod: q.pod } : {}),
      ...(q.container !== undefined ? { container: q.container } : {}),
      ...(scope ? { tenant: scope.tenant } : {}),
    };
    return { answer, asked, limit, reporting: heard?.reporting ?? [] };
  };
  /** The hosts a current list speaks for (the GPUs' asked, the tenant's now, or all; `host=` narrows), silent or not. */
  const hostsAsked = (q: ProcessesQuery, nowMs: number, scope?: TenantScope, gpuUuids?: string[]) => {
    const held = scope?.gpusHeldAt(nowMs);
    const gpus = held && gpuUuids ? held.filter((g) => gpuUuids.includes(g)) : (held ?? gpuUuids);
    const heard = processes().hostsBySets(gpus?.flatMap((g) => backend.gpu(g)?.host ?? []));
    if (q.host === undefined) return heard;
    const only = (hosts: string[]) => hosts.filter((h) => h === q.host);
    return { silent: only(heard.silent), reporting: only(heard.reporting) };
  };
  /** The list of a GPU not held here: this collector's (empty) answer and what its peers are asked. */
  const notHeldHere = (req: FastifyRequest, q: ProcessesQuery) => {
    const none = local(req, q, []);
    return { none, empty: { ...none.answer, processes: [] } };
  };
  const answer = async (req: FastifyRequest, q: ProcessesQuery, gpuUuids?: string[]) => {
    const mine = local(req, q, gpuUuids);
    const ctx = fanFor(fanout, req);
    return ctx ? fanProcesses(ctx, mine.answer, mine.asked, mine.limit, mine.reporting) : mine.answer;
  };

  app.get<{ Querystring: ProcessesQuery }>(
    "/api/v1/processes",
    scoped({
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: {
          ...filters,
          gpu: { type: "string", minLength: 1, maxLength: 200, pattern: GPU_REF.source },
          format: FORMAT_PARAM,
        },
      },
    }),
    async (req, reply) => {
      const q = req.query;
      const list = await processList(req, q);
      if (!wantsCsv(q.format, req.headers.accept)) return list;
      return sessionsCsv(reply, list);
    },
  );

  /** The answer of /api/v1/processes: this collector's, or with peers every collector's, merged. */
  async function processList(req: FastifyRequest, q: ProcessesQuery) {
    const ref = q.gpu;
    const known = ref === undefined ? undefined : backend.gpu(ref);
    const scope = scopeFor(req, q.tenant, leases);
    const ctx = fanFor(fanout, req);
    // A GPU the tenant never leased: the same 404 as an unknown GPU, not an empty list. A GPU
    // not held here (or its tenant never leased here) gets null: an empty list here, and with
    // peers, theirs (a 404 when none holds it; listedGpu).
    const gpu =
      ref === undefined
        ? undefined
        : listedGpu(
            req,
            known,
            (g) => !scope || everLeased(scope, backend, g.uuid),
            () => unknownGpu(ref),
            ctx !== undefined,
          );
    if (gpu === null && ref !== undefined) {
      const { none, empty } = notHeldHere(req, q);
      if (!ctx) return { ...empty, ...NOT_HELD };
      // Every peer is asked for one GPU, by peerRef's UUID (a host:index not known here is named
      // by the peers' newest view), not by a host:index each resolves itself.
      const asked = { ...none.asked, gpu: (await peerRef(peerCopies(ctx), ref, known)).ref };
      return fanProcesses(ctx, empty, asked, none.limit, none.reporting, () => unknownGpu(ref));
    }
    return answer(req, q, gpu ? [gpu.uuid] : undefined);
  }

  app.get<{ Params: { id: string }; Querystring: ProcessesQuery }>(
    "/api/v1/gpus/:id/processes",
    scoped({
      params: gpuParams,
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: { ...filters, format: FORMAT_PARAM },
      },
    }),
    async (req, reply) => {
      const list = await gpuProcessList(req);
      if (!wantsCsv(req.query.format, req.headers.accept)) return list;
      // The CLI's CSV of the same answer (`gputel query processes GPU --csv`), as /api/v1/processes.
      return sessionsCsv(reply, list);
    },
  );

  /** The answer of /api/v1/gpus/:id/processes: this collector's, or with peers every collector's. */
  async function gpuProcessList(
    req: FastifyRequest<{ Params: { id: string }; Querystring: ProcessesQuery }>,
  ) {
    const id = req.params.id;
    const scope = scopeFor(req, req.query.tenant, leases);
    const ctx = fanFor(fanout, req);
    // Outside the tenant's leases, the same 404 (message included) as an unknown GPU: existence
    // does not leak. Not held here: a peer's request gets NOT_HELD; with peers, theirs.
    const known = backend.gpu(id);
    const gpu = listedGpu(
      req,
      known,
      (g) => !scope || everLeased(scope, backend, g.uuid),
      () => unknownGpu(id),
      ctx !== undefined,
    );
    if (gpu === null) {
      const { none, empty } = notHeldHere(req, req.query);
      if (!ctx) return { ...empty, ...NOT_HELD };
      const asked = await peerRef(peerCopies(ctx), id, known);
      return fanGpuProcesses(ctx, asked, empty, none.asked, none.limit, none.reporting, () => unknownGpu(id));
    }
    return {
      gpu: { uuid: gpu.uuid, host: gpu.host, index: gpu.index },
      ...(await answer(req, req.query, [gpu.uuid])),
    };
  }

  // A static route: Fastify matches it before /api/v1/reports/:kind.
  app.get<{
    Querystring: { from?: string; to?: string; by?: ProcessGroup; tenant?: string; format?: "json" | "csv" };
  }>(
    "/api/v1/reports/processes",
    scoped({
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: {
          from: time,
          to: time,
          by: { type: "string", enum: [...PROCESS_GROUPS] },
          tenant,
          format: FORMAT_PARAM,
        },
      },
    }),
    async (req, reply) => {
      const range = parseRange(req.query, backend.now(), 7 * DAY);
      const scope = scopeFor(req, req.query.tenant, leases);
      const by = req.query.by ?? "user";
      const ctx = fanFor(fanout, req);
      const merged = ctx
        ? await fanProcessReport(ctx, processes().part(range, ...visibleTo(scope, range)), by, scope?.tenant)
        : undefined;
      const report = merged ?? processes().report(range, by, ...visibleTo(scope, range));
      if (!wantsCsv(req.query.format, req.headers.accept)) return report;
      // The CLI's CSV (report-csv.ts); a merged one names missing peers in headers, as every report's.
      peersHeaders(reply, merged?.peers);
      return csvAnswer(reply, reportFileName({ kind: "processes", ...report }), processReportCsv(report));
    },
  );

  // A collector's share of the process report, for the collector that merges it (viewer role: a
  // tenant's front collector asks with the fleet's token and `tenant=`).
  app.get<{ Querystring: { from?: string; to?: string; tenant?: string } }>(
    PROCESS_PART_PATH,
    {
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { from: time, to: time, tenant },
        },
      },
    },
    async (req) => {
      const range = parseRange(req.query, backend.now(), 7 * DAY);
      const scope = scopeFor(req, req.query.tenant, leases);
      return processes().part(range, ...visibleTo(scope, range));
    },
  );

  /** The sessions a tenant may see (its pieces) and the windows its store query keeps to. */
  function visibleTo(
    scope: TenantScope | undefined,
    range: { fromMs: number; toMs: number },
  ): [((rows: ProcessRow[]) => ProcessRow[]) | undefined, readonly DeviceWindow[] | undefined] {
    if (!scope) return [undefined, undefined];
    const nowMs = backend.now();
    return [(rows) => tenantProcesses(scope, rows, { nowMs, current: false, range }), scope.windows()];
  }
}

/**
 * A process list as the CLI's CSV, so a tenant's is scoped as its JSON. What the JSON says beside
 * the rows goes in headers: a merged list's missing peers, as the reports name them, and a list cut
 * at its limit (`X-Gputel-Truncated: true`).
 */
function sessionsCsv(
  reply: FastifyReply,
  list: Parameters<typeof sessionsFileName>[0] & { truncated: boolean; processes: ProcessRow[] },
): string {
  peersHeaders(reply, "peers" in list ? (list.peers as PeersInfo) : undefined);
  if (list.truncated) void reply.header("x-gputel-truncated", "true");
  return csvAnswer(reply, sessionsFileName(list), processesCsv(list.processes));
}

/** gputel-process-sessions-FROM-TO.csv: the list's range, or the instant a current list was made. */
function sessionsFileName(list: {
  generatedMs: number;
  fromMs?: number | undefined;
  toMs?: number | undefined;
}): string {
  const fromMs = list.fromMs ?? list.generatedMs;
  return reportFileName({ kind: "process-sessions", fromMs, toMs: list.toMs ?? list.generatedMs });
}

function unknownGpu(ref: string): ApiError {
  return new ApiError(404, "not_found", "gpu", `no GPU ${JSON.stringify(ref)} (give a UUID or host:index)`);
}
