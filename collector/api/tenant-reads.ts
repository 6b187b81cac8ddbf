// The fleet-wide reads (summary, wall-screen cells) as one tenant sees them: counted from its
// own GPUs only (those it leases now), the flags of its lease periods, and usage over the parts
// of its lease periods inside the range. Pure apart from the QueryBackend it reads.
import type { GpuView, Summary, TimeRange } from "../contract/api-contract.js";
import type { Flag } from "../flags/types.js";
import { summarize, summaryRange } from "../merge/summary.js";
import { usageTotals } from "../usage/usage-sums.js";
import type { QueryBackend } from "./backend.js";
import type { FleetCells } from "./fleet-cells.js";
import { LIMITS } from "./params.js";
import { type TenantScope, tenantFlags, tenantGpuView } from "./tenant-scope.js";

/** Rollup steps are whole minutes: a tenant's usage covers only the minutes its lease holds. */
export const TENANT_STEP_MS = 60_000;

/** The GPUs a tenant leases now, as it sees them (host labels left out). */
export function tenantGpus(backend: QueryBackend, scope: TenantScope, nowMs: number): GpuView[] {
  return backend
    .gpus({})
    .filter((g) => scope.holdsAt(g.uuid, nowMs))
    .map((g) => tenantGpuView(scope, g, nowMs));
}

/** Open flags of the tenant's GPUs (and their hosts' stale/offline flags), as /api/v1/flags shows them. */
export function tenantOpenFlags(backend: QueryBackend, scope: TenantScope, nowMs: number): Flag[] {
  const all = backend.flags({ state: "open", limit: LIMITS.maxFlagRows });
  // A flag closed at its lease's end is no longer open for the tenant.
  return tenantFlags(scope, all, gpusOfHost(backend), nowMs).filter((f) => f.endMs === null);
}

/** The summary of one tenant's GPUs: the same shape and counting as the fleet's (merge/summary.ts). */
export function tenantSummary(backend: QueryBackend, scope: TenantScope, range: TimeRange): Summary {
  const now = backend.now();
  const gpus = tenantGpus(backend, scope, now);
  const hostNames = new Set(gpus.map((g) => g.host));
  const held = new Set(gpus.map((g) => g.uuid));
  // Only flags of GPUs it holds now (or their hosts): a past lease's flag is no problem of its fleet now.
  const openFlags = tenantOpenFlags(backend, scope, now).filter((f) =>
    f.gpuUuid === null ? hostNames.has(f.host) : held.has(f.gpuUuid),
  );
  const { fromMs, toMs } = summaryRange(range);
  const pieces = scope.pieces(fromMs, toMs, TENANT_STEP_MS);
  const usage = backend.pieceUsage ? backend.pieceUsage(pieces) : usageTotals([]);
  return summarize({
    generatedMs: now,
    hosts: backend.hosts().filter((h) => hostNames.has(h.name)),
    gpus,
    openFlags,
    range: { fromMs, toMs, ...usage },
  });
}

/** The wall screen's cells for the tenant's own GPUs. */
export function tenantCells(
  backend: QueryBackend,
  scope: TenantScope,
  layout: boolean,
  gpus?: readonly GpuView[],
): FleetCells | undefined {
  return backend.fleetCells?.({ layout, gpus: gpus ?? tenantGpus(backend, scope, backend.now()) });
}

/** Today's GPUs of each host (host-level flags concern a tenant whose GPU is there). */
export function gpusOfHost(backend: QueryBackend): (host: string) => readonly string[] {
  const byHost = new Map<string, string[]>();
  for (const g of backend.gpus({})) {
    const list = byHost.get(g.host) ?? [];
    list.push(g.uuid);
    byHost.set(g.host, list);
  }
  return (host) => byHost.get(host) ?? [];
}

/**
 * Tenant summaries of several collectors added up (the fan-out): each counts its own GPUs, so
 * counts add; rates are recomputed from the sums and means weighted by what they are means of.
 */
export function addSummaries(parts: readonly Summary[]): Summary {
  const [first, ...rest] = parts;
  if (!first) throw new Error("addSummaries needs at least one summary");
  const out: Summary = structuredClone(first);
  const addTo = (into: Record<string, number>, from: Record<string, number | undefined>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + (v ?? 0);
  };
  for (const s of rest) {
    out.hosts.total += s.hosts.total;
    addTo(out.hosts.byStatus, s.hosts.byStatus);
    out.gpus.total += s.gpus.total;
    addTo(out.gpus.byState, s.gpus.byState);
    out.flags.open += s.flags.open;
    out.flags.gpusFlagged += s.flags.gpusFlagged;
    addTo(out.flags.byKind as Record<string, number>, s.flags.byKind);
    const a = out.utilization;
    const b = s.utilization;
    const mean = weighted(a.meanNowPct ?? null, a.now.known, b.meanNowPct ?? null, b.now.known);
    a.now.busy += b.now.busy;
    a.now.known += b.now.known;
    a.now.rate = a.now.known > 0 ? a.now.busy / a.now.known : null;
    a.meanNowPct = mean;
    const known = (r: Summary["utilization"]["range"]) => r.busyHours + r.idleHours + r.idleHeldHours;
    a.range.meanUtilizationPct = weighted(
      a.range.meanUtilizationPct,
      known(a.range),
      b.range.meanUtilizationPct,
      known(b.range),
    );
    a.range.busyHours += b.range.busyHours;
    a.range.idleHours += b.range.idleHours;
    a.range.idleHeldHours += b.range.idleHeldHours;
    a.range.unknownHours += b.range.unknownHours;
    a.range.energyKwh += b.range.energyKwh;
    a.range.energyIdleKwh += b.range.energyIdleKwh;
    const k = known(a.range);
    a.range.utilizationRate = k > 0 ? a.range.busyHours / k : null;
  }
  return out;
}

function weighted(a: number | null, wa: number, b: number | null, wb: number): number | null {
  const sa = a === null ? 0 : wa;
  const sb = b === null ? 0 : wb;
  if (sa + sb === 0) return a ?? b;
  return ((a ?? 0) * sa + (b ?? 0) * sb) / (sa + sb);
}
