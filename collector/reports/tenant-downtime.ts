// The hardware downtime each tenant's leased GPUs had (pure): every downtime span of a GPU (its
// lost and reset-required episodes, merged: workload Xids open neither) is attributed to the
// leases in force on that GPU at the time, whole-GPU or MIG device, each lease's share clipped to
// its [start, end). A MIG lease counts the whole GPU's downtime: its slice was down with it.
// Downtime while no lease was in force is counted apart, as unleased.
import type { Lease } from "../leases/model.js";
import type { DowntimeSpan, TenantDowntime } from "./health-types.js";

/** What the downtime by tenant reads of a lease (a peer's health report part carries no more). */
export type DowntimeLease = Pick<Lease, "id" | "tenant" | "startMs" | "endMs">;

export interface GpuDowntime {
  uuid: string;
  spans: readonly DowntimeSpan[];
  /** Leases on this GPU (or its MIG devices) overlapping the report's range. */
  leases: readonly DowntimeLease[];
}

const hours = (ms: number) => Math.round((ms / 3_600_000) * 1000) / 1000;

function overlapMs(span: DowntimeSpan, lease: DowntimeLease): number {
  const from = Math.max(span.fromMs, lease.startMs);
  const to = Math.min(span.toMs, lease.endMs ?? Number.POSITIVE_INFINITY);
  return Math.max(0, to - from);
}

/** Downtime of a span no lease covered: the span less the union of the leases over it. */
function unleasedMs(span: DowntimeSpan, leases: readonly DowntimeLease[]): number {
  const parts = leases
    .map((l) => ({ from: Math.max(span.fromMs, l.startMs), to: Math.min(span.toMs, l.endMs ?? span.toMs) }))
    .filter((p) => p.to > p.from)
    .sort((a, b) => a.from - b.from);
  let covered = 0;
  let reach = span.fromMs;
  for (const p of parts) {
    if (p.to <= reach) continue;
    covered += p.to - Math.max(p.from, reach);
    reach = p.to;
  }
  return span.toMs - span.fromMs - covered;
}

export function tenantDowntime(gpus: readonly GpuDowntime[]): {
  byTenant: TenantDowntime[];
  unleasedGpuHours: number;
} {
  const tenants = new Map<string, { ms: number; leases: Set<string>; gpus: Set<string> }>();
  let unleased = 0;
  for (const gpu of gpus) {
    for (const span of gpu.spans) {
      unleased += unleasedMs(span, gpu.leases);
      for (const lease of gpu.leases) {
        const ms = overlapMs(span, lease);
        if (ms === 0) continue;
        const t = tenants.get(lease.tenant) ?? { ms: 0, leases: new Set(), gpus: new Set() };
        t.ms += ms;
        t.leases.add(lease.id);
        t.gpus.add(gpu.uuid);
        tenants.set(lease.tenant, t);
      }
    }
  }
  const byTenant = [...tenants]
    .map(([tenant, t]) => ({
      tenant,
      hours: hours(t.ms),
      downtimeMs: t.ms,
      gpus: t.gpus.size,
      leases: [...t.leases].sort(),
    }))
    .sort((a, b) => b.downtimeMs - a.downtimeMs || a.tenant.localeCompare(b.tenant));
  return { byTenant, unleasedGpuHours: hours(unleased) };
}
