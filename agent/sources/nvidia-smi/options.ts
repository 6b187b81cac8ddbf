// Options and counters of the nvidia-smi source (runner.ts).
import type { Logger } from "../../../shared/logger.js";
import type { Clock } from "../supervisor/clock.js";

export interface NvidiaSmiOptions {
  /** The nvidia-smi command as argv (no shell): ["nvidia-smi"] or ["gputel", "mock-smi", "--replay", X, "--"]. */
  command: string[];
  intervalMs: number;
  computeAppsIntervalMs: number;
  inventoryTimeoutMs: number;
  /** The slow health polls (health-poller.ts): `-q -x` and `nvlink -s` periods; absent: not run. */
  healthIntervalMs?: number;
  nvlinkIntervalMs?: number;
  logger: Logger;
  now?: () => number;
  /** Timers and time of the supervisor (tests); overrides `now`. */
  clock?: Clock;
  /** Timeout of the short commands (--help-query-gpu, -L, compute apps, -i probes). Default 10 s. */
  oneShotTimeoutMs?: number;
  /** nvidia-smi can take seconds to print its first sample (NVML init without persistence mode). */
  firstSampleTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** How long a SIGKILLed child may take to exit before it counts as stuck. Default 5 s. */
  stuckAfterMs?: number;
  /** Where the GPUs' UUIDs and bus ids are kept across restarts (gpu-identities.ts); absent: not kept. */
  identitiesPath?: string;
}

export interface NvidiaSmiStats {
  samples: number;
  restarts: number;
  timeouts: number;
  exits: number;
  stuckChildren: number;
  garbageLines: number;
  startFailures: number;
}
