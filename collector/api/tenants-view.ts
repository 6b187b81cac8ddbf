// The dashboard's tenants view (GET /api/v1/tenants): per tenant with a lease in force now or
// earlier this month (UTC), its leased GPUs now, the busy share of its leased time today and
// this month, how many of its GPUs sit idle-held now, and its availability this month against
// the lowest availability its leases commit to. The busy share, leased and down time are the
// statement's over today and over the month so far, from the same lease line parts (lease-lines.ts:
// each lease's minutes, down-time.ts's stretches inside each lease), so the view and the statement
// give the same figures, and collectors' parts add up exactly (merge-leases.ts). And the
// leases that ended in the last 30 days, so the dashboard can still open the down time of a lease
// no longer in force (a MIG device's tenant has no other way to its GPU's timeline).
//
// The view is built from its source (TenantsViewSource): one collector's leases, GPUs and lease
// line parts here, or every collector's merged (fanout-tenants.ts), so that the merged view is
// the one a single collector holding every lease and frame gives.
import type { GpuView, TimeRange } from "../contract/api-contract.js";
import type { LeaseTerms } from "../leases/model.js";
import type { LeaseService } from "../leases/service.js";
import type { GpuWhereabouts } from "../reports/host-changes.js";
import type { LeaseLinePart } from "../reports/lease-lines.js";
import { type LeaseGroup, leaseGroup, leaseLine, meetsCommitment } from "../reports/lease-report.js";
import type { QueryBackend } from "./backend.js";

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

/** The spans the view reads, from `nowMs` (UTC day and month). */
export function viewSpans(nowMs: number) {
  const d = new Date(nowMs);
  const dayStartMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const monthStartMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const endedFromMs = nowMs - ENDED_RANGE_MS;
  return {
    dayStartMs,
    monthStartMs,
    endedFromMs,
    /** The leases read: those overlapping [leasesFromMs, nowMs + 1), the month's and `ended`'s. */
    leasesFromMs: Math.min(monthStartMs, endedFromMs),
  };
}

/** What the view is built from: one collector's, or every collector's merged (fanout-tenants.ts). */
export interface TenantsViewSource {
  nowMs: number;
  /** Every lease (of the one tenant asked for, if any) overlapping [leasesFromMs, nowMs + 1). */
  leases: readonly LeaseTerms[];
  /** The GPUs now, by UUID: where each is and its usage class. */
  gpus: ReadonlyMap<string, Pick<GpuView, "host" | "index" | "usage">>;
  /** The lease line parts (of the same leases) over the month so far and over today. */
  month: readonly LeaseLinePart[];
  today: readonly LeaseLinePart[];
  /** Where GPUs were over time (their inventory history), where kept. */
  hostsOverTime?: (uuids: readonly string[]) => GpuWhereabouts;
}

/** This collector's view: its own leases, GPUs and lease line parts. */
export async function tenantsView(
  backend: QueryBackend,
  leases: LeaseService,
  only: string | undefined,
): Promise<TenantsView> {
  const nowMs = backend.now();
  const s = viewSpans(nowMs);
  const tenant = only !== undefined ? { tenant: only } : {};
  const [month, today] = await Promise.all([
    ownParts(backend, { fromMs: s.monthStartMs, toMs: nowMs }, only),
    ownParts(backend, { fromMs: s.dayStartMs, toMs: nowMs }, only),
  ]);
  return buildTenantsView({
    nowMs,
    leases: leases.list({
      fromMs: s.leasesFromMs,
      toMs: nowMs + 1,
      limit: Number.MAX_SAFE_INTEGER,
      ...tenant,
    }),
    gpus: new Map(backend.gpus({}).map((g) => [g.uuid, g])),
    month,
    today,
    ...(backend.hostsOverTime ? { hostsOverTime: backend.hostsOverTime.bind(backend) } : {}),
  });
}

/** This collector's lease line parts over `range` (none for an empty range or without lease parts). */
async function ownParts(
  backend: QueryBackend,
  range: TimeRange,
  only: string | undefined,
): Promise<LeaseLinePart[]> {
  if (!backend.leaseParts || range.toMs <= range.fromMs) return [];
  return (await backend.leaseParts(range, only)).parts;
}

/** Leases in the store's order (start, then id), whatever collector each came from. */
function byStart(a: LeaseTerms, b: LeaseTerms): number {
  return a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function buildTenantsView(src: TenantsViewSource): TenantsView {
  const now = src.nowMs;
  const { dayStartMs, monthStartMs, endedFromMs } = viewSpans(now);
  const { gpus } = src;
  const all = [...src.leases].sort(byStart);
  const byTenant = new Map<string, LeaseTerms[]>();
  for (const l of all) {
    if (!(l.endMs === null || l.endMs > monthStartMs)) continue;
    const list = byTenant.get(l.tenant);
    if (list) list.push(l);
    else byTenant.set(l.tenant, [l]);
  }
  const month = perTenant(src.month);
  const today = perTenant(src.today);
  const rows: TenantRow[] = [];
  for (const [tenant, list] of [...byTenant].sort(([a], [b]) => a.localeCompare(b))) {
    const inForce = list.filter((l) => l.startMs <= now && (l.endMs === null || now < l.endMs));
    const held = inForce.map((l) => ({
      uuid: l.device,
      host: gpus.get(l.gpu)?.host ?? "",
      index: gpus.get(l.gpu)?.index ?? -1,
      leaseId: l.id,
      sinceMs: l.startMs,
    }));
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
      utilizationToday: today.get(tenant)?.utilizationRate ?? null,
      utilizationMonth: sums?.utilizationRate ?? null,
      leasedHoursMonth: leasedMs / HOUR_MS,
      downHoursMonth: downMs / HOUR_MS,
      availabilityMonth: availability,
      slaAvailability: slaMilli === null ? null : slaMilli / 100_000,
      slaMet: slaMilli === null || availability === null ? null : meetsCommitment(leasedMs, downMs, slaMilli),
    });
  }
  const ended = all
    .filter(
      (l): l is LeaseTerms & { endMs: number } => l.endMs !== null && l.endMs > endedFromMs && l.endMs <= now,
    )
    .sort((a, b) => b.endMs - a.endMs || a.id.localeCompare(b.id));
  // An ended lease names the host its GPU was on when it ended, never the one it moved to since
  // (another tenant's, perhaps); the index there is not kept, so a GPU that moved has none (-1).
  const where = src.hostsOverTime?.([...new Set(ended.map((l) => l.gpu))]);
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

/** Per tenant, its statement's total over the parts' range. */
function perTenant(parts: readonly LeaseLinePart[]): Map<string, LeaseGroup> {
  const lines = new Map<string, ReturnType<typeof leaseLine>[]>();
  for (const p of parts) {
    const list = lines.get(p.tenant);
    if (list) list.push(leaseLine(p));
    else lines.set(p.tenant, [leaseLine(p)]);
  }
  const out = new Map<string, LeaseGroup>();
  for (const [tenant, list] of lines) out.set(tenant, leaseGroup("total", list));
  return out;
}
