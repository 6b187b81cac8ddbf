// The dashboard's tenants view (GET /api/v1/tenants): per tenant with a lease in force now or
// earlier this month (UTC), its leased GPUs now, the busy share of its leased time today and
// this month, how many of its GPUs sit idle-held now, and its availability this month against
// the lowest availability its leases commit to. Usage comes from the same per-GPU sums as every
// report (QueryBackend.pieceUsage over the lease pieces). Leased and down time this month are the
// month's statement so far, from the same lease line parts (lease-lines.ts: down-time.ts's
// stretches inside each lease), so the view and the statement give the same availability. And the
// leases that ended in the last 30 days, so the dashboard can still open the down time of a lease
// no longer in force (a MIG device's tenant has no other way to its GPU's timeline).
import type { Lease } from "../leases/model.js";
import type { LeaseService } from "../leases/service.js";
import { type LeaseGroup, leaseGroup, leaseLine, meetsCommitment } from "../reports/lease-report.js";
import type { QueryBackend } from "./backend.js";
import { TENANT_STEP_MS } from "./tenant-reads.js";
import { TenantScope } from "./tenant-scope.js";

const HOUR_MS = 3_600_000;
/**
 * How far back `ended` reaches: the range of the health timeline the dashboard opens for a
 * device (its TIMELINE_RANGE), so each lease listed there still has down time it can show.
 */
export const ENDED_RANGE_MS = 30 * 24 * HOUR_MS;

export interface TenantGpu {
  uuid: string;
  host: string;
  index: number;
  leaseId: string;
  sinceMs: number;
}

export interface TenantRow {
  tenant: string;
  leasedGpus: number;
  gpus: TenantGpu[];
  idleHeldNow: number;
  /** busy / (busy + idle + idle-held) of its leased time; null when none was known. */
  utilizationToday: number | null;
  utilizationMonth: number | null;
  leasedHoursMonth: number;
  downHoursMonth: number;
  /** 1 − down / leased this month; null before any leased time. */
  availabilityMonth: number | null;
  /** The lowest committed availability (0–1) of its leases this month; null when none commits. */
  slaAvailability: number | null;
  slaMet: boolean | null;
}

/** A lease that ended in the last ENDED_RANGE_MS: its device, the GPU's place now, its span. */
export interface EndedLease extends TenantGpu {
  tenant: string;
  endMs: number;
}

export interface TenantsView {
  generatedMs: number;
  dayStartMs: number;
  monthStartMs: number;
  tenants: TenantRow[];
  /** Where `ended` starts: now − ENDED_RANGE_MS. */
  endedFromMs: number;
  /** The leases that ended in [endedFromMs, now], newest end first (a tenant token: its own). */
  ended: EndedLease[];
}

export async function tenantsView(
  backend: QueryBackend,
  leases: LeaseService,
  only: string | undefined,
): Promise<TenantsView> {
  const now = backend.now();
  const d = new Date(now);
  const dayStartMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const monthStartMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const inMonth = leases.list({
    fromMs: monthStartMs,
    toMs: now + 1,
    limit: Number.MAX_SAFE_INTEGER,
    ...(only !== undefined ? { tenant: only } : {}),
  });
  const byTenant = new Map<string, Lease[]>();
  for (const l of inMonth) {
    const list = byTenant.get(l.tenant);
    if (list) list.push(l);
    else byTenant.set(l.tenant, [l]);
  }
  const gpus = new Map(backend.gpus({}).map((g) => [g.uuid, g]));
  const month = await monthSoFar(backend, monthStartMs, now, only);
  const rows: TenantRow[] = [];
  for (const [tenant, list] of [...byTenant].sort(([a], [b]) => a.localeCompare(b))) {
    const scope = TenantScope.of(leases, tenant);
    const inForce = list.filter((l) => l.startMs <= now && (l.endMs === null || now < l.endMs));
    const held = inForce.map((l) => ({
      uuid: l.device,
      host: gpus.get(l.gpu)?.host ?? "",
      index: gpus.get(l.gpu)?.index ?? -1,
      leaseId: l.id,
      sinceMs: l.startMs,
    }));
    const rate = (fromMs: number) => {
      const u = backend.pieceUsage?.(scope.pieces(fromMs, now, TENANT_STEP_MS));
      return u?.utilizationRate ?? null;
    };
    const sums = month.get(tenant);
    const leasedMs = sums?.leasedMs ?? 0;
    const downMs = sums?.downMs ?? 0;
    const commits = list.map((l) => l.availabilityMilli).filter((v): v is number => v !== null);
    const slaMilli = commits.length > 0 ? Math.min(...commits) : null;
    const availability = sums?.availabilityRate ?? null;
    rows.push({
      tenant,
      leasedGpus: held.length,
      gpus: held,
      idleHeldNow: held.filter((g) => gpus.get(g.uuid)?.usage === "idle_held").length,
      utilizationToday: rate(dayStartMs),
      utilizationMonth: rate(monthStartMs),
      leasedHoursMonth: leasedMs / HOUR_MS,
      downHoursMonth: downMs / HOUR_MS,
      availabilityMonth: availability,
      slaAvailability: slaMilli === null ? null : slaMilli / 100_000,
      slaMet: slaMilli === null || availability === null ? null : meetsCommitment(leasedMs, downMs, slaMilli),
    });
  }
  const endedFromMs = now - ENDED_RANGE_MS;
  const ended = leases
    .list({
      fromMs: endedFromMs,
      toMs: now + 1,
      limit: Number.MAX_SAFE_INTEGER,
      ...(only !== undefined ? { tenant: only } : {}),
    })
    .filter(
      (l): l is Lease & { endMs: number } => l.endMs !== null && l.endMs > endedFromMs && l.endMs <= now,
    )
    .sort((a, b) => b.endMs - a.endMs || a.id.localeCompare(b.id));
  // An ended lease names the host its GPU was on when it ended, never the one it moved to since
  // (another tenant's, perhaps); the index there is not kept, so a GPU that moved has none (-1).
  const where = backend.hostsOverTime?.([...new Set(ended.map((l) => l.gpu))]);
  const endedView = ended.map((l) => {
    const current = gpus.get(l.gpu);
    const host = where?.hostAt(l.gpu, l.endMs - 1) ?? current?.host ?? "";
    return {
      tenant: l.tenant,
      uuid: l.device,
      host,
      index: current && current.host === host ? current.index : -1,
      leaseId: l.id,
      sinceMs: l.startMs,
      endMs: l.endMs,
    };
  });
  return { generatedMs: now, dayStartMs, monthStartMs, tenants: rows, endedFromMs, ended: endedView };
}

/** Per tenant, its statement's total for the month up to now (none where the backend has no lease parts). */
async function monthSoFar(
  backend: QueryBackend,
  monthStartMs: number,
  now: number,
  only: string | undefined,
): Promise<Map<string, LeaseGroup>> {
  const out = new Map<string, LeaseGroup>();
  if (!backend.leaseParts || now <= monthStartMs) return out;
  const { parts } = await backend.leaseParts({ fromMs: monthStartMs, toMs: now }, only);
  const lines = new Map<string, ReturnType<typeof leaseLine>[]>();
  for (const p of parts) {
    const list = lines.get(p.tenant);
    if (list) list.push(leaseLine(p));
    else lines.set(p.tenant, [leaseLine(p)]);
  }
  for (const [tenant, list] of lines) out.set(tenant, leaseGroup("total", list));
  return out;
}
