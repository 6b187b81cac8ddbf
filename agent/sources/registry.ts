// The explicit registry of sources (node_exporter style): configuration names them in
// `sources:` (catalog.ts), and this file builds each one from its own settings. A DCGM source
// is one more entry here and in catalog.ts, and a sibling folder.
import type { Logger } from "../../shared/logger.js";
import { SOURCE_KINDS, type SourceName } from "./catalog.js";
import { KernelLogSource } from "./kernel-log/source.js";
import { NvidiaSmiSource } from "./nvidia-smi/runner.js";
import type { EventSource, GpuSource, SourceHealth } from "./source.js";

/** Every source's settings, each under its own key (from the agent configuration). */
export interface SourceSettings {
  intervalMs: number;
  logger: Logger;
  /** The nvidia-smi source: `nvidia_smi`, `compute_apps_interval`, `inventory_timeout`. */
  nvidiaSmi: {
    command: string[];
    computeAppsIntervalMs: number;
    inventoryTimeoutMs: number;
    healthIntervalMs?: number;
    nvlinkIntervalMs?: number;
    /** `<state_directory>/nvidia-smi-gpus.json`: the GPUs' UUIDs and bus ids across restarts. */
    identitiesPath?: string;
  };
  /** The kernel-log source: `kernel_log.command`, and the state directory for its position. */
  kernelLog: { command: string[]; stateDirectory: string };
}

/** The processes source is built by the agent's wiring (agent/run.ts): it lives in agent/holders. */
type BuiltHere = Exclude<SourceName, "processes">;

const FACTORIES: { [N in BuiltHere]: (settings: SourceSettings) => GpuSource | EventSource } = {
  "nvidia-smi": (s) => new NvidiaSmiSource({ ...s.nvidiaSmi, intervalMs: s.intervalMs, logger: s.logger }),
  "kernel-log": (s) => new KernelLogSource({ ...s.kernelLog, logger: s.logger }),
};

/** The sources an agent runs, by what they give it. */
export interface AgentSources {
  /** The one GPU source: it drives the frames. */
  gpu: GpuSource;
  /** The events sources (kernel-log), in `sources:` order. */
  events: EventSource[];
  /** The health of every source that reports one, in `sources:` order. */
  health(): SourceHealth[];
}

/** Builds the listed sources (a list the configuration check has accepted: one GPU source). */
export function createSources(names: readonly SourceName[], settings: SourceSettings): AgentSources {
  const built = names
    .filter((name): name is BuiltHere => name !== "processes")
    .map((name) => ({ name, source: FACTORIES[name](settings) }));
  const gpu = built.find((b) => SOURCE_KINDS[b.name] === "gpu")?.source as GpuSource | undefined;
  if (!gpu) throw new RangeError(`sources: needs a GPU source, got ${names.join(", ") || "none"}`);
  return {
    gpu,
    events: built.filter((b) => SOURCE_KINDS[b.name] === "events").map((b) => b.source as EventSource),
    health: () => built.flatMap((b) => (b.source.health ? [b.source.health()] : [])),
  };
}
