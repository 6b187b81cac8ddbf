// Wires a loaded configuration into a running collector: store, flag engine, alerts, ingest,
// broker (embedded or external), housekeeping timers, HTTP API and systemd notifications.
import { parseListen } from "../shared/config/formats.js";
import { durationMs, sizeBytes } from "../shared/config/units.js";
import { errorMessage, GputelError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { maskUrl } from "../shared/mask.js";
import { SdNotify, watchdogIntervalMs } from "../shared/sd-notify.js";
import { EmbeddedBroker } from "./broker/embedded.js";
import { ExternalBroker } from "./broker/external.js";
import { readUsersFile } from "./broker/users-file.js";
import type { CollectorConfig } from "./config.js";
import { databasePathError } from "./database-path-error.js";
import { idleThresholdsFor, resolveFlagsConfig } from "./flags/config.js";
import { FlagEngine } from "./flags/engine.js";
import { holderText } from "./flags/holder-text.js";
import { toIngestLimits } from "./ingest/limits.js";
import { IngestPipeline } from "./ingest/pipeline.js";
import { LabelLeaseWatcher } from "./leases/label-watcher.js";
import { LeaseService } from "./leases/service.js";
import { Maintenance } from "./maintenance.js";
import { RemoteWriteExporter } from "./remote-write/exporter.js";
import { Store } from "./store/store.js";
import { startAlerts } from "./wire-alerts.js";
import { startApi } from "./wire-api.js";

export interface RunningCollector {
  store: Store;
  flags: FlagEngine;
  pipeline: IngestPipeline;
  /** The Prometheus remote_write exporter when remote_write is configured (stats for /metrics). */
  remoteWrite: RemoteWriteExporter | undefined;
  /** The embedded broker's MQTT port (undefined in external mode). */
  mqttPort: number | undefined;
  httpPort: number | undefined;
  stop(): Promise<void>;
}

const HOUSEKEEPING_MS = 1000;

export async function startCollector(config: CollectorConfig, logger: Logger): Promise<RunningCollector> {
  // What is opened is closed again, newest first, if a later step fails: a half-started
  // collector (a broker taking frames with no API, say) must not linger.
  const opened: { what: string; close: () => unknown }[] = [];
  const closeOpened = async () => {
    for (const { what, close } of opened.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        logger.warn({ err: errorMessage(error), part: what }, "Closing after a failed start failed");
      }
    }
  };
  try {
    return await startParts(config, logger, (what, close) => opened.push({ what, close }));
  } catch (error) {
    await closeOpened();
    throw error;
  }
}

