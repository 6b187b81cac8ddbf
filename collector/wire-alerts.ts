import type { Logger } from "../shared/logger.js";
import type { CollectorConfig } from "./config.js";
import type { FlagEngine } from "./flags/engine.js";

export function startAlerts(
  _config: CollectorConfig,
  _flags: FlagEngine,
  _logger: Logger,
): { stop(): Promise<void> } {
  return { stop: async () => undefined };
}
