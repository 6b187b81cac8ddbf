// The explicit registry of GPU sources (node_exporter style): a DCGM or NVML source would be one
// more line here and a sibling folder.
import type { Logger } from "../../shared/logger.js";
import { NvidiaSmiSource } from "./nvidia-smi/runner.js";
import type { GpuSource } from "./source.js";

export interface SourceSettings {
  command: string[];
  intervalMs: number;
  computeAppsIntervalMs: number;
  inventoryTimeoutMs: number;
  logger: Logger;
}

const SOURCES = {
  "nvidia-smi": (settings: SourceSettings): GpuSource => new NvidiaSmiSource(settings),
} as const;

export type SourceName = keyof typeof SOURCES;

export function createSource(name: SourceName, settings: SourceSettings): GpuSource {
  return SOURCES[name](settings);
}
