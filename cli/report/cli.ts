// `gputel report statement|leases`: lease-aware reports over the collector's HTTP API
// (/api/v1/reports/statement, with --all-tenants every tenant's at once, and /api/v1/reports/leases), as a table for people, CSV with units
// in the column names (--format csv: the same columns the API's CSV has) or the API's JSON.
// Exit statuses as `gputel lease`: 64 bad usage, 65 refused (bad month, unknown tenant), 69 the
// collector cannot be reached, 78 the token is missing or lacks the role.
import { parseArgs } from "node:util";
import type { Statements } from "../../collector/reports/all-statements.js";
import {
  LEASE_REPORT_COLUMNS,
  leaseReportCsv,
  leaseReportRows,
  STATEMENT_COLUMNS,
  statementCsv,
  statementRows,
  statementsCsv,
  statementsRows,
} from "../../collector/reports/lease-csv.js";
import type { LeaseReport, Statement } from "../../collector/reports/lease-report.js";
import { extraOperands } from "../../shared/cli/operands.js";
import { client, defaultIo, type LeaseIo } from "../lease/cli.js";
import { RequestError, requestJson } from "../lease/request.js";
import { runApiCli, UsageError } from "../lease/run-api-cli.js";
import { resolveGivenRange } from "../query/options.js";
import { table } from "../query/table.js";

const USAGE = `Usage: gputel report <command> [options]

Commands:
  statement --tenant T --month YYYY-MM   one line per lease of the tenant in that UTC month,
                                         then the total (the exact sum of the lines)
  statement --all-tenants --month YYYY-MM
                                         every tenant's statement of the month in one request
                                         (admin or viewer token; a tenant token gets its own)
  leases [--from T] [--to T] [--by tenant|lease|site|model|host] [--tenant T]
                                         leased, busy, idle, idle-held and down GPU-hours,
                                         availability, energy and cost per group

Options:
  --format table|csv|json   output (default table)
  --url URL                 collector API (default http://127.0.0.1:8080)
  --from T, --to T          RFC 3339, epoch ms, 24h, today, yesterday, this-month, last-month
                            or a date (2026-05-01), as gputel query's --since and --until
  --token-file F            file holding an API token (else env GPUTEL_API_TOKEN); a tenant
                            token gets its own tenant only
  -h, --help

Exit status: 0 done, 64 bad usage (a missing option, an unknown command), 65 refused (bad month,
unknown tenant), 66 unreadable --token-file, 69 collector unreachable, 78 token missing or lacking
the role.
`;

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      "token-file": { type: "string" },
      tenant: { type: "string" },
      "all-tenants": { type: "boolean", default: false },
      month: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      by: { type: "string" },
      format: { type: "string", default: "table" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

type Values = ReturnType<typeof parse>["values"];

function show(
  io: LeaseIo,
  format: string,
  json: unknown,
  csv: () => string,
  header: readonly string[],
  rows: () => string[][],
) {
  if (format === "json") io.stdout(`${JSON.stringify(json, null, 2)}\n`);
  else if (format === "csv") io.stdout(csv());
  else
    io.stdout(
      table(
        { colour: false },
        header,
        rows().map((r) => r.map((text, i) => ({ text, right: i > 8 }))),
      ),
    );
}

async function command(v: Values, positionals: string[], io: LeaseIo): Promise<void> {
  const format = v.format ?? "table";
  if (!["table", "csv", "json"].includes(format)) throw new UsageError(`--format must be table, csv or json`);
  const options = client(v, io);
  const extra = extraOperands(positionals.slice(1), 0, `${positionals[0]} takes no operand`);
  if (extra && (positionals[0] === "statement" || positionals[0] === "leases")) throw new UsageError(extra);
  switch (positionals[0]) {
    case "statement": {
      if (!v.month) throw new UsageError("statement needs --month YYYY-MM");
      if (v["all-tenants"]) {
        if (v.tenant !== undefined) throw new UsageError("give --tenant or --all-tenants, not both");
        const all = await requestJson<Statements>("GET", "/api/v1/reports/statement", {
          ...options,
          query: { month: v.month, all_tenants: "true" },
        });
        show(
          io,
          format,
          all,
          () => statementsCsv(all),
          STATEMENT_COLUMNS,
          () => statementsRows(all),
        );
        return;
      }
      const s = await requestJson<Statement>("GET", "/api/v1/reports/statement", {
        ...options,
        query: { tenant: v.tenant, month: v.month },
      }).catch((error: unknown) => {
        // Without --tenant a tenant's token gets its own statement; only the collector knows
        // the token's role, so a token of the fleet's is told here, as bad usage.
        if (
          v.tenant === undefined &&
          error instanceof RequestError &&
          error.status === 400 &&
          /\(field tenant\)/.test(error.message)
        )
          throw new UsageError(
            "statement needs --tenant T or --all-tenants (a tenant's own token may give neither)",
          );
        throw error;
      });
      show(
        io,
        format,
        s,
        () => statementCsv(s),
        STATEMENT_COLUMNS,
        () => statementRows(s),
      );
      return;
    }
    case "leases": {
      const r = await requestJson<LeaseReport>("GET", "/api/v1/reports/leases", {
        ...options,
        query: { ...resolveGivenRange(v.from, v.to, Date.now()), by: v.by, tenant: v.tenant },
      });
      show(
        io,
        format,
        r,
        () => leaseReportCsv(r),
        LEASE_REPORT_COLUMNS,
        () => leaseReportRows(r),
      );
      return;
    }
    default:
      throw new UsageError(positionals[0] ? `unknown command ${positionals[0]}` : "give a command");
  }
}

export function run(args: string[], io: LeaseIo = defaultIo()): Promise<number> {
  return runApiCli({ name: "gputel report", usage: USAGE, parse, command }, args, io);
}
