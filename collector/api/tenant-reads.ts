// The fleet-wide reads (summary, wall-screen cells) as one tenant sees them: counted from its
// own GPUs only (those it leases now), the flags of its lease periods, and usage over the parts
// of its lease periods inside the range. Pure apart from the QueryBackend it reads.
import type { GpuView, HostView, Summary, TimeRange } from "../contract/api-contract.js";
import type { Flag } from "../flags/types.js";
import { type SummaryInput, summarize, summaryRange } from "../merge/summary.js";
import { type GpuWhereabouts, whereaboutsNow } from "../reports/host-changes.js";
import { usageTotals } from "../usage/usage-sums.js";
import type { QueryBackend } from "./backend.js";
import type { FlagScope } from "./flag-scope.js";
import type { FleetCells } from "./fleet-cells.js";
import { EVERY_OPEN_FLAG } from "./params.js";
import { openEntries, type TenantScope, tenantFlags, tenantGpuView } from "./tenant-scope.js";

/** Rollup steps are whole minutes: a tenant's usage covers only the minutes its lease holds. */
export const TENANT_STEP_MS = 60_000;

/** The GPUs a tenant leases now, as it sees them (tenantGpuView). */
export function tenantGpus(backend: QueryBackend, scope: TenantScope, nowMs: number): GpuView[] {
  return tenantGpuViews(backend, scope, backend.gpus({}), nowMs);
}

/** Of these GPUs, those the tenant leases now, as it sees them (tenantGpuView). */
export function tenantGpuViews(
  backend: QueryBackend,
  scope: TenantScope,
  gpus: readonly GpuView[],
  nowMs: number,
): GpuView[] {
  const held = gpus.filter((g) => scope.holdsAt(g.uuid, nowMs));
  if (held.length === 0) return [];
  const entries = openEntries(tenantOpenFlags(backend, scope, nowMs));
  return held.map((g) => tenantGpuView(g, entries));
}

/** Open flags of the tenant's GPUs (and their hosts' stale/offline flags), as /api/v1/flags shows them. */
export function tenantOpenFlags(backend: QueryBackend, scope: TenantScope, nowMs: number): Flag[] {
  const where = leasedHosts(backend, scope);
  const all = backend.flags({
    state: "open",
    limit: EVERY_OPEN_FLAG,
    within: tenantFlagScope(scope, where),
  });
  // A flag closed at its lease's end is no longer open for the tenant.
  return tenantFlags(scope, all, where, nowMs).filter((f) => f.endMs === null);
}

/**
 * The flags a tenant's reads can show, for the store to read only those: its GPUs' and the
 * host-level flags of every host they were on during its stays. Read fleet-wide, the newest
 * LIMITS.maxFlagRows of a large fleet are other tenants' flags, and the tenant's own fell out.
 */
export function tenantFlagScope(scope: TenantScope, where: GpuWhereabouts): FlagScope {
  const hosts = new Set<string>();
  for (const w of scope.windows()) for (const p of where.places(w.gpu, w.fromMs, w.toMs)) hosts.add(p.host);
  return { uuids: scope.gpus(), hosts: [...hosts] };
}

/** A summary's input with this collector's own lists (a fan-out merges them with its peers'). */
export interface TenantSummaryInput {
  generatedMs: number;
  gpus: readonly GpuView[];
  hosts: HostView[];
  openFlags: Flag[];
  range: SummaryInput["range"];
}

/**
 * What one tenant's summary counts on this collector: the GPUs it leases now, their hosts, their
 * open flags, and its usage over the minutes of its lease periods inside the range.
 */
export function tenantSummaryInput(
  backend: QueryBackend,
  scope: TenantScope,
  range: TimeRange,
): TenantSummaryInput {
  const now = backend.now();
  const gpus = tenantGpus(backend, scope, now);
  const { fromMs, toMs } = summaryRange(range);
  const pieces = scope.pieces(fromMs, toMs, TENANT_STEP_MS);
  const usage = backend.pieceUsage ? backend.pieceUsage(pieces) : usageTotals([]);
  return {
    generatedMs: now,
    ...heldNow(
      gpus,
      { hosts: tenantHostsNow(backend, scope, now), gpus: new Set(scope.gpusHeldAt(now)) },
      backend.hosts(),
      tenantOpenFlags(backend, scope, now),
    ),
    range: { fromMs, toMs, ...usage },
  };
}

/**
 * The hosts of the devices a tenant holds now. A MIG device's is its GPU's host: the tenant holds
 * no whole GPU there, but the host's offline or stale flag holds its device in doubt all the same.
 */
