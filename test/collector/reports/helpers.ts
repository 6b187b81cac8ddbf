// A small scripted fleet written into a real Store (temp SQLite file) through its normal write
// path, with exactly known GPU-hours and watt-hours.
import { expect } from "vitest";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import type { LeaseReport } from "../../../collector/reports/lease-report.js";
import type { Store } from "../../../collector/store/store.js";
import { GpuState, type IGpuSample } from "../../../shared/proto.js";

export { T0, tempStore } from "../store/synth.js";

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const STEP = 10_000;

export function busy(uuid: string, index: number, util: number, watts: number, temp = 60): IGpuSample {
  return {
    index,
    uuid,
    state: GpuState.GPU_STATE_OK,
    utilization_gpu_pct: util,
    memory_used_mib: 30_000,
    compute_processes: 1,
    power_draw_watts: watts,
    temperature_gpu_celsius: temp,
  };
}

export function idle(uuid: string, index: number, watts: number, held: boolean, temp = 35): IGpuSample {
  return {
    index,
    uuid,
    state: GpuState.GPU_STATE_OK,
    utilization_gpu_pct: 0,
    memory_used_mib: held ? 40_000 : 1,
    compute_processes: held ? 1 : 0,
    power_draw_watts: watts,
    temperature_gpu_celsius: temp,
  };
}

export function lost(uuid: string, index: number): IGpuSample {
  return { index, uuid, state: GpuState.GPU_STATE_LOST };
}

/**
 * Frames every STEP ms for [fromMs, toMs) from one host, each sample stamped mid-step and
 * covering STEP ms, so every sample (and all it covers) falls inside the range.
 */
export function writeSpan(
  store: Store,
  host: { name: string; site: string; labels: Record<string, string>; boot?: string },
  fromMs: number,
  toMs: number,
  gpus: (ts: number) => IGpuSample[],
  seq0 = 1,
): number {
  const frames: ValidFrame[] = [];
  let seq = seq0;
  for (let t = fromMs; t < toMs; t += STEP) {
    frames.push({
      host: host.name,
      boot_id: host.boot ?? "boot-1",
      seq: seq++,
      timestamp_ms: t + STEP / 2,
      interval_ms: STEP,
      site: host.site,
      labels: host.labels,
      gpus: gpus(t + STEP / 2),
    });
  }
  for (let i = 0; i < frames.length; i += 500) store.writeFrames(frames.slice(i, i + 500), toMs);
  return seq;
}

/** The integers a lease report's group sums: each must add up over the groups to the total. */
const LEASE_GROUP_SUMS = [
  "leasedMs",
  "busyMs",
  "idleMs",
  "idleHeldMs",
  "unknownMs",
  "downMs",
  "energyCwms",
  "energyIdleCwms",
  "utilSum",
  "utilCount",
  "flags",
] as const;

/** A lease report's groups add up to its total exactly: every integer, and the costs per currency. */
export function expectGroupsAddUp(r: LeaseReport): void {
  for (const k of LEASE_GROUP_SUMS)
    expect(
      r.groups.reduce((n, g) => n + g[k], 0),
      k,
    ).toBe(r.total[k]);
  for (const [currency, total] of Object.entries(r.total.costMicros))
    for (const c of ["cost", "paidIdle"] as const)
      expect(
        r.groups.reduce((n, g) => n + (g.costMicros[currency]?.[c] ?? 0), 0),
        `${currency} ${c}`,
      ).toBe(total[c]);
}
