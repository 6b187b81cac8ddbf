// The routes peers call (docs/scaling.md, "Query fan-out"): a collector's own share of a report,
// in integers, for the collector that merges them. Viewer role (the fleet's token is admin);
// tenants never reach them: a tenant's fan-out is asked by its front collector, with the scope
// as `tenant=`.
//   GET  /api/v1/fanout/report-part?from&to            utilization / energy / summary (report-part.ts)
//   GET  /api/v1/fanout/fleet-part?kind&from&to         thermal / capacity / downtime (fleet-part.ts)
//   GET  /api/v1/fanout/lease-parts?from&to[&tenant]   lease lines of this collector's own leases
//   POST /api/v1/fanout/lease-parts {from, to, leases}  lease lines of leases another collector holds
//   GET  /api/v1/fanout/open-flags[?tenant]             every open flag here, for a merged summary
//   GET  /api/v1/fanout/leases?from&to[&tenant]         every lease here in the range, for a merged tenants view
//   GET  /api/v1/fanout/health-part?from&to            the fleet health report (health-part.ts)
//   GET  /api/v1/fanout/summary-gpus[?tenant][&cells]   every GPU here, compact, for a merged summary (or cells)
//   POST /api/v1/fanout/ack {kind, host, gpuUuid, …}    acknowledge this collector's copy of an
//                                                       episode another one acknowledged (admin)
import type { FastifyInstance } from "fastify";
import { HOST_ID } from "../../shared/topics.js";
import {
  ACK_COPY_PATH,
  type AckCopyAnswer,
  type AckCopyRequest,
  type CellGpu,
  FLEET_PART_KINDS,
  FLEET_PART_PATH,
  type FleetPartKind,
  type GpuView,
  HEALTH_PART_PATH,
  LEASE_PARTS_PATH,
  LEASE_TERMS_PATH,
  OPEN_FLAGS_PATH,
  type OpenFlagKey,
  REPORT_PART_PATH,
  SUMMARY_GPUS_PATH,
  type SummaryGpu,
} from "../contract/api-contract.js";
import { FLAG_KINDS } from "../flags/types.js";
import type { LeaseTerms } from "../leases/model.js";
import type { LeaseService } from "../leases/service.js";
import { ApiError } from "../request/errors.js";
import type { QueryBackend } from "./backend.js";
import { checkRange, EVERY_OPEN_FLAG, parseRange } from "./params.js";
import { query, type RangeQuery, schemas, time } from "./schemas.js";
import { tenantGpus, tenantOpenFlags } from "./tenant-reads.js";
import { scopeFor, type TenantScope } from "./tenant-scope.js";

const DAY = 86_400_000;
/** 20,000 leases' terms take about 6 MB of JSON; 32 MiB holds about 100,000. */
export const LEASE_TERMS_BODY_LIMIT = 32 * 1024 * 1024;

const tenant = {
  type: "string",
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
} as const;
const nullable = (type: string, more: object = {}) => ({ type: [type, "null"], ...more });

/** A lease's terms as peers send them: the store's fields, bounded as the lease model bounds them. */
const termsSchema = {
  type: "object",
  additionalProperties: false,
  required: [
    "id",
    "device",
    "gpu",
    "tenant",
    "startMs",
    "endMs",
    "contract",
    "priceMicros",
    "currency",
    "availabilityMilli",
    "labels",
  ],
  properties: {
    id: { type: "string", minLength: 1, maxLength: 64 },
    device: { type: "string", minLength: 1, maxLength: 200 },
    gpu: { type: "string", minLength: 1, maxLength: 200 },
    tenant,
    startMs: { type: "integer" },
    endMs: nullable("integer"),
    contract: nullable("string", { maxLength: 200 }),
    priceMicros: nullable("integer", { minimum: 0 }),
    currency: nullable("string", { maxLength: 3 }),
    availabilityMilli: nullable("integer", { minimum: 0, maximum: 100_000 }),
    labels: {
      type: "object",
      maxProperties: 32,
      additionalProperties: { type: "string", maxLength: 200 },
    },
  },
} as const;

/** An acknowledged episode is a few hundred bytes: a forwarded acknowledgement is refused past 16 KiB. */
export const ACK_COPY_BODY_LIMIT = 16 * 1024;

