// Starts the HTTP API, dashboard and /metrics over the running collector's parts.
import { parseListen } from "../shared/config/formats.js";
import { GputelError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { StoreHealthBackend } from "./api/health-backend.js";
import { StoreProcessBackend } from "./api/process-backend.js";
import { ReadWorkers, readThreads } from "./api/read-workers.js";
import { createApiServer } from "./api/server.js";
import { StoreBackend } from "./api/store-backend.js";
import { storedTokenLookup } from "./api/tokens.js";
import type { CollectorConfig } from "./config.js";
import type { DeliveryCounters, MaintenanceCounters } from "./contract/api-contract.js";
import type { FlagEngine } from "./flags/engine.js";
import type { IngestPipeline } from "./ingest/pipeline.js";
import { LeaseService } from "./leases/service.js";
import type { Store } from "./store/store.js";

export interface ApiParts {
  store: Store;
  flags: FlagEngine;
  pipeline: IngestPipeline;
  logger: Logger;
  /** Alert and remote_write delivery counters for /metrics. */
  deliveries?: () => DeliveryCounters;
  /** The periodic maintenance's counters for /metrics. */
  maintenance?: () => MaintenanceCounters;
}

export async function startApi(
  config: CollectorConfig,
  parts: ApiParts,
): Promise<{ port: number; stop(): Promise<void> }> {
  const listen = parseListen(config.http.listen);
  if (!listen)
    throw new GputelError("GPUTEL_E_CONFIG", `http.listen: ${config.http.listen} is not host:port`);
  // Reports and other heavy reads run on threads and connections of their own (docs/design.md §5).
  const reader = new ReadWorkers(
    { database: config.database, retention: config.retention, flags: config.flags },
    parts.logger,
    config.http.read_threads ?? readThreads(),
  );
  const server = createApiServer({
    backend: new StoreBackend({
      store: parts.store,
      flags: parts.flags,
      pipeline: parts.pipeline,
      reader,
      health: new StoreHealthBackend({ store: parts.store, flags: parts.flags }),
      processes: new StoreProcessBackend({ store: parts.store, flags: parts.flags }),
      ...(parts.deliveries ? { deliveries: parts.deliveries } : {}),
      ...(parts.maintenance ? { maintenance: parts.maintenance } : {}),
    }),
    listen,
    ...(config.http.token !== undefined ? { token: config.http.token } : {}),
    logger: parts.logger,
    peers: config.http.peers,
    allowedHosts: config.http.allowed_hosts,
    // Its writes wait briefly for another process's lock: a locked database answers 503 store_busy.
    leases: new LeaseService(parts.store.leases, Date.now, (fn) => parts.store.shortWait(fn)),
    tokens: storedTokenLookup(parts.store.tokens),
  });
  let port: number;
  try {
    ({ port } = await server.start());
  } catch (error) {
    await reader.stop();
    throw error;
  }
  return {
    port,
    async stop() {
      await server.stop();
      await reader.stop();
    },
  };
}
