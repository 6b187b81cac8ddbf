// One line per lease over a range (issue 15): what the leased GPU did while the lease was in
// force, in integers (ms, centiwatt·ms, micro-units of money), so a statement's totals are the
// exact sum of its lines and the fan-out can add collectors' parts. A GPU's past belongs to the
// lease in force at the time, never to its current labels: each line reads its own window.
//
// Attribution is by whole minutes (the finest rollup step): a minute belongs to the lease in
// force at its start (store/window-totals.ts). Leased time and cost use the lease's exact times,
// and so does down time: the GPU's down stretches inside the lease's window (down-time.ts, the
// same as the downtime report's and the tenants view's), on the hosts it was on then.
import type { Flag } from "../flags/types.js";
import type { Lease, LeaseTerms } from "../leases/model.js";
import type { Store } from "../store/store.js";
import { DownFlags, stretchMs } from "./down-time.js";
import { gpuHostChanges, gpuPlaces, type HostChange } from "./fleet-usage.js";

const HOUR_MS = 3_600_000;

/** The integer part of a lease line: what collectors add up. */
export interface LeaseLinePart {
  lease: string;
  tenant: string;
  device: string;
  gpu: string;
  host: string;
  site: string;
  model: string;
  contract: string | null;
  currency: string | null;
  /** Price per GPU-hour in micro-units of the currency; null when the lease has none. */
  priceMicros: number | null;
  /** Committed availability in thousandths of a percent; null when none. */
  availabilityMilli: number | null;
  labels: Record<string, string>;
  /** The lease's time inside the range and before now: [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  leasedMs: number;
  /** Time the collector knew the GPU in the window's minutes (busy+idle+idle-held+unknown reported). */
  coveredMs: number;
  /** Time in the window the GPU was down: lost, erroring, offline or stale (down-time.ts). */
  downMs: number;
  busyMs: number;
  idleMs: number;
  idleHeldMs: number;
  unknownReportedMs: number;
  energyCwms: number;
  energyIdleCwms: number;
  /** Sum and count of the utilization readings in the window's minutes (mean utilization = sum / count). */
  utilSum: number;
  utilCount: number;
  /** GPU flags that opened during the lease window. */
  flags: number;
}

export interface LeaseSourceData {
  store: Store;
  leases: readonly LeaseTerms[];
  flags: readonly Flag[];
  fromMs: number;
  toMs: number;
  nowMs: number;
}

/** The window a lease holds of [fromMs, toMs), up to now; empty when it holds none. */
export function leaseWindow(
  lease: Pick<Lease, "startMs" | "endMs">,
  fromMs: number,
  toMs: number,
  nowMs: number,
): { fromMs: number; toMs: number } {
  const a = Math.max(lease.startMs, fromMs);
  const b = Math.min(lease.endMs ?? Number.POSITIVE_INFINITY, toMs, nowMs);
  return { fromMs: a, toMs: Math.max(a, b) };
}

/** This collector's part of every lease overlapping the range (leases of GPUs it never saw included, at zero use). */
export function leaseLineParts(src: LeaseSourceData): LeaseLinePart[] {
  const { store } = src;
  const windows = src.leases.map((l) => ({ lease: l, w: leaseWindow(l, src.fromMs, src.toMs, src.nowMs) }));
  const known = windows.map(({ lease, w }) => ({ gpu: store.gpuByUuid(lease.gpu), w }));
  const reads = known.flatMap(({ gpu, w }) => (gpu && w.toMs > w.fromMs ? [{ gpuId: gpu.id, ...w }] : []));
  const sums = store.windowTotals(reads);
  const down = DownFlags.of(src.flags);
  // A GPU's host history is read (one seek) only when some flag could hold it down.
  const changes = new Map<number, HostChange[]>();
  const downIn = (gpuId: number, uuid: string, w: { fromMs: number; toMs: number }) => {
    if (!down.mayTouch(uuid) || w.toMs <= w.fromMs) return 0;
    let c = changes.get(gpuId);
    if (!c) {
      c = gpuHostChanges(store, gpuId);
      changes.set(gpuId, c);
    }
    return stretchMs(down.stretches(uuid, gpuPlaces(store, gpuId, w.fromMs, w.toMs, c), src.nowMs));
  };
  const flagsByGpu = new Map<string, number[]>();
  for (const f of src.flags) {
    if (f.gpuUuid === null) continue;
    const list = flagsByGpu.get(f.gpuUuid) ?? [];
    list.push(f.startMs);
    flagsByGpu.set(f.gpuUuid, list);
  }
  let k = 0;
  return windows.map(({ lease, w }, i) => {
    const gpu = known[i]?.gpu;
    const u = gpu && w.toMs > w.fromMs ? sums[k++] : undefined;
    const host = gpu ? store.host(gpu.hostId) : undefined;
    const covered = u ? u.busyMs + u.idleMs + u.idleHeldMs + u.unknownMs : 0;
    return {
      lease: lease.id,
      tenant: lease.tenant,
      device: lease.device,
      gpu: lease.gpu,
      host: host?.name ?? "",
      site: host?.site ?? "",
      model: gpu?.model ?? "",
      contract: lease.contract,
      currency: lease.currency,
      priceMicros: lease.priceMicros,
      availabilityMilli: lease.availabilityMilli,
      labels: lease.labels,
      fromMs: w.fromMs,
      toMs: w.toMs,
      leasedMs: w.toMs - w.fromMs,
      coveredMs: covered,
      downMs: gpu ? downIn(gpu.id, lease.gpu, w) : 0,
      busyMs: u?.busyMs ?? 0,
      idleMs: u?.idleMs ?? 0,
      idleHeldMs: u?.idleHeldMs ?? 0,
      unknownReportedMs: u?.unknownMs ?? 0,
      energyCwms: u?.energyCwms ?? 0,
      energyIdleCwms: u?.energyIdleCwms ?? 0,
      utilSum: u?.utilizationSum ?? 0,
      utilCount: u?.utilizationCount ?? 0,
      flags: (flagsByGpu.get(lease.gpu) ?? []).filter((t) => t >= w.fromMs && t < w.toMs).length,
    };
  });
}

/** Price × time in micro-units, rounded half up once per line (BigInt: no precision lost). */
export function costMicros(priceMicros: number | null, ms: number): number {
  if (priceMicros === null || ms <= 0) return 0;
  const num = BigInt(priceMicros) * BigInt(Math.round(ms));
  const hour = BigInt(HOUR_MS);
  return Number((num * 2n + hour) / (hour * 2n));
}
