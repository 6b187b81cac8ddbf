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

function present(value: number | null | undefined): value is number {
  return value !== null && value !== undefined;
}

/**
 * Classifies one sample. Unknown is never idle nor busy: a GPU that was not read (timeout,
 * lost, error) or whose utilization is absent without a MIG fallback is "unknown".
 * On MIG-enabled GPUs `utilization.gpu` is absent; there the decision falls back to memory
 * and processes: held memory or processes mean idle-held is impossible to tell from busy, so
 * such a sample counts as busy (in use); no memory and no processes count as idle.
 */
export function classifySample(sample: IGpuSample, thresholds: IdleThresholds): UsageClass {
  if (sample.state !== GpuState.GPU_STATE_OK) return "unknown";
  const held =
    (present(sample.memory_used_mib) && sample.memory_used_mib > thresholds.heldMemoryMib) ||
    (present(sample.compute_processes) && sample.compute_processes > 0);
  const util = sample.utilization_gpu_pct;
  if (present(util)) {
    if (util >= thresholds.utilizationPct) return "busy";
    return held ? "idle_held" : "idle";
  }
  if (sample.mig_mode === true) {
    if (held) return "busy";
    const knowsMemory = present(sample.memory_used_mib) || present(sample.compute_processes);
    return knowsMemory ? "idle" : "unknown";
  }
  return "unknown";
}