export function tenantHostsNow(backend: QueryBackend, scope: TenantScope, nowMs: number): Set<string> {
  const held = new Set(scope.gpusHeldAt(nowMs));
  return new Set(
    backend
      .gpus({})
      .filter((g) => held.has(g.uuid))
      .map((g) => g.host),
  );
}

/**
 * The hosts and open flags that concern a tenant's devices: only flags of GPUs it holds now or of
 * the GPUs its MIG devices held now are on (`held.gpus`: its flag list shows only their down
 * flags), or of the hosts of the devices it holds now (`held.hosts`, its GPUs' among them): a
 * past lease's flag is no problem of its fleet now.
 */
export function heldNow<
  G extends { uuid: string; host: string },
  H extends { name: string },
  F extends Pick<Flag, "host" | "gpuUuid">,
>(
  gpus: readonly G[],
  held: { hosts: ReadonlySet<string>; gpus: ReadonlySet<string> },
  hosts: readonly H[],
  openFlags: readonly F[],
): { gpus: readonly G[]; hosts: H[]; openFlags: F[] } {
  const hostNames = new Set([...held.hosts, ...gpus.map((g) => g.host)]);
  const heldGpus = new Set([...held.gpus, ...gpus.map((g) => g.uuid)]);
  return {
    gpus,
    hosts: hosts.filter((h) => hostNames.has(h.name)),
    openFlags: openFlags.filter((f) =>
      f.gpuUuid === null ? hostNames.has(f.host) : heldGpus.has(f.gpuUuid),
    ),
  };
}

/** The summary of one tenant's GPUs: the same shape and counting as the fleet's (merge/summary.ts). */
export function tenantSummary(backend: QueryBackend, scope: TenantScope, range: TimeRange): Summary {
  return summarize(tenantSummaryInput(backend, scope, range));
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

/**
 * Where the GPUs of the tenant's leases (a MIG device's: its GPU) were over time (issue 15: a
 * past lease shows the host of its time, never the host a GPU moved to since); their hosts now
 * where the backend keeps no history.
 */
export function leasedHosts(backend: QueryBackend, scope: TenantScope): GpuWhereabouts {
  if (backend.hostsOverTime) return backend.hostsOverTime(scope.gpus());
  const now = new Map(backend.gpus({}).map((g) => [g.uuid, g.host]));
  return whereaboutsNow((uuid) => now.get(uuid));
}

/**
 * The host a GPU was on at the end of the tenant's latest lease period in [fromMs, toMs) (what
 * its lease report line names) of the GPU, or of any of `devices` (the GPU's MIG devices too, for
 * its health timeline); undefined outside its leases.
 */
export function leaseHost(
  backend: QueryBackend,
  scope: TenantScope,
  uuid: string,
  fromMs: number,
  toMs: number,
  devices: readonly string[] = [uuid],
): string | undefined {
  const period = scope.latestPeriod(devices, fromMs, toMs);
  if (!period) return undefined;
  const endMs = Math.min(period.endMs, toMs, backend.now() + 1);
  const hostAt = backend.hostsOverTime?.([uuid]).hostAt ?? ((id: string) => backend.gpu(id)?.host);
  return hostAt(uuid, endMs - 1);
}

/**
 * A tenant's range usage over several collectors, added up: each counts its own samples of the
 * tenant's lease periods; rates are recomputed from the sums and the mean weighted by known time.
 */
export function addRangeUsage(
  ranges: readonly Summary["utilization"]["range"][],
): Summary["utilization"]["range"] {
  const [first, ...rest] = ranges;
  if (!first) throw new Error("addRangeUsage needs at least one range");
  const a = { ...first };
  const known = (r: Summary["utilization"]["range"]) => r.busyHours + r.idleHours + r.idleHeldHours;
  for (const b of rest) {
    a.meanUtilizationPct = weighted(a.meanUtilizationPct, known(a), b.meanUtilizationPct, known(b));
    a.busyHours += b.busyHours;
    a.idleHours += b.idleHours;
    a.idleHeldHours += b.idleHeldHours;
    a.unknownHours += b.unknownHours;
    a.energyKwh += b.energyKwh;
    a.energyIdleKwh += b.energyIdleKwh;
    const k = known(a);
    a.utilizationRate = k > 0 ? a.busyHours / k : null;
  }
  return a;
}

function weighted(a: number | null, wa: number, b: number | null, wb: number): number | null {
  const sa = a === null ? 0 : wa;
  const sb = b === null ? 0 : wb;
  if (sa + sb === 0) return a ?? b;
  return ((a ?? 0) * sa + (b ?? 0) * sb) / (sa + sb);
}
