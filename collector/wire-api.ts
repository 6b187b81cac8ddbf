// Starts the HTTP API, dashboard and /metrics over the running collector's parts.
import { parseListen } from "../shared/config/formats.js";
import { GputelError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { StoreHealthBackend } from "./api/health-backend.js";
import { createApiServer } from "./api/server.js";
import { StoreBackend } from "./api/store-backend.js";
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
  config: CollectorConfig,
  parts: ApiParts,
): Promise<{ port: number; stop(): Promise<void> }> {
  const listen = parseListen(config.http.listen);
  if (!listen)
    throw new GputelError("GPUTEL_E_CONFIG", `http.listen: ${config.http.listen} is not host:port`);
  const server = createApiServer({
    backend: new StoreBackend({
      store: parts.store,
      flags: parts.flags,
      pipeline: parts.pipeline,
      health: new StoreHealthBackend({ store: parts.store, flags: parts.flags }),
    }),
    listen,
    ...(config.http.token !== undefined ? { token: config.http.token } : {}),
    logger: parts.logger,
    peers: config.http.peers,
    allowedHosts: config.http.allowed_hosts,
  });
  const { port } = await server.start();
  return { port, stop: () => server.stop() };
}
