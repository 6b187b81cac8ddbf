// The month's statements of every tenant in one request (issue 15: the billing run): the lease
// line parts are read once for all leases, then cut by tenant, and each tenant's statement is
// built by buildStatement from its own parts alone, so it is the same statement the tenant's own
// request gives (its totals the exact sum of its lines). Tenants without a lease in the month have
// no statement.

import type { LeaseLinePart } from "./lease-lines.js";
import { buildStatement, type Statement } from "./lease-report.js";

export interface Statements {
  kind: "statements";
  month: string;
  fromMs: number;
  toMs: number;
  nowMs: number;
  /** One per tenant with a lease in the month, by tenant name. */
  statements: Statement[];
}

export function buildStatements(
  header: { month: string; fromMs: number; toMs: number; nowMs: number },
  parts: readonly LeaseLinePart[],
): Statements {
  const byTenant = new Map<string, LeaseLinePart[]>();
  for (const p of parts) {
    const list = byTenant.get(p.tenant);
    if (list) list.push(p);
    else byTenant.set(p.tenant, [p]);
  }
  const tenants = [...byTenant.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    kind: "statements",
    ...header,
    statements: tenants.map((tenant) =>
      buildStatement({ tenant, ...header }, byTenant.get(tenant) as LeaseLinePart[]),
    ),
  };
}
