// Publishes frames, kernel-log events, status and inventory over MQTT (docs/design.md §3): frames
// and events at QoS 1, each from its own spool, with one small in-flight window (events first); retained status with an `offline` last will;
// retained inventory republished when it changes; the status is republished (reason "sources
// changed") when the sources' health changes, at most once per statusRefreshMs.
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { backoffMs } from "../../shared/backoff.js";
import { encodeFrame, encodeInventory, encodeStatus } from "../../shared/codec.js";
import { errorMessage } from "../../shared/errors.js";
import type { Logger } from "../../shared/logger.js";
import { LogThrottle } from "../../shared/logger.js";
import { backOffReconnects, MAX_RECONNECT_MS, MIN_RECONNECT_MS } from "../../shared/mqtt-reconnect.js";
import {
  AgentState,
  type IFrame,
  type IHealthEvent,
  type IInventory,
  type IProcessSet,
  type ISourceStatus,
  type IStatus,
} from "../../shared/proto.js";
import { topicFor } from "../../shared/topics.js";
import type { EventSpoolQueue } from "./event-queue.js";
import type { FrameQueue, MessageQueue, QueuedMessage } from "./frame-queue.js";
import type { ProcessSpoolQueue } from "./process-queue.js";
import type { FramePublisher } from "./publisher.js";
import { statusMessage } from "./status-message.js";

export interface BrokerSettings {
  url: string;
  protocol: "5" | "3.1.1";
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  keepaliveSeconds: number;
}

export interface PublisherOptions {
  broker: BrokerSettings;
  host: string;
  bootId: string;
  intervalMs: number;
  agentVersion: string;
  queue: FrameQueue;
  /** The kernel-log events' spool, when an events source runs (published on the event topic). */
  events?: EventSpoolQueue;
  /** The processes source's sets, when it runs (published on the processes topic). */
  processes?: ProcessSpoolQueue;
  /** Messages awaiting PUBACK at once (mqtt.js ids wrap at 65,535: keep this small). */
  inflight: number;
  logger: Logger;
  now?: () => number;
  /** The sources' health, carried in every status (see status-message.ts). */
  sourceStatus?: () => ISourceStatus[];
  /** A change of the sources' health is republished at most this often. Default 10 s. */
  statusRefreshMs?: number;
}

const LANE_NAMES = { frame: "Frames", event: "Events", processes: "Process sets" } as const;
/**
 * The MQTT 5 PUBACK code by which the collector says a message will never be taken, however
 * often it is sent (0x99 payload format invalid: collector/broker/policy.ts). Such a message is
 * dropped from the spool, or it would hold every frame behind it. Every other refusal (0x87 not
 * authorized, 0x97 quota exceeded: an account or a limit an operator fixes) keeps the frames and
 * retries them with backoff.
 */
const PERMANENT_REFUSALS: ReadonlySet<number> = new Set([0x99]);
/**
 * A clean stop waits this long for the broker, twice at most: for the `stopped` status and the
 * PUBACKs in flight, then for the DISCONNECT to go out. What is unacknowledged by then stays in
 * the spool and is sent again after the restart; a broker that is connected but answers nothing
 * (paused, a network that swallows packets) must not hold the stop until systemd kills it.
 */
const STOP_WAIT_MS = 2000;

/**
 * One topic's spool. Refusals pause only their own lane: a collector that does not take events
 * yet (an older version) must not hold back the frames.
 */
interface Lane {
  kind: "frame" | "event" | "processes";
  /** gputel/v1/<host>/<kind>, built once. */
  topic: string;
  queue: MessageQueue;
  /** Refused publishes since the last acknowledged one (the backoff attempt). */
  refusals: number;
  pausedUntil: number;
}

export class MqttPublisher implements FramePublisher {
  private client: MqttClient | undefined;
  /** Each message awaiting its PUBACK, with the lane (topic and spool) it came from. */
  private readonly inflight = new Map<QueuedMessage, Lane>();
  /** Waiting for `inflight` to empty (a clean stop). */
  private readonly inflightWaiters: (() => void)[] = [];
  /** Events first: they are few, and an operator waits on them more than on one more sample. */
  private readonly lanes: Lane[];
  private inventory: IInventory | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private readonly throttle = new LogThrottle(60_000);
  private stopping = false;
  /** Frames the collector refused for good (PERMANENT_REFUSALS) and the spool dropped. */
  refusedTotal = 0;
  /** The sources' health as last published, and when a change of it was last published. */
  private publishedSources = "";
  private sourcesChangedAt = 0;

  constructor(private readonly options: PublisherOptions) {
    const lane = (kind: Lane["kind"], queue: MessageQueue): Lane => ({
      kind,
      topic: topicFor(options.host, kind),
      queue,
      refusals: 0,
      pausedUntil: 0,
    });
    this.lanes = [
      ...(options.events ? [lane("event", options.events)] : []),
      ...(options.processes ? [lane("processes", options.processes)] : []),
      lane("frame", options.queue),
    ];
  }

