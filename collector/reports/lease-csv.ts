// Lease reports and statements as CSV (API `Accept: text/csv` or `format=csv`, CLI `--format csv`)
// and as table rows for the CLI: one column set, units in the column names. Hours, kWh and money
// are printed from the integers with fixed decimals; a statement's total line is its own row.
// Written by the one CSV writer (shared/csv.ts), lines ending in \n as every gputel CSV's.
import { csv } from "../../shared/csv.js";
import type { Statements } from "./all-statements.js";
import type { LeaseGroup, LeaseLine, LeaseReport, Statement } from "./lease-report.js";

const H = 3_600_000;
const KWH = 100 * 3_600_000 * 1000;

function fixed(n: number | null, digits: number): string {
  return n === null ? "" : n.toFixed(digits);
}

function pct(n: number | null): string {
  return n === null ? "" : (n * 100).toFixed(3);
}

const USAGE_COLUMNS = [
  "leased_gpu_h",
  "busy_gpu_h",
  "idle_gpu_h",
  "idle_held_gpu_h",
  "unknown_gpu_h",
  "down_gpu_h",
  "utilization_pct",
  "mean_utilization_pct",
  "availability_pct",
  "energy_kwh",
  "busy_energy_kwh",
  "idle_energy_kwh",
  "flags",
] as const;

function usageCells(x: {
  leasedMs: number;
  busyMs: number;
  idleMs: number;
  idleHeldMs: number;
  unknownMs: number;
  downMs: number;
  utilizationRate: number | null;
  meanUtilizationPct: number | null;
  availabilityRate: number | null;
  energyCwms: number;
  energyIdleCwms: number;
  flags: number;
}): string[] {
  return [
    fixed(x.leasedMs / H, 4),
    fixed(x.busyMs / H, 4),
    fixed(x.idleMs / H, 4),
    fixed(x.idleHeldMs / H, 4),
    fixed(x.unknownMs / H, 4),
    fixed(x.downMs / H, 4),
    pct(x.utilizationRate),
    fixed(x.meanUtilizationPct, 3),
    pct(x.availabilityRate),
    fixed(x.energyCwms / KWH, 6),
    fixed((x.energyCwms - x.energyIdleCwms) / KWH, 6),
    fixed(x.energyIdleCwms / KWH, 6),
    String(x.flags),
  ];
}

export const STATEMENT_COLUMNS = [
  "lease",
  "tenant",
  "gpu",
  "host",
  "site",
  "model",
  "contract",
  "start",
  "end",
  ...USAGE_COLUMNS,
  "committed_availability_pct",
  "sla",
  "currency",
  "price_per_gpu_h",
  "cost",
  "paid_idle_cost",
] as const;

const iso = (ms: number) => new Date(ms).toISOString();

function lineCells(l: LeaseLine): string[] {
  return [
    l.lease,
    l.tenant,
    l.gpu,
    l.host,
    l.site,
    l.model,
    l.contract ?? "",
    iso(l.fromMs),
    iso(l.toMs),
    ...usageCells(l),
    l.committedAvailabilityPct === null ? "" : String(l.committedAvailabilityPct),
    l.sla ?? "",
    l.currency ?? "",
    l.priceMicros === null ? "" : fixed(l.priceMicros / 1e6, 6),
    l.currency === null ? "" : fixed(l.costMicros / 1e6, 6),
    l.currency === null ? "" : fixed(l.paidIdleCostMicros / 1e6, 6),
  ];
}

/** The total: one row per currency (or one without), money summed per currency; `tenant` fills its column. */
function totalCells(t: LeaseGroup, tenant = ""): string[][] {
  const currencies = Object.keys(t.costMicros).sort();
  const money = currencies.length > 0 ? currencies : [""];
  return money.map((cur) => {
    const c = t.costMicros[cur];
    return [
      "total",
      tenant,
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      ...usageCells(t),
      "",
      t.slaMissed > 0 ? `missed:${t.slaMissed}` : "",
      cur,
      "",
      c ? fixed(c.cost / 1e6, 6) : "",
      c ? fixed(c.paidIdle / 1e6, 6) : "",
    ];
  });
}

/** The statement's rows: its lines, then the total row(s). */
export function statementRows(s: Statement): string[][] {
  return [...s.lines.map(lineCells), ...totalCells(s.total)];
}

export function statementCsv(s: Statement): string {
  return csv(STATEMENT_COLUMNS, statementRows(s));
}

/** Every tenant's statement, one after another: its lines, then its total row(s) naming the tenant. */
export function statementsRows(all: Statements): string[][] {
  return all.statements.flatMap((s) => [...s.lines.map(lineCells), ...totalCells(s.total, s.tenant)]);
}

export function statementsCsv(all: Statements): string {
  return csv(STATEMENT_COLUMNS, statementsRows(all));
}

export const LEASE_REPORT_COLUMNS = [
  "key",
  "leases",
  "gpus",
  ...USAGE_COLUMNS,
  "sla_missed",
  "currency",
  "cost",
  "paid_idle_cost",
] as const;

function groupRows(g: LeaseGroup): string[][] {
  const currencies = Object.keys(g.costMicros).sort();
  return (currencies.length > 0 ? currencies : [""]).map((cur) => {
    const c = g.costMicros[cur];
    return [
      g.key,
      String(g.leases),
      String(g.gpus),
      ...usageCells(g),
      String(g.slaMissed),
      cur,
      c ? fixed(c.cost / 1e6, 6) : "",
      c ? fixed(c.paidIdle / 1e6, 6) : "",
    ];
  });
}

export function leaseReportRows(r: LeaseReport): string[][] {
  return [...r.groups.flatMap(groupRows), ...groupRows(r.total)];
}

export function leaseReportCsv(r: LeaseReport): string {
  return csv(LEASE_REPORT_COLUMNS, leaseReportRows(r));
}