async function startParts(
  config: CollectorConfig,
  logger: Logger,
  onClose: (what: string, close: () => unknown) => void,
): Promise<RunningCollector> {
  const flagsConfig = resolveFlagsConfig(config.flags);
  const store = openStore(config, flagsConfig, logger);
  onClose("store", () => store.close());
  // Before any ingest, so the capture trigger sees every commit from the first one on.
  const remoteWrite = startRemoteWrite(config, store, logger);
  if (remoteWrite) onClose("remote_write", () => remoteWrite.stop());
  const flags = new FlagEngine({
    store: store.flagStore(),
    config: flagsConfig,
    logger,
    // idle-held names its holder from the sessions the host's newest process set lists.
    holders: (host, gpuUuid, nowMs) =>
      holderText(store.processes().current({ host, gpuUuids: [gpuUuid], nowMs, limit: 100 }), nowMs),
    // Frames split among a share group's members: each judges stale only the hosts it receives.
    sharedFrames: Boolean(config.broker.share_group),
    // A member raises reset-required only for the GPUs whose frames it holds (within this).
    gpuMoveHoldMs: toIngestLimits(config.limits).gpuMoveHoldMs,
    // A host's Xids parked for its first frame here outlive a restart.
    parkedXids: store.parkedXids(),
  });
  flags.start();
  onClose("flags", () => flags.stop());
  const alerts = startAlerts(config, flags, logger);
  onClose("alerts", () => alerts.stop());

  const leases = new LeaseService(store.leases);
  const fromLabel = config.leases.from_label;
  const labelLeases = fromLabel !== undefined ? new LabelLeaseWatcher(leases, fromLabel, logger) : undefined;
  // The flag engine sees what ingest stored, after the commit: inventories, statuses, then frames.
  const pipeline = new IngestPipeline({
    sink: store,
    logger,
    limits: toIngestLimits(config.limits),
    fleet: store.fleet,
    onCommitted: ({ receivedAtMs, inventories, statuses, frames, events, processes }) => {
      for (const inventory of inventories) flags.onInventory(inventory, receivedAtMs);
      for (const status of statuses) flags.onStatus(status, receivedAtMs);
      if (frames.length > 0) {
        flags.onFrames(frames);
        labelLeases?.onFrames(frames);
      }
      if (events && events.length > 0) flags.onEvents(events, receivedAtMs);
      if (processes && processes.length > 0)
        flags.onProcesses(
          processes.map((p) => p.host),
          receivedAtMs,
        );
    },
    onClaims: (events) => flags.onClaims(events),
  });
  pipeline.start();
  onClose("ingest", () => pipeline.stop());

  let mqttPort: number | undefined;
  let broker: EmbeddedBroker | ExternalBroker;
  const b = config.broker;
  if (b.mode === "embedded") {
    const listen = parseListen(b.listen);
    if (!listen) throw new GputelError("GPUTEL_E_CONFIG", `broker.listen: ${b.listen} is not host:port`);
    const embedded = new EmbeddedBroker({
      ingest: pipeline,
      logger,
      host: listen.host,
      port: listen.port,
      ...(b.users_file ? { users: readUsersFile(b.users_file) } : {}),
      retain: { maxBytes: sizeBytes(b.retained_max_size), maxMessages: b.retained_max_messages },
    });
    onClose("broker", () => embedded.stop());
    await embedded.start();
    mqttPort = embedded.address().port;
    broker = embedded;
  } else {
    const external = new ExternalBroker({
      url: b.url ?? "",
      ingest: pipeline,
      logger,
      sessionExpirySeconds: Math.round(durationMs(b.session_expiry) / 1000),
      ...(b.username !== undefined ? { username: b.username } : {}),
      ...(b.password !== undefined ? { password: b.password } : {}),
      ...(b.ca_file ? { caFile: b.ca_file } : {}),
      ...(b.cert_file ? { certFile: b.cert_file } : {}),
      ...(b.key_file ? { keyFile: b.key_file } : {}),
      rejectUnauthorized: b.reject_unauthorized,
      ...(b.share_group ? { shareGroup: b.share_group } : {}),
      ...(b.client_id ? { clientId: b.client_id } : {}),
    });
    onClose("broker", () => external.stop());
    await external.start();
    broker = external;
  }

  // Stale is judged from here, when frames can arrive again, not from before the start.
  flags.receiving(Date.now());
  const deliveries = () => ({ alerts: alerts.counters(), remoteWrite: remoteWrite?.stats() ?? null });
  const maintenance = new Maintenance({ store, flags, logger });
  const api = await startApi(config, {
    store,
    flags,
    pipeline,
    logger,
    deliveries,
    maintenance: () => maintenance.counters(),
  });
  const notify = new SdNotify();
  const watchdogMs = watchdogIntervalMs();
  let lastPing = 0;
  const housekeeping = setInterval(() => {
    const now = Date.now();
    void maintenance.round(now);
    // Pings come from the event loop's own timer, so a wedged loop is restarted by systemd.
    if (watchdogMs !== undefined && now - lastPing >= watchdogMs) {
      lastPing = now;
      void notify.watchdog();
    }
  }, HOUSEKEEPING_MS);
  void notify.ready(`ingesting; MQTT ${mqttPort ?? maskUrl(b.url ?? "")}; HTTP ${api?.port ?? "off"}`);

  // SIGTERM and SIGINT can both arrive (systemd, a terminal's process group): one stop serves
  // both, so nothing touches the store after it is closed.
  let stopping: Promise<void> | undefined;
  return {
    store,
    flags,
    pipeline,
    remoteWrite,
    mqttPort,
    httpPort: api?.port,
    stop() {
      stopping ??= (async () => {
        clearInterval(housekeeping);
        void notify.stopping();
        await api?.stop();
        await broker.stop();
        await pipeline.stop();
        await remoteWrite?.stop();
        await alerts.stop();
        flags.stop();
        store.close();
      })();
      return stopping;
    },
  };
}

function openStore(
  config: CollectorConfig,
  flagsConfig: ReturnType<typeof resolveFlagsConfig>,
  logger: Logger,
): Store {
  try {
    return Store.open(config.database, {
      retention: config.retention,
      idleThresholds: idleThresholdsFor(flagsConfig),
      logger,
    });
  } catch (error) {
    throw databasePathError(config.database, error) ?? error;
  }
}

/** Off the ingest path: its own loop reads what the store committed (collector/remote-write/). */
function startRemoteWrite(
  config: CollectorConfig,
  store: Store,
  logger: Logger,
): RemoteWriteExporter | undefined {
  const rw = config.remote_write;
  if (!rw) {
    RemoteWriteExporter.disable(store);
    return undefined;
  }
  const exporter = new RemoteWriteExporter({
    url: rw.url,
    ...(rw.tenant !== undefined ? { tenant: rw.tenant } : {}),
    headers: rw.headers,
    batchSamples: rw.batch_samples,
    intervalMs: durationMs(rw.interval),
    timeoutMs: durationMs(rw.timeout),
    maxPendingRows: rw.max_pending_rows,
    store,
    logger,
  });
  exporter.start();
  return exporter;
}
