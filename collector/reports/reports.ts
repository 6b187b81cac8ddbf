// Fleet reports over any time range, grouped by site, host, GPU model, GPU or an agent label
// (docs/design.md §1, issue 4). Each reads the store once (fleet-usage.ts: rollup tiers, inventory
// history) and hands plain rows to a pure builder. Served by /api/v1/reports/:kind.
//
//   utilizationReport(sources, request): UtilizationReport
//   energyReport(sources, request): EnergyReport
//   thermalReport(sources, request & { top? }): ThermalReport     (needs sources.flags)
//   capacityReport(sources, request): CapacityReport
//   downtimeReport(sources, request): DowntimeReport               (needs sources.flags)
//   fleetReport(kind, sources, request): any of the above, by name
//
// Ranges are widened to whole minutes; time after now is not counted; an unknown GPU model
// counts as a GPU with no PFLOPS figure. Errors: GPUTEL_E_API for a bad range or kind.
import { GputelError } from "../../shared/errors.js";
import type { Flag, HistoryQuery } from "../flags/types.js";
import type { Store } from "../store/store.js";
import { buildCapacityReport, type CapacityReport } from "./capacity-report.js";
import { DOWN_KINDS } from "./down-time.js";
import { buildDowntimeReport, type DowntimeReport } from "./downtime-report.js";
import { type FleetLayout, fleetUsage, forEachStretch, readFleetLayout } from "./fleet-usage.js";
import { GroupSums } from "./group-sums.js";
import { gpuPlaces } from "./host-changes.js";
import { buildThermalReport, THERMAL_KINDS, type ThermalReport } from "./thermal-report.js";
import type { EnergyReport, ReportRequest, UtilizationReport } from "./types.js";
import { buildEnergyReport, buildUtilizationReport, groupRows } from "./usage-report.js";

export type { CapacityReport } from "./capacity-report.js";
export type { DowntimeReport } from "./downtime-report.js";
export type { ThermalReport } from "./thermal-report.js";
export type * from "./types.js";

export interface ReportSources {
  store: Store;
  /** The flag history (FlagEngine or FlagStore); the thermal report needs it. */
  flags?: { history(query: HistoryQuery): Flag[] };
  /** Wall clock (ms); tests and benches inject one. */
  now?: () => number;
}

export const REPORT_KINDS = ["utilization", "energy", "thermal", "capacity", "downtime"] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export type FleetReport = UtilizationReport | EnergyReport | ThermalReport | CapacityReport | DowntimeReport;

const TOP_DEFAULT = 10;
const TOP_MAX = 1000;
/** FlagStore.history returns at most this many per call. */
const HISTORY_PAGE = 10_000;

function usage(
  sources: ReportSources,
  request: ReportRequest,
  maxTemperature = false,
  layout: FleetLayout = readFleetLayout(sources.store),
) {
  const nowMs = (sources.now ?? Date.now)();
  if (!request.pieces)
    return fleetUsage(sources.store, request, nowMs, request.filters, maxTemperature, layout);
  // A tenant's report: each lease piece's rows (one GPU each), under the whole range's header.
  const whole = fleetUsage(sources.store, request, nowMs, { uuid: "" }, maxTemperature, layout);
  for (const p of request.pieces) {
    const filters = { ...request.filters, uuid: p.uuid };
    whole.rows.push(...fleetUsage(sources.store, p, nowMs, filters, maxTemperature, layout).rows);
  }
  return whole;
}

/**
 * The utilization and energy reports' group sums: over the fleet straight from its stretches
 * (no row per GPU), or a tenant's lease pieces from their rows.
 */
function groupSums(sources: ReportSources, request: ReportRequest) {
  if (request.pieces) {
    const u = usage(sources, request);
    return { header: u, sums: groupRows(request.groupBy, u.rows) };
  }
  const store = sources.store;
  const sums = new GroupSums(request.groupBy);
  const nowMs = (sources.now ?? Date.now)();
  const header = forEachStretch(
    store,
    request,
    nowMs,
    request.filters ?? {},
    false,
    readFleetLayout(store),
    (s) => sums.addStretch(s),
  );
  return { header, sums };
}

export function utilizationReport(sources: ReportSources, request: ReportRequest): UtilizationReport {
  const { header, sums } = groupSums(sources, request);
  return buildUtilizationReport(header, request.groupBy, sums);
}

