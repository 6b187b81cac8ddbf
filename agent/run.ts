// Wires a loaded configuration into a running agent: source, host, spool, publisher, systemd.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { durationMs, sizeBytes } from "../shared/config/units.js";
import type { Logger } from "../shared/logger.js";
import { SdNotify, watchdogIntervalMs } from "../shared/sd-notify.js";
import { VERSION } from "../shared/version.js";
import { Agent } from "./agent.js";
import { type AgentConfig, kernelLogArgv, nvidiaSmiArgv, sourceNames } from "./config.js";
import { ProcessWatch } from "./holders/process-watch.js";
import { SystemInformationHost } from "./host/host-source.js";
import { EventSpoolQueue } from "./publish/event-queue.js";
import { type BrokerSettings, MqttPublisher } from "./publish/mqtt-publisher.js";
import { ProcessSpoolQueue } from "./publish/process-queue.js";
import { SpoolQueue } from "./publish/spool-queue.js";
import { sourceStatus } from "./publish/status-message.js";
import { ServiceNotifier } from "./service-notify.js";
import { type AgentSources, createSources } from "./sources/registry.js";
import { Spool } from "./spool/spool.js";

/** Kernel-log events are rare and small: 64 MiB holds hundreds of thousands of them. */
const EVENT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;
/** Process sets are sent on change and every refresh: 64 MiB holds days of them. */
const PROCESS_SPOOL_MAX_BYTES = 64 * 1024 * 1024;

export interface RunningAgent {
  agent: Agent;
  publisher: MqttPublisher;
  stop(): Promise<void>;
}

export function brokerSettings(config: AgentConfig): BrokerSettings {
  const { broker } = config;
  const settings: BrokerSettings = {
    url: broker.url,
    protocol: broker.protocol,
    rejectUnauthorized: broker.reject_unauthorized,
    keepaliveSeconds: Math.max(1, Math.round(durationMs(broker.keepalive) / 1000)),
  };
  if (broker.username !== undefined) settings.username = broker.username;
  if (broker.password !== undefined) settings.password = broker.password;
  if (broker.ca_file) settings.ca = readFileSync(broker.ca_file);
  if (broker.cert_file) settings.cert = readFileSync(broker.cert_file);
  if (broker.key_file) settings.key = readFileSync(broker.key_file);
  return settings;
}

export function identityOf(config: AgentConfig, intervalMs: number) {
  return {
    host: config.host,
    site: config.site ?? "",
    labels: config.labels,
    intervalMs,
    agentVersion: VERSION,
  };
}

/**
 * The sources `sources:` selects, each built from its own keys (the daemon and `--once` alike).
 * `once`: one sample for a person to read, so the state directory is neither read nor written.
 */
export function sourcesFromConfig(
  config: AgentConfig,
  logger: Logger,
  options: { once?: boolean } = {},
): AgentSources & { processes?: ProcessWatch } {
  const names = sourceNames(config);
  const sources = createSources(names, {
    intervalMs: durationMs(config.interval),
    logger,
    nvidiaSmi: {
      command: nvidiaSmiArgv(config),
      computeAppsIntervalMs: durationMs(config.compute_apps_interval),
      inventoryTimeoutMs: durationMs(config.inventory_timeout),
      healthIntervalMs: durationMs(config.health_interval),
      nvlinkIntervalMs: durationMs(config.nvlink_interval),
      ...(options.once ? {} : { identitiesPath: join(config.state_directory, "nvidia-smi-gpus.json") }),
    },
    kernelLog: { command: kernelLogArgv(config), stateDirectory: config.state_directory },
  });
  if (!names.includes("processes")) return sources;
  // The processes source takes the GPU source's compute-process rows (listed with nvidia-smi:
  // the configuration check makes sure).
  const processes = new ProcessWatch({
    command: nvidiaSmiArgv(config),
    pmonPeriodS: Math.round(durationMs(config.processes.pmon_interval) / 1000),
    procRoot: config.processes.proc_root,
    passwdPath: config.processes.passwd_file,
    privacy: { users: config.privacy.users, salt: config.privacy.salt ?? "" },
    refreshMs: durationMs(config.processes.refresh_interval),
    maxProcesses: config.processes.max_per_message,
    migTimeoutMs: durationMs(config.inventory_timeout),
    logger,
  });
  if (!sources.gpu.onComputeRows) throw new RangeError(`sources: processes needs nvidia-smi`);
  sources.gpu.onComputeRows((rows, atMs) => processes.update(rows, atMs));
  return {
    ...sources,
    processes,
    health: () => [...sources.health(), processes.health()],
  };
}