/** The episode and acknowledgement another collector forwards, bounded as the ack route bounds its note. */
const ackCopySchema = {
  body: {
    type: "object",
    additionalProperties: false,
    required: ["kind", "host", "gpuUuid", "startMs", "endMs", "values", "note", "atMs", "actor"],
    properties: {
      kind: { type: "string", enum: [...FLAG_KINDS] },
      host: { type: "string", pattern: HOST_ID.source },
      gpuUuid: nullable("string", { minLength: 1, maxLength: 200 }),
      startMs: { type: "integer", minimum: 0 },
      endMs: nullable("integer", { minimum: 0 }),
      values: {
        type: "object",
        maxProperties: 8,
        additionalProperties: {
          anyOf: [
            { type: "string", maxLength: 200 },
            { type: "number" },
            { type: "boolean" },
            { type: "null" },
          ],
        },
      },
      note: { type: "string", minLength: 1, maxLength: 1000 },
      atMs: { type: "integer", minimum: 0 },
      actor: { type: "string", maxLength: 200 },
    },
  },
} as const;

const schemasOf = {
  fleetPart: {
    querystring: query({ kind: { type: "string", enum: [...FLEET_PART_KINDS] }, from: time, to: time }),
  },
  leaseParts: { querystring: query({ from: time, to: time, tenant }) },
  openFlags: { querystring: query({ tenant }) },
  summaryGpus: { querystring: query({ tenant, cells: { type: "boolean" } }) },
  leaseTerms: {
    body: {
      type: "object",
      additionalProperties: false,
      required: ["from", "to", "leases"],
      properties: {
        from: { type: "integer" },
        to: { type: "integer" },
        leases: { type: "array", items: termsSchema },
      },
    },
  },
} as const;

interface TermsBody {
  from: number;
  to: number;
  leases: LeaseTerms[];
}

function need<K extends "reportPart" | "fleetPart" | "leaseParts">(
  backend: QueryBackend,
  name: K,
): NonNullable<QueryBackend[K]> {
  const fn = backend[name];
  if (!fn) throw new ApiError(501, "not_implemented", undefined, "no report parts here");
  return fn.bind(backend) as NonNullable<QueryBackend[K]>;
}

/**
 * This collector's open flags (a tenant's when scoped, as its own summary reads them), whole and
 * as much of each as the summary's merge reads: at most one per kind, GPU and host.
 */
function openFlagKeys(backend: QueryBackend, scope: TenantScope | undefined): OpenFlagKey[] {
  const open = scope
    ? tenantOpenFlags(backend, scope, backend.now())
    : backend.flags({ state: "open", limit: EVERY_OPEN_FLAG });
  return open.map(({ kind, host, gpuUuid, startMs, endMs, updatedMs }) => ({
    kind,
    host,
    gpuUuid,
    startMs,
    endMs,
    updatedMs,
  }));
}

/** A GPU view as much as the merged summary reads of it (SummaryGpu). */
export function summaryGpu(g: GpuView): SummaryGpu {
  const u = g.values.utilization_gpu_pct;
  return {
    uuid: g.uuid,
    host: g.host,
    index: g.index,
    state: g.state,
    usage: g.usage,
    timestampMs: g.timestampMs,
    values: u !== undefined ? { utilization_gpu_pct: u } : {},
  };
}

/** A GPU view as much as the wall's cells draw of it (CellGpu). */
export function cellGpu(g: GpuView): CellGpu {
  const { utilization_gpu_pct: util, temperature_gpu_celsius: temp } = g.values;
  return {
    ...summaryGpu(g),
    model: g.model,
    site: g.site,
    labels: g.labels,
    values: {
      ...(util !== undefined ? { utilization_gpu_pct: util } : {}),
      ...(temp !== undefined ? { temperature_gpu_celsius: temp } : {}),
    },
    flags: g.flags.map((f) => ({ kind: f.kind })),
  };
}

