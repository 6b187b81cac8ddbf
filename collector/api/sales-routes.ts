// GET /api/v1/reports/sales (issue 15, "Fleet figures"): the sold rate, the used rate and the
// GPUs for sale now by model with their PFLOPS (collector/reports/sales-report.ts), as JSON, or
// CSV with `Accept: text/csv` or `format=csv` (the same CSV as every report: a group column,
// the rows' scalar columns, a TOTAL line). Fleet-wide figures: the route keeps the default
// viewer level, so a tenant token gets 403 like the other fleet-wide reports. A static route:
// Fastify matches it before /api/v1/reports/:kind. This collector's GPUs and leases only: with
// http.peers the answer says "local only" rather than pass it off as the fleet's.
import type { FastifyInstance } from "fastify";
import { FANOUT_HEADER } from "../fanout/fan-out.js";
import { reportCsv, reportFileName } from "../reports/report-csv.js";
import { SALES_GROUPS, type SalesGroupBy } from "../reports/sales-report.js";
import { csvAnswer, wantsCsv } from "../request/csv-wanted.js";
import { ApiError } from "../request/errors.js";
import type { QueryBackend } from "./backend.js";
import { parseRange } from "./params.js";
import { FORMAT_PARAM, query, time } from "./schemas.js";

const DAY = 86_400_000;

const schema = {
  querystring: query({
    from: time,
    to: time,
    by: {
      type: "string",
      enum: [...SALES_GROUPS],
      description: "group by the GPU's current model, site or host",
    },
    format: FORMAT_PARAM,
  }),
} as const;

interface SalesQuery {
  from?: string;
  to?: string;
  by?: SalesGroupBy;
  format?: "json" | "csv";
}

export function registerSalesRoutes(
  app: FastifyInstance,
  backend: QueryBackend,
  peers: readonly string[],
): void {
  app.get<{ Querystring: SalesQuery }>("/api/v1/reports/sales", { schema }, async (req, reply) => {
    if (!backend.sales) throw new ApiError(501, "not_implemented", undefined, "no sales figures here");
    const range = parseRange(req.query, backend.now(), DAY);
    const report = await backend.sales(range, req.query.by ?? "model");
    if (wantsCsv(req.query.format, req.headers.accept))
      return csvAnswer(reply, reportFileName(report), reportCsv(report));
    const fanned = peers.length > 0 && req.headers[FANOUT_HEADER] === undefined;
    return fanned ? { ...report, fanout: "local only" } : report;
  });
}
