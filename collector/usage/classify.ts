// How one GPU sample counts toward utilization reports: the same rule feeds the rollup
// tiers' state durations and the idle / idle-held flags, so reports and flags agree.
import type { IGpuSample } from "../../shared/proto.js";
import { GpuState } from "../../shared/proto.js";

export type UsageClass = "busy" | "idle" | "idle_held" | "unknown";

export interface IdleThresholds {
  /** Utilization below this percentage is idle (default 5). */
  utilizationPct: number;
  /** Memory allocated above this many MiB while idle makes it idle-held (default 1024). */
  heldMemoryMib: number;
}

export const DEFAULT_IDLE_THRESHOLDS: IdleThresholds = { utilizationPct: 5, heldMemoryMib: 1024 };

export function present<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}

/**
 * Classifies one sample. Unknown is never idle nor busy: a GPU that was not read (timeout,
 * lost, error) or whose utilization is absent without a MIG fallback is "unknown".
 * On MIG-enabled GPUs `utilization.gpu` is absent; the decision falls back to memory and
 * processes: compute processes present count as busy; memory held with no process is idle-held;
 * neither is idle; held memory with the process list unknown stays unknown.
 */
export function classifySample(sample: IGpuSample, thresholds: IdleThresholds): UsageClass {
  if (sample.state !== GpuState.GPU_STATE_OK) return "unknown";
  const memoryHeld = present(sample.memory_used_mib) && sample.memory_used_mib > thresholds.heldMemoryMib;
  const processes = sample.compute_processes;
  const util = sample.utilization_gpu_pct;
  if (present(util)) {
    if (util >= thresholds.utilizationPct) return "busy";
    return memoryHeld || (present(processes) && processes > 0) ? "idle_held" : "idle";
  }
  if (sample.mig_mode !== true) return "unknown";
  if (present(processes) && processes > 0) return "busy";
  if (memoryHeld) return present(processes) ? "idle_held" : "unknown";
  return present(sample.memory_used_mib) || present(processes) ? "idle" : "unknown";
}
