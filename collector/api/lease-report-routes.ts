// /api/v1/reports/leases and /api/v1/reports/statement (issue 15): lease-aware reports and a
// tenant's monthly statement, as JSON, or CSV with `Accept: text/csv` or `format=csv`. Tenant
// tokens get only their own tenant: the leases report is limited to it, and asking for another
// tenant's statement answers 404 (existence does not leak). Static routes: Fastify matches them
// before /api/v1/reports/:kind. Fan-out is not merged yet: with peers the answer says
// `fanout: "local only"` (the merge of parts is collector/merge/merge-leases.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GputelError } from "../../shared/errors.js";
import { leaseReportCsv, statementCsv } from "../reports/lease-csv.js";
import { buildLeaseReport, buildStatement, LEASE_GROUPS } from "../reports/lease-report.js";
import { monthRange, parseLeaseGroupBy } from "../reports/lease-reports.js";
import { wantsCsv } from "../request/csv-wanted.js";
import { ApiError, badParam } from "../request/errors.js";
import type { QueryBackend } from "./backend.js";
import { parseRange } from "./params.js";

const DAY = 86_400_000;
const TENANT = {
  type: "string",
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
} as const;
const time = { type: "string", minLength: 1, maxLength: 40 } as const;
const format = { type: "string", enum: ["json", "csv"] } as const;

const leasesSchema = {
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      from: time,
      to: time,
      by: { type: "string", enum: [...LEASE_GROUPS] },
      tenant: TENANT,
      format,
    },
  },
} as const;
const statementSchema = {
  querystring: {
    type: "object",
    additionalProperties: false,
    required: ["month"],
    properties: { tenant: TENANT, month: { type: "string", minLength: 7, maxLength: 7 }, format },
  },
} as const;

interface LeasesQuery {
  from?: string;
  to?: string;
  by?: string;
  tenant?: string;
  format?: "json" | "csv";
}
interface StatementQuery {
  tenant?: string;
  month: string;
  format?: "json" | "csv";
}

const TENANT_ROUTE = { config: { access: "tenant" as const } };

/** The tenant a request may see: a tenant token's own; 404 when it asks for another. */
function tenantOf(req: FastifyRequest, asked: string | undefined): string | undefined {
  const p = req.principal;
  if (p?.role !== "tenant") return asked;
  if (asked !== undefined && asked !== p.tenant)
    throw new ApiError(404, "not_found", "tenant", `no tenant ${JSON.stringify(asked)}`);
  return p.tenant;
}

function asApiError(error: unknown): unknown {
  if (error instanceof GputelError && error.code === "GPUTEL_E_API") {
    const field = typeof error.detail.field === "string" ? error.detail.field : "from";
    return badParam(field, error.message);
  }
  return error;
}

function csv(reply: FastifyReply, body: string, name: string): string {
  void reply.header("content-type", "text/csv; charset=utf-8");
  void reply.header("content-disposition", `attachment; filename="${name}.csv"`);
  return body;
}

export function registerLeaseReportRoutes(app: FastifyInstance, backend: QueryBackend): void {
  const parts = (): NonNullable<QueryBackend["leaseParts"]> => {
    const fn = backend.leaseParts?.bind(backend);
    if (!fn) throw new ApiError(501, "not_implemented", undefined, "no lease store here");
    return fn;
  };

  app.get<{ Querystring: LeasesQuery }>(
    "/api/v1/reports/leases",
    { schema: leasesSchema, ...TENANT_ROUTE },
    async (req, reply) => {
      const q = req.query;
      const tenant = tenantOf(req, q.tenant);
      const range = parseRange(q, backend.now(), DAY);
      try {
        const by = parseLeaseGroupBy(q.by ?? "tenant");
        const p = await parts()(range, tenant);
        const report = buildLeaseReport(p, by, p.parts);
        return wantsCsv(q.format, req.headers.accept)
          ? csv(reply, leaseReportCsv(report), `leases-by-${by}`)
          : report;
      } catch (error) {
        throw asApiError(error);
      }
    },
  );

  app.get<{ Querystring: StatementQuery }>(
    "/api/v1/reports/statement",
    { schema: statementSchema, ...TENANT_ROUTE },
    async (req, reply) => {
      const q = req.query;
      const tenant = tenantOf(req, q.tenant);
      if (tenant === undefined) throw badParam("tenant", "is required (the statement is per tenant)");
      try {
        const range = monthRange(q.month);
        const p = await parts()(range, tenant);
        const s = buildStatement({ tenant, month: q.month, ...p }, p.parts);
        return wantsCsv(q.format, req.headers.accept)
          ? csv(reply, statementCsv(s), `statement-${tenant}-${q.month}`)
          : s;
      } catch (error) {
        throw asApiError(error);
      }
    },
  );
}