export function registerFanoutRoutes(
  app: FastifyInstance,
  backend: QueryBackend,
  leases?: LeaseService,
): void {
  app.get<{ Querystring: RangeQuery }>(REPORT_PART_PATH, { schema: schemas.reportPart }, async (req) =>
    need(backend, "reportPart")(parseRange(req.query, backend.now(), DAY)),
  );

  app.get<{ Querystring: RangeQuery & { kind?: FleetPartKind } }>(
    FLEET_PART_PATH,
    { schema: schemasOf.fleetPart },
    async (req) => {
      const kind = req.query.kind;
      if (kind === undefined)
        throw new ApiError(400, "bad_request", "kind", `kind is required: ${FLEET_PART_KINDS.join(", ")}`);
      return need(backend, "fleetPart")(kind, parseRange(req.query, backend.now(), DAY));
    },
  );

  // The health report's own range bound (health-routes.ts): 30 days.
  app.get<{ Querystring: RangeQuery }>(HEALTH_PART_PATH, { schema: schemas.reportPart }, async (req) => {
    if (!backend.health) throw new ApiError(501, "not_implemented", undefined, "no health data here");
    return backend.health.part(parseRange(req.query, backend.now(), 30 * DAY));
  });

  app.get<{ Querystring: RangeQuery }>(LEASE_PARTS_PATH, { schema: schemasOf.leaseParts }, async (req) =>
    // A peer asks for its merge: with each line's flag episodes (reports/lease-reports.ts).
    need(backend, "leaseParts")(parseRange(req.query, backend.now(), DAY), req.query.tenant, undefined, true),
  );

  app.get<{ Querystring: { tenant?: string } }>(
    OPEN_FLAGS_PATH,
    { schema: schemasOf.openFlags },
    async (req) => ({
      flags: openFlagKeys(backend, scopeFor(req, req.query.tenant, leases)),
    }),
  );

  app.get<{ Querystring: RangeQuery & { tenant?: string } }>(
    LEASE_TERMS_PATH,
    { schema: schemasOf.leaseParts },
    async (req) => {
      if (!leases) throw new ApiError(501, "not_implemented", undefined, "no lease store here");
      const { fromMs, toMs } = parseRange(req.query, backend.now(), DAY);
      const tenant = req.query.tenant;
      const all = leases.list({
        fromMs,
        toMs,
        limit: Number.MAX_SAFE_INTEGER,
        ...(tenant ? { tenant } : {}),
      });
      // Terms only: where a lease came from (`source`) is this collector's business.
      return { leases: all.map(({ source: _, ...terms }): LeaseTerms => terms) };
    },
  );

  // Every GPU, as a tenant's GPU list or the summary reads it: whole, where /api/v1/gpus stops at
  // LIMITS.maxGpuRows (a fleet past it, or every collector knowing every GPU from the inventories).
  // With `cells=true`, as much as the wall's cells draw (/api/v1/fleet/cells with peers).
  app.get<{ Querystring: { tenant?: string; cells?: boolean } }>(
    SUMMARY_GPUS_PATH,
    { schema: schemasOf.summaryGpus },
    async (req) => {
      const scope = scopeFor(req, req.query.tenant, leases);
      const gpus = scope ? tenantGpus(backend, scope, backend.now()) : backend.gpus({});
      return { gpus: gpus.map(req.query.cells === true ? cellGpu : summaryGpu) };
    },
  );

  app.post<{ Body: AckCopyRequest }>(
    ACK_COPY_PATH,
    // It closes flags, as the acknowledgement it repeats: admin only (access.ts), never a viewer's.
    { schema: ackCopySchema, bodyLimit: ACK_COPY_BODY_LIMIT, config: { access: "admin" } },
    async (req): Promise<AckCopyAnswer> => {
      if (!backend.health) throw new ApiError(501, "not_implemented", undefined, "no health data here");
      return { copy: backend.health.acknowledgeCopy(req.body)?.flag ?? null };
    },
  );

  app.post<{ Body: TermsBody }>(
    LEASE_PARTS_PATH,
    { schema: schemasOf.leaseTerms, bodyLimit: LEASE_TERMS_BODY_LIMIT },
    async (req) => {
      const { from, to, leases } = req.body;
      checkRange(from, to);
      return need(backend, "leaseParts")({ fromMs: from, toMs: to }, undefined, leases, true);
    },
  );
}