export function energyReport(sources: ReportSources, request: ReportRequest): EnergyReport {
  const { header, sums } = groupSums(sources, request);
  return buildEnergyReport(header, request.groupBy, sums);
}

export function capacityReport(sources: ReportSources, request: ReportRequest): CapacityReport {
  const u = usage(sources, request);
  return buildCapacityReport({ fromMs: u.fromMs, toMs: u.toMs, nowMs: u.nowMs }, request.groupBy, u.rows);
}

export function thermalReport(
  sources: ReportSources,
  request: ReportRequest & { top?: number },
): ThermalReport {
  if (!sources.flags) throw new GputelError("GPUTEL_E_API", "The thermal report needs the flag history");
  const u = usage(sources, request, true);
  const site = request.filters?.site;
  const host = request.filters?.host;
  const flags = flagsIn(sources.flags, u.fromMs, Math.min(u.toMs, u.nowMs), {
    kinds: THERMAL_KINDS,
    ...(site !== undefined ? { site } : {}),
    ...(host !== undefined ? { host } : {}),
  });
  return buildThermalReport(
    { fromMs: u.fromMs, toMs: u.toMs, nowMs: u.nowMs },
    request.groupBy,
    request.filters ?? {},
    u.rows,
    flags,
    thermalTop(request.top),
  );
}

/** How many hottest GPUs the thermal report lists: `top` bounded, or the default. */
export function thermalTop(top?: number): number {
  return Math.min(Math.max(1, Math.floor(top ?? TOP_DEFAULT)), TOP_MAX);
}

export function downtimeReport(sources: ReportSources, request: ReportRequest): DowntimeReport {
  if (!sources.flags) throw new GputelError("GPUTEL_E_API", "The downtime report needs the flag history");
  const layout = readFleetLayout(sources.store);
  const u = usage(sources, request, false, layout);
  const site = request.filters?.site;
  const host = request.filters?.host;
  const flags = flagsIn(sources.flags, u.fromMs, Math.min(u.toMs, u.nowMs), {
    kinds: DOWN_KINDS,
    ...(site !== undefined ? { site } : {}),
    ...(host !== undefined ? { host } : {}),
  });
  return buildDowntimeReport(
    { fromMs: u.fromMs, toMs: u.toMs, nowMs: u.nowMs },
    request.groupBy,
    request.filters ?? {},
    u.rows,
    flags,
    // A GPU that moved is down on each host only while it was there.
    (row) => {
      const changes = layout.history.get(row.gpuId);
      if (!changes) return undefined;
      const end = Math.min(u.toMs, u.nowMs);
      return gpuPlaces(sources.store, row.gpuId, u.fromMs, end, changes).filter((p) => p.host === row.host);
    },
  );
}

export function fleetReport(
  kind: string,
  sources: ReportSources,
  request: ReportRequest & { top?: number },
): FleetReport {
  switch (kind) {
    case "utilization":
      return utilizationReport(sources, request);
    case "energy":
      return energyReport(sources, request);
    case "thermal":
      return thermalReport(sources, request);
    case "capacity":
      return capacityReport(sources, request);
    case "downtime":
      return downtimeReport(sources, request);
    default:
      throw new GputelError("GPUTEL_E_API", `Unknown report "${kind}"`, { kind, kinds: REPORT_KINDS });
  }
}

/**
 * Every episode overlapping [fromMs, toMs) (of `filter.kinds`, or all kinds), paging past the
 * history's limit. Also read by the lease reports (flags raised during a lease).
 */
export function flagsIn(
  source: NonNullable<ReportSources["flags"]>,
  fromMs: number,
  toMs: number,
  filter: Pick<HistoryQuery, "kinds" | "site" | "host" | "within"> = {},
): Flag[] {
  const out = new Map<number, Flag>();
  let upTo = toMs;
  for (;;) {
    const page = source.history({ ...filter, fromMs, toMs: upTo, limit: HISTORY_PAGE });
    const before = out.size;
    for (const f of page) out.set(f.id, f);
    if (page.length < HISTORY_PAGE || out.size === before) break;
    // Newest start first: go on from the oldest start of this page (its ties are deduplicated).
    upTo = Math.min(...page.map((f) => f.startMs));
  }
  return [...out.values()];
}
