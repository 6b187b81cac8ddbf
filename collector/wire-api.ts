import type { Logger } from "../shared/logger.js";
import type { CollectorConfig } from "./config.js";
import type { FlagEngine } from "./flags/engine.js";
import type { IngestPipeline } from "./ingest/pipeline.js";
import type { Store } from "./store/store.js";

export interface ApiParts {
  store: Store;
  flags: FlagEngine;
  pipeline: IngestPipeline;
  logger: Logger;
}

export async function startApi(
  _config: CollectorConfig,
  _parts: ApiParts,
): Promise<{ port: number; stop(): Promise<void> } | undefined> {
  return undefined;
}
