// The dashboard's tenants view (GET /api/v1/tenants): per tenant with a lease in force now or
// earlier this month (UTC), its leased GPUs now, the busy share of its leased time today and
// this month, how many of its GPUs sit idle-held now, and its availability this month against
// the lowest availability its leases commit to. Usage comes from the same per-GPU sums as every
// report (QueryBackend.pieceUsage over the lease pieces); down time is the union of the lost and
// error flags of the GPU and the offline and stale flags of its host inside each lease piece.
import type { Lease } from "../leases/model.js";
import type { LeaseService } from "../leases/service.js";
import type { QueryBackend } from "./backend.js";
import { LIMITS } from "./params.js";
import { TENANT_STEP_MS } from "./tenant-reads.js";
import { type LeasePiece, TenantScope } from "./tenant-scope.js";

const HOUR_MS = 3_600_000;
const DOWN_GPU = new Set(["lost", "error"]);
const DOWN_HOST = new Set(["offline", "stale"]);

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

export interface TenantsView {
  generatedMs: number;
  dayStartMs: number;
  monthStartMs: number;
  tenants: TenantRow[];
}

export function tenantsView(
  backend: QueryBackend,
  leases: LeaseService,
  only: string | undefined,
): TenantsView {
  const now = backend.now();
  const d = new Date(now);
  const dayStartMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const monthStartMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const month = leases.list({
    fromMs: monthStartMs,
    toMs: now + 1,
    limit: Number.MAX_SAFE_INTEGER,
    ...(only !== undefined ? { tenant: only } : {}),
  });
  const byTenant = new Map<string, Lease[]>();
  for (const l of month) {
    const list = byTenant.get(l.tenant);
    if (list) list.push(l);
    else byTenant.set(l.tenant, [l]);
  }
  const gpus = new Map(backend.gpus({}).map((g) => [g.uuid, g]));
  const downFlags = backend
    .flags({
      state: "all",
      kinds: ["lost", "error", "offline", "stale"],
      fromMs: monthStartMs,
      toMs: now,
      limit: LIMITS.maxFlagRows,
    })
    .filter((f) => (f.gpuUuid === null ? DOWN_HOST.has(f.kind) : DOWN_GPU.has(f.kind)));
  // Each lease piece needs only its GPU's and its host's flags: index them once, not per piece.
  const flagsOf = new Map<string, typeof downFlags>();
  for (const f of downFlags) {
    const key = f.gpuUuid === null ? `host:${f.host}` : `gpu:${f.gpuUuid}`;
    const list = flagsOf.get(key);
    if (list) list.push(f);
    else flagsOf.set(key, [f]);
  }
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
    const pieces = scope.pieces(monthStartMs, now, 1);
    const leasedMs = pieces.reduce((s, p) => s + (p.toMs - p.fromMs), 0);
    const downMs = pieces.reduce((s, p) => {
      const host = gpus.get(p.uuid)?.host;
      const near = [...(flagsOf.get(`gpu:${p.uuid}`) ?? []), ...(flagsOf.get(`host:${host}`) ?? [])];
      return s + downIn(p, near, host, now);
    }, 0);
    const commits = list.map((l) => l.availabilityMilli).filter((v): v is number => v !== null);
    const sla = commits.length > 0 ? Math.min(...commits) / 100_000 : null;
    const availability = leasedMs > 0 ? 1 - downMs / leasedMs : null;
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
      slaAvailability: sla,
      slaMet: sla === null || availability === null ? null : availability >= sla,
    });
  }
  return { generatedMs: now, dayStartMs, monthStartMs, tenants: rows };
}

/** Down time inside one lease piece: the union of the flags that hold its GPU down. */
export function downIn(
  piece: LeasePiece,
  flags: readonly { gpuUuid: string | null; host: string; startMs: number; endMs: number | null }[],
  host: string | undefined,
  now: number,
): number {
  const spans = flags
    .filter((f) => (f.gpuUuid === null ? f.host === host : f.gpuUuid === piece.uuid))
    .map((f) => [Math.max(f.startMs, piece.fromMs), Math.min(f.endMs ?? now, piece.toMs)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}
