// Lease reports served by /api/v1/reports/leases and /api/v1/reports/statement (issue 15; with
// all_tenants, every tenant's statement from one read): reads
// the leases overlapping the range and the flag history once, then one window read for all
// leases (lease-lines.ts). Errors: GPUTEL_E_API for a bad range, month or grouping.
import { GputelError } from "../../shared/errors.js";
import type { Flag, FlagEpisode, FlagStart, FlagStartQuery, HistoryQuery } from "../flags/types.js";
import type { LeaseTerms } from "../leases/model.js";
import type { Store } from "../store/store.js";
import { buildStatements, type Statements } from "./all-statements.js";
import { DOWN_KINDS } from "./down-time.js";
import { alignRange } from "./fleet-usage.js";
import { type HostChange, hostChangesOf } from "./host-changes.js";
import { type LeaseLinePart, leaseLineParts } from "./lease-lines.js";
import {
  buildLeaseReport,
  buildStatement,
  LEASE_GROUPS,
  type LeaseGroupBy,
  type LeaseReport,
  type Statement,
} from "./lease-report.js";
import { flagsIn } from "./reports.js";

export interface LeaseReportSources {
  store: Store;
  flags?: {
    history(query: HistoryQuery): Flag[];
    flagStarts(query: FlagStartQuery): FlagStart[];
    flagEpisodes(query: FlagStartQuery): FlagEpisode[];
  };
  now?: () => number;
}

/** Leases a report reads at most (the bench's statement holds 20,000 over a month). */
export const MAX_LEASES = 1_000_000;

/** "2026-11" → [1 Nov 00:00 UTC, 1 Dec 00:00 UTC). */
export function monthRange(month: string): { fromMs: number; toMs: number } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m)
    throw new GputelError("GPUTEL_E_API", `month: "${month}" is not a month such as 2026-11`, {
      field: "month",
    });
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  return { fromMs: Date.UTC(y, mo, 1), toMs: Date.UTC(y, mo + 1, 1) };
}

export function parseLeaseGroupBy(by: string): LeaseGroupBy {
  if ((LEASE_GROUPS as readonly string[]).includes(by)) return by as LeaseGroupBy;
  throw new GputelError("GPUTEL_E_API", `by: "${by}" is not one of ${LEASE_GROUPS.join(", ")}`, {
    field: "by",
  });
}

/** One collector's lease line parts over a range widened to whole minutes. */
export interface LeaseParts {
  fromMs: number;
  toMs: number;
  nowMs: number;
  parts: LeaseLinePart[];
}

/**
 * This collector's lease line parts over a range (what peers exchange): of its own leases, for
 * `tenant` only when given; or, with `terms`, of those leases (another collector's) only.
 * `episodes`: each line also carries its GPU's flag episodes, for the fan-out merge to count
 * copies of one episode once (LeaseLinePart.flagEpisodes); one collector's own reports count
 * from the flag-start index alone.
 */
export function leaseParts(
  sources: LeaseReportSources,
  range: { fromMs: number; toMs: number },
  tenant?: string,
  terms?: readonly LeaseTerms[],
  episodes = false,
): LeaseParts {
  const nowMs = (sources.now ?? Date.now)();
  const { fromMs, toMs } = alignRange(sources.store, range.fromMs, range.toMs);
  const leases =
    terms ??
    sources.store.leases.list({
      ...(tenant !== undefined ? { tenant } : {}),
      fromMs,
      toMs,
      limit: MAX_LEASES,
    });
  const { store } = sources;
  const gpuIds = new Set(leases.flatMap((l) => store.gpuByUuid(l.gpu)?.id ?? []));
  // Where the leased GPUs have been (one read), for the lines and for the flags they need.
  const moved = hostChangesOf(store, gpuIds);
  // One tenant's statement reads its GPUs' flags, not the fleet's (an index seek per GPU): whole
  // episodes only of the kinds that count as down, and of the rest only when they began.
  const within = tenant !== undefined ? flagScope(store, leases, gpuIds, moved) : undefined;
  const upTo = Math.min(toMs, nowMs);
  const flags = sources.flags
    ? flagsIn(sources.flags, fromMs, upTo, { kinds: DOWN_KINDS, ...(within ? { within } : {}) })
    : [];
  const startQuery = { fromMs, toMs: upTo, ...(within ? { uuids: within.uuids } : {}) };
  const flagStarts = sources.flags ? sources.flags.flagStarts(startQuery) : [];
  const flagEpisodes = episodes ? (sources.flags?.flagEpisodes(startQuery) ?? []) : undefined;
  return {
    fromMs,
    toMs,
    nowMs,
    parts: leaseLineParts({
      store,
      leases,
      flags,
      flagStarts,
      ...(flagEpisodes ? { flagEpisodes } : {}),
      fromMs,
      toMs,
      nowMs,
      moved,
    }),
  };
}

/** The leases' GPUs and every host they have been on: whose flags their lines can need. */
function flagScope(
  store: Store,
  leases: readonly LeaseTerms[],
  gpuIds: ReadonlySet<number>,
  moved: ReadonlyMap<number, readonly HostChange[]>,
): { uuids: string[]; hosts: string[] } {
  const hosts = new Set<string>();
  for (const id of gpuIds) {
    const gpu = store.gpu(id);
    if (!gpu) continue;
    for (const hostId of [gpu.hostId, ...(moved.get(id) ?? []).map((c) => c.hostId)])
      hosts.add(store.host(hostId)?.name ?? "");
  }
  return { uuids: [...new Set(leases.map((l) => l.gpu))], hosts: [...hosts] };
}

export function leaseReport(
  sources: LeaseReportSources,
  request: { fromMs: number; toMs: number; by: LeaseGroupBy; tenant?: string },
): LeaseReport {
  const p = leaseParts(sources, request, request.tenant);
  return buildLeaseReport(p, request.by, p.parts);
}

export function statement(
  sources: LeaseReportSources,
  request: { tenant: string; month: string },
): Statement {
  const p = leaseParts(sources, monthRange(request.month), request.tenant);
  return buildStatement({ tenant: request.tenant, month: request.month, ...p }, p.parts);
}

/** Every tenant's statement for the month, from one read of all the month's leases. */
export function statements(sources: LeaseReportSources, request: { month: string }): Statements {
  const p = leaseParts(sources, monthRange(request.month));
  return buildStatements({ month: request.month, fromMs: p.fromMs, toMs: p.toMs, nowMs: p.nowMs }, p.parts);
}
