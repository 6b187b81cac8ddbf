// A report as one tenant sees it: the report engine's own computation, over the tenant's lease
// pieces only (each leased GPU over the whole minutes of its lease periods inside the range),
// never over other tenants' GPUs or time. The route applies the scope; the engine is unchanged.
import type { Report, ReportGroupBy, ReportKind, TimeRange } from "../contract/api-contract.js";
import { ApiError, badParam } from "../request/errors.js";
import type { QueryBackend } from "./backend.js";
import { TENANT_STEP_MS } from "./tenant-reads.js";
import type { TenantScope } from "./tenant-scope.js";

/** Kinds a tenant may ask for: the thermal report reads whole hosts' flag history. */
export const TENANT_REPORT_KINDS: readonly ReportKind[] = ["utilization", "energy", "capacity"];

export async function tenantReport(
  backend: QueryBackend,
  scope: TenantScope,
  kind: ReportKind,
  range: TimeRange,
  by: ReportGroupBy,
  fanned: boolean,
): Promise<Report & { fanout?: string }> {
  if (!TENANT_REPORT_KINDS.includes(kind))
    throw new ApiError(
      403,
      "forbidden",
      "kind",
      `the ${kind} report covers whole hosts: a tenant's view has ${TENANT_REPORT_KINDS.join(", ")}`,
    );
  // Host labels may name other tenants: a tenant groups by what it is shown.
  if (typeof by !== "string")
    throw badParam("by", "a tenant's report groups by site, host, model or gpu (host labels are not shown)");
  const pieces = scope.pieces(range.fromMs, range.toMs, TENANT_STEP_MS);
  const report = await backend.report(kind, range, by, pieces);
  // Peers are not asked: their parts are not scoped yet. Say so rather than pass this collector off as the fleet.
  return fanned ? { ...report, fanout: "local only" } : report;
}