  get isConnected(): boolean {
    return this.client?.connected === true;
  }

  start(): void {
    const { broker, host } = this.options;
    const clientOptions: IClientOptions = {
      clientId: host,
      protocolVersion: broker.protocol === "5" ? 5 : 4,
      clean: true,
      keepalive: broker.keepaliveSeconds,
      reconnectPeriod: MIN_RECONNECT_MS,
      connectTimeout: 10_000,
      queueQoSZero: false,
      // mqtt-packet otherwise pre-builds 65,536 two-byte Buffers for packet ids: ~6.5 MB of the
      // agent's heap (a tenth of its RSS), marked at every full GC, for ~1 frame a second.
      writeCache: false,
      rejectUnauthorized: broker.rejectUnauthorized,
      will: {
        topic: topicFor(host, "status"),
        // Without sources: counters frozen at start would overwrite the last ones the collector has.
        payload: Buffer.from(
          encodeStatus(this.status(AgentState.AGENT_STATE_OFFLINE, "connection lost", [])),
        ),
        qos: 1,
        retain: true,
      },
    };
    if (broker.username !== undefined) clientOptions.username = broker.username;
    if (broker.password !== undefined) clientOptions.password = broker.password;
    if (broker.ca) clientOptions.ca = broker.ca;
    if (broker.cert) clientOptions.cert = broker.cert;
    if (broker.key) clientOptions.key = broker.key;
    const client = mqtt.connect(broker.url, clientOptions);
    this.client = client;
    backOffReconnects(client);
    client.on("connect", () => this.onConnect());
    client.on("close", () => this.onClose());
    client.on("error", (error) =>
      this.logOnce("mqtt-error", { code: "GPUTEL_E_MQTT", err: errorMessage(error) }, "MQTT error"),
    );
  }

  publishFrame(frame: IFrame): void {
    try {
      this.options.queue.append(frame, encodeFrame(frame));
    } catch (error) {
      // The spool logs and counts its own failures; the frame is then reported as dropped.
      this.logOnce(
        "spool-append",
        { code: "GPUTEL_E_SPOOL", err: errorMessage(error), seq: frame.seq },
        "Spool append failed",
      );
      return;
    }
    this.pump();
    this.refreshStatus();
  }

  /**
   * Writes kernel-log events to their spool (durable when this returns true) and publishes them.
   * false: no events spool, or the write failed (logged): the caller keeps its position unmoved.
   */
  publishEvents(events: readonly IHealthEvent[]): boolean {
    const queue = this.options.events;
    if (!queue) return false;
    try {
      queue.append(events);
    } catch (error) {
      this.logOnce(
        "event-append",
        { code: "GPUTEL_E_SPOOL", err: errorMessage(error) },
        "Event spool append failed",
      );
      return false;
    }
    this.pump();
    return true;
  }

  /** Writes a process set to its spool and publishes it; false when there is none or it failed (logged). */
  publishProcesses(set: IProcessSet): boolean {
    const queue = this.options.processes;
    if (!queue) return false;
    try {
      queue.append(set);
    } catch (error) {
      this.logOnce(
        "processes-append",
        { code: "GPUTEL_E_SPOOL", err: errorMessage(error) },
        "Process spool append failed",
      );
      return false;
    }
    this.pump();
    return true;
  }

  publishInventory(inventory: IInventory): void {
    this.inventory = inventory;
    if (this.isConnected) this.sendInventory();
  }

  droppedTotal(): number {
    return this.options.queue.droppedTotal();
  }

  /** Clean stop: retained `offline` status with reason "stopped", then disconnect (bounded: STOP_WAIT_MS). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      const status = encodeStatus(this.status(AgentState.AGENT_STATE_OFFLINE, "stopped"));
      const published = new Promise<void>((resolve) => {
        client.publish(
          topicFor(this.options.host, "status"),
          Buffer.from(status),
          { qos: 1, retain: true },
          () => resolve(),
        );
      });
      await settledWithin(Promise.all([published, this.inflightSettled()]), STOP_WAIT_MS);
    }
    // mqtt.js's end(false) waits for every PUBACK: drop its copies (their callbacks hand the
    // frames back to the spool) so that it only sends the DISCONNECT.
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
    const ended = client.endAsync(false).catch(() => undefined);
    // The DISCONNECT went out, but the socket closes only when the broker answers: don't wait for one that won't.
    if (!(await settledWithin(ended, STOP_WAIT_MS))) client.stream.destroy();
    await ended;
    for (const [message, lane] of this.inflight) lane.queue.nack(message.ids);
    this.inflight.clear();
  }

  private status(state: number, reason: string, sources = this.options.sourceStatus?.() ?? []): IStatus {
    this.publishedSources = JSON.stringify(sources);
    return statusMessage(this.options, state, reason, (this.options.now ?? Date.now)(), sources);
  }

  /** Republishes the retained status when the sources' health changed since it was published. */
  private refreshStatus(): void {
    const client = this.client;
    if (!client?.connected || this.stopping || !this.options.sourceStatus) return;
    const now = (this.options.now ?? Date.now)();
    if (now - this.sourcesChangedAt < (this.options.statusRefreshMs ?? 10_000)) return;
    const sources = this.options.sourceStatus();
    if (JSON.stringify(sources) === this.publishedSources) return;
    this.sourcesChangedAt = now;
    const status = encodeStatus(this.status(AgentState.AGENT_STATE_ONLINE, "sources changed", sources));
    client.publish(topicFor(this.options.host, "status"), Buffer.from(status), { qos: 1, retain: true });
  }