export async function startAgent(config: AgentConfig, logger: Logger): Promise<RunningAgent> {
  const intervalMs = durationMs(config.interval);
  const sources = sourcesFromConfig(config, logger);
  const spool = Spool.open({
    path: join(config.state_directory, "spool.db"),
    maxBytes: sizeBytes(config.spool.max_size),
    logger,
    backlog: { framesPerSecond: config.spool.replay_rate, maxFrames: config.spool.replay_batch_frames },
  });
  const identity = identityOf(config, intervalMs);
  const notify = new SdNotify();
  const service = new ServiceNotifier({
    notify,
    watchdogMs: watchdogIntervalMs(),
    connected: () => publisher?.isConnected ?? false,
    interval: config.interval,
    logger,
  });

  // The publisher needs the boot id the agent draws, so the agent is built first.
  let publisher: MqttPublisher | undefined;
  const queue = new SpoolQueue(spool);
  // Kernel-log events get a spool of their own (events.db): never lost, never behind frames.
  const eventSpool =
    sources.events.length > 0
      ? Spool.open({
          path: join(config.state_directory, "events.db"),
          maxBytes: EVENT_SPOOL_MAX_BYTES,
          logger: logger.child({ spool: "events" }),
        })
      : undefined;
  let events: EventSpoolQueue | undefined;
  // Process sets get a spool of their own (processes.db), one set per message even when replayed.
  const processes = sources.processes
    ? new ProcessSpoolQueue(
        Spool.open({
          path: join(config.state_directory, "processes.db"),
          maxBytes: PROCESS_SPOOL_MAX_BYTES,
          logger: logger.child({ spool: "processes" }),
          backlog: { maxFrames: 1, framesPerSecond: 20 },
        }),
      )
    : undefined;
  const agent = new Agent({
    identity,
    source: sources.gpu,
    events: sources.events,
    ...(sources.processes ? { processes: sources.processes } : {}),
    host: new SystemInformationHost(),
    sink: {
      publishFrame: (frame) => publisher?.publishFrame(frame),
      publishInventory: (inventory) => publisher?.publishInventory(inventory),
      publishEvents: (list) => publisher?.publishEvents(list) ?? false,
      publishProcesses: (set) => publisher?.publishProcesses(set) ?? false,
      droppedTotal: () => queue.droppedTotal(),
    },
    inventoryIntervalMs: durationMs(config.inventory_interval),
    logger: logger.child({ component: "agent" }),
    onFrame: (frame) => {
      logger.debug(
        { seq: frame.seq, boot_id: frame.boot_id, gpus: frame.gpus?.length ?? 0 },
        "Frame sampled",
      );
      service.sampled(frame.gpus?.length ?? 0);
    },
  });
  if (eventSpool) events = new EventSpoolQueue(eventSpool, { host: config.host, bootId: agent.bootId });
  publisher = new MqttPublisher({
    ...(events ? { events } : {}),
    ...(processes ? { processes } : {}),
    broker: brokerSettings(config),
    host: config.host,
    bootId: agent.bootId,
    intervalMs,
    agentVersion: VERSION,
    queue,
    inflight: config.spool.inflight,
    sourceStatus: () => sources.health().map(sourceStatus),
    logger: logger.child({ component: "agent.publish" }),
  });
  publisher.start();
  try {
    await agent.start();
  } catch (error) {
    // What started is stopped, so the process can exit with its status: a half-started agent
    // would linger, reconnecting and sampling, its systemd start neither done nor failed.
    await Promise.allSettled([agent.stop(), publisher.stop()]);
    service.stop();
    queue.close();
    events?.close();
    processes?.close();
    throw error;
  }
  service.start();
  const running = publisher;
  // SIGTERM and SIGINT can both arrive (systemd, a terminal's process group): one stop serves both.
  let stopping: Promise<void> | undefined;
  return {
    agent,
    publisher: running,
    stop() {
      stopping ??= (async () => {
        void notify.stopping();
        try {
          await agent.stop();
          await running.stop();
          queue.close();
          events?.close();
          processes?.close();
        } finally {
          service.stop();
        }
      })();
      return stopping;
    },
  };
}
