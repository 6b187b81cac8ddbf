// /api/v1/reports/leases and /api/v1/reports/statement (issue 15): lease-aware reports and a
// tenant's monthly statement, as JSON, or CSV with `Accept: text/csv` or `format=csv`. Tenant
// tokens get only their own tenant: the leases report is limited to it, and asking for another
// tenant's statement answers 404 (existence does not leak). Static routes: Fastify matches them
// before /api/v1/reports/:kind. With http.peers both merge every collector's lease line parts
// (fanout-leases.ts) and say which peers they asked and which are missing (`peers`; in CSV the
// x-gputel-peers-* headers); a tenant's scope travels to the peers as `tenant=`. With
// `all_tenants=true` the statement route answers every tenant's statement of the month at once.
// An admin or viewer asking the statement of a tenant no lease names, in any month, gets 404
// `tenant` naming the tenants with leases that month (a typo is the operator's error, not an empty
// statement), with peers when no collector's lease names it; a known tenant with no lease that
// month gets its valid empty statement.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GputelError } from "../../shared/errors.js";
import type { PeersInfo, TimeRange } from "../contract/api-contract.js";
import { settle } from "../fanout/fan-out.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import type { LeaseService } from "../leases/service.js";
import { buildStatements } from "../reports/all-statements.js";
import { leaseReportCsv, statementCsv, statementsCsv } from "../reports/lease-csv.js";
import { buildLeaseReport, buildStatement, LEASE_GROUPS } from "../reports/lease-report.js";
import type { LeaseParts } from "../reports/lease-reports.js";
import { monthRange, parseLeaseGroupBy } from "../reports/lease-reports.js";
import { reportFileName } from "../reports/report-csv.js";
import { csvAnswer, wantsCsv } from "../request/csv-wanted.js";
import { ApiError, badParam } from "../request/errors.js";
import type { QueryBackend } from "./backend.js";
import { ask, type FanOutContext, fanFor, peersHeaders } from "./fanout.js";
import { fanLeaseParts } from "./fanout-leases.js";
import { parseRange } from "./params.js";
import { FORMAT_PARAM } from "./schemas.js";

const DAY = 86_400_000;
const TENANT = {
  type: "string",
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
} as const;
const time = { type: "string", minLength: 1, maxLength: 40 } as const;