  private onConnect(): void {
    const client = this.client;
    if (!client) return;
    this.options.logger.info({ broker: this.options.broker.url }, "Connected to broker");
    const online = encodeStatus(this.status(AgentState.AGENT_STATE_ONLINE, "started"));
    client.publish(topicFor(this.options.host, "status"), Buffer.from(online), { qos: 1, retain: true });
    if (this.inventory) this.sendInventory();
    for (const lane of this.lanes) lane.queue.markReconnected();
    this.pump();
  }

  private onClose(): void {
    const client = this.client;
    if (!client) return;
    // mqtt.js would re-send its in-memory copies on reconnect; the spool is the source of truth,
    // so drop them here (their callbacks fire with an error and hand the frames back to the spool).
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
    if (!this.stopping)
      this.logOnce("mqtt-close", { broker: this.options.broker.url }, "Broker connection closed");
  }

  private sendInventory(): void {
    const inventory = this.inventory;
    if (!inventory || !this.client) return;
    this.client.publish(topicFor(this.options.host, "inventory"), Buffer.from(encodeInventory(inventory)), {
      qos: 1,
      retain: true,
    });
  }

  private pump(): void {
    const client = this.client;
    if (!client?.connected || this.stopping) return;
    const now = (this.options.now ?? Date.now)();
    let pausedFor: number | undefined;
    for (const lane of this.lanes) {
      // After a refusal, wait before retrying so a refusing broker is not hammered.
      if (now < lane.pausedUntil) {
        pausedFor = Math.min(pausedFor ?? Number.POSITIVE_INFINITY, lane.pausedUntil - now);
        continue;
      }
      const room = this.options.inflight - this.inflight.size;
      if (room <= 0) return;
      for (const message of lane.queue.take(room)) {
        this.inflight.set(message, lane);
        client.publish(
          lane.topic,
          // A view, not a copy: the encoded bytes are not touched again.
          Buffer.from(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength),
          { qos: 1 },
          (error) => this.onPublished(message, error),
        );
      }
    }
    this.scheduleWake(pausedFor);
  }

  /** Resolves once no message awaits its PUBACK (acknowledged, refused or dropped). */
  private inflightSettled(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.inflightWaiters.push(resolve));
  }

  private onPublished(message: QueuedMessage, error: Error | undefined): void {
    const lane = this.inflight.get(message);
    if (!lane) return;
    this.inflight.delete(message);
    if (this.inflight.size === 0) for (const resolve of this.inflightWaiters.splice(0)) resolve();
    const queue = lane.queue;
    const code = (error as (Error & { code?: unknown }) | undefined)?.code;
    if (typeof code === "number" && PERMANENT_REFUSALS.has(code)) {
      queue.ack(message.ids);
      this.refusedTotal += message.ids.length;
      this.logOnce(
        "publish-rejected",
        {
          code: "GPUTEL_E_MQTT",
          reasonCode: code,
          err: errorMessage(error),
          refusedTotal: this.refusedTotal,
        },
        `${LANE_NAMES[lane.kind]} refused by the collector as invalid; dropped from the spool`,
      );
    } else if (error) {
      queue.nack(message.ids);
      if (this.client?.connected) {
        const waitMs = backoffMs(lane.refusals, MIN_RECONNECT_MS, MAX_RECONNECT_MS);
        lane.refusals += 1;
        lane.pausedUntil = (this.options.now ?? Date.now)() + waitMs;
      }
      this.logOnce(
        "publish-refused",
        { code: "GPUTEL_E_MQTT", err: errorMessage(error), topic: lane.kind },
        "Message not acknowledged; kept in spool",
      );
    } else {
      queue.ack(message.ids);
      lane.refusals = 0;
    }
    this.pump();
  }

  private scheduleWake(delayMs?: number): void {
    if (this.wakeTimer) return;
    const waits = [
      ...this.lanes.flatMap((lane) => lane.queue.msUntilMore() ?? []),
      ...(delayMs === undefined ? [] : [delayMs]),
    ];
    if (waits.length === 0) return;
    const wait = Math.min(...waits);
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.pump();
      },
      Math.max(10, wait),
    );
    this.wakeTimer.unref();
  }

  private logOnce(key: string, fields: Record<string, unknown>, message: string): void {
    const suppressed = this.throttle.admit(key);
    if (suppressed !== undefined) this.options.logger.warn({ ...fields, suppressed }, message);
  }
}

/** Waits for `promise` at most `ms`; true when it settled in time. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