const leasesSchema = {
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      from: time,
      to: time,
      by: { type: "string", enum: [...LEASE_GROUPS] },
      tenant: TENANT,
      format: FORMAT_PARAM,
    },
  },
} as const;
const statementSchema = {
  querystring: {
    type: "object",
    additionalProperties: false,
    required: ["month"],
    properties: {
      tenant: TENANT,
      month: { type: "string", minLength: 7, maxLength: 7 },
      all_tenants: { type: "boolean" },
      format: FORMAT_PARAM,
    },
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
  all_tenants?: boolean;
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

/** Tenants named at most in the 404 of an unknown tenant; more are cut with "…". */
const NAMED_TENANTS = 20;
/** A peer's leases of the month read for the tenants the 404 names (its lease list's largest page). */
const PEER_LEASES = 10_000;

/**
 * 404 `tenant` when no lease of this collector's store names `tenant` at any time: the statement
 * of an unknown tenant is an operator's error (a typo), not an empty statement. Only for fleet
 * tokens (the message names other tenants). With peers (`ctx`), leases are each collector's own
 * records (fanout-leases.ts): the tenant is unknown only when every peer answered and none names
 * it either, and the message names every collector's tenants of the month. A peer that did not
 * answer may name it: the empty statement then stands, naming that peer missing.
 */
async function refuseUnknownTenant(
  leases: LeaseService,
  ctx: FanOutContext | undefined,
  tenant: string,
  month: string,
  range: TimeRange,
): Promise<void> {
  if (leases.list({ tenant, limit: 1 }).length > 0) return;
  const names = new Set(leases.list({ ...range, limit: Number.MAX_SAFE_INTEGER }).map((l) => l.tenant));
  let cut = false;
  if (ctx) {
    type LeaseList = { leases: { tenant: string }[]; truncated: boolean };
    const asked = settle(
      await ask<LeaseList>(ctx, "/api/v1/leases", { tenant, limit: "1" }, PEER_ANSWERS.leases),
    );
    if (asked.missing.length > 0 || asked.data.some((d) => d.leases.length > 0)) return;
    const window = { from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString() };
    const lists = await ask<LeaseList>(
      ctx,
      "/api/v1/leases",
      { ...window, limit: String(PEER_LEASES) },
      PEER_ANSWERS.leases,
    );
    // A peer gone since the first question leaves names out: the 404 stands (none named the tenant).
    for (const list of settle(lists).data) {
      for (const l of list.leases) names.add(l.tenant);
      cut ||= list.truncated;
    }
  }
  const sorted = [...names].sort();
  const shown =
    sorted.length === 0
      ? "none"
      : sorted.length > NAMED_TENANTS || cut
        ? `${sorted.slice(0, NAMED_TENANTS).join(", ")} …`
        : sorted.join(", ");
  throw new ApiError(
    404,
    "not_found",
    "tenant",
    `no lease of tenant ${JSON.stringify(tenant)} (tenants with leases in ${month}: ${shown})`,
  );
}

function asApiError(error: unknown): unknown {
  if (error instanceof GputelError && error.code === "GPUTEL_E_API") {
    const field = typeof error.detail.field === "string" ? error.detail.field : "from";
    return badParam(field, error.message);
  }
  return error;
}

/** The report's header: the parts themselves are the peers' exchange, not part of the answer. */
function headerOf(p: LeaseParts): { fromMs: number; toMs: number; nowMs: number } {
  return { fromMs: p.fromMs, toMs: p.toMs, nowMs: p.nowMs };
}

export function registerLeaseReportRoutes(
  app: FastifyInstance,
  backend: QueryBackend,
  fanout?: FanOutContext,
  leases?: LeaseService,
): void {
  /** This collector's parts, or with peers every collector's, merged. */
  const parts = async (
    req: FastifyRequest,
    range: TimeRange,
    tenant: string | undefined,
  ): Promise<LeaseParts & { peers?: PeersInfo }> => {
    const ctx = fanFor(fanout, req);
    if (ctx) return fanLeaseParts(ctx, backend, range, tenant);
    if (!backend.leaseParts) throw new ApiError(501, "not_implemented", undefined, "no lease store here");
    return backend.leaseParts(range, tenant);
  };
  const peers = (p: { peers?: PeersInfo }) => (p.peers ? { peers: p.peers } : {});

  app.get<{ Querystring: LeasesQuery }>(
    "/api/v1/reports/leases",
    { schema: leasesSchema, ...TENANT_ROUTE },
    async (req, reply) => {
      const q = req.query;
      const tenant = tenantOf(req, q.tenant);
      const range = parseRange(q, backend.now(), DAY);
      try {
        const by = parseLeaseGroupBy(q.by ?? "tenant");
        const p = await parts(req, range, tenant);
        const report = buildLeaseReport(headerOf(p), by, p.parts);
        if (!wantsCsv(q.format, req.headers.accept)) return { ...report, ...peers(p) };
        peersHeaders(reply, p.peers);
        return csvAnswer(
          reply,
          reportFileName({ ...report, kind: `leases-by-${by}` }),
          leaseReportCsv(report),
        );
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
      if (q.all_tenants === true) return allStatements(req, reply, q);
      const tenant = tenantOf(req, q.tenant);
      if (tenant === undefined)
        throw badParam(
          "tenant",
          "is required (the statement is per tenant; all_tenants=true for every tenant's)",
        );
      try {
        const range = monthRange(q.month);
        const p = await parts(req, range, tenant);
        const s = buildStatement({ tenant, month: q.month, ...headerOf(p) }, p.parts);
        if (s.lines.length === 0 && leases && req.principal?.role !== "tenant")
          await refuseUnknownTenant(leases, fanFor(fanout, req), tenant, q.month, range);
        if (!wantsCsv(q.format, req.headers.accept)) return { ...s, ...peers(p) };
        peersHeaders(reply, p.peers);
        return csvAnswer(reply, reportFileName({ ...s, kind: `statement-${tenant}` }), statementCsv(s));
      } catch (error) {
        throw asApiError(error);
      }
    },
  );

  /**
   * Every tenant's statement for the month from one read of the month's leases (the billing run).
   * A tenant token gets its own statement alone in the list: the scope is its tenant, as in the
   * leases report; naming a tenant beside all_tenants is refused.
   */
  async function allStatements(req: FastifyRequest, reply: FastifyReply, q: StatementQuery) {
    if (q.tenant !== undefined) throw badParam("tenant", "cannot be given with all_tenants=true");
    const tenant = tenantOf(req, undefined);
    try {
      const range = monthRange(q.month);
      const p = await parts(req, range, tenant);
      const all = buildStatements({ month: q.month, ...headerOf(p) }, p.parts);
      if (!wantsCsv(q.format, req.headers.accept)) return { ...all, ...peers(p) };
      peersHeaders(reply, p.peers);
      return csvAnswer(reply, reportFileName(all), statementsCsv(all));
    } catch (error) {
      throw asApiError(error);
    }
  }
}
