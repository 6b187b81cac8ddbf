// Ingest from an external broker (Mosquitto, EMQX): an MQTT 5 persistent session (clean=false plus
// a session expiry interval, or the broker keeps nothing) with QoS 1 subscriptions, whose PUBACKs
// go out only after the commit, so an unacknowledged message is redelivered after a restart.
//
// How mqtt.js 5 gates the PUBACK (node_modules/mqtt/build/lib/handlers/publish.js and client.js
// connect()/work()): for QoS 1 it calls handleMessage(packet, cb); cb() sends the PUBACK and only
// then lets the client parse the NEXT incoming packet. Deferring cb until a commit would thus
// process one message per commit. Instead cb(error) is called at once: mqtt.js then skips the
// PUBACK and goes on reading (the work loop's done ignores its argument); this class sends the
// PUBACK itself after the commit, on the same connection only (a message id means nothing on the
// next one, where the broker redelivers the message with DUP). Backpressure is the broker's: it
// keeps at most Receive Maximum unacknowledged messages in flight to us.
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";
import { errorMessage, GputelError } from "../../shared/errors.js";
import { type Logger, LogThrottle } from "../../shared/logger.js";
import { backOffReconnects, MIN_RECONNECT_MS } from "../../shared/mqtt-reconnect.js";
import { subscriptionFilter } from "../../shared/topics.js";
import type { IngestTarget } from "../ingest/pipeline.js";

export interface ExternalBrokerOptions {
  /** mqtt://host:port or mqtts://host:port */
  url: string;
  ingest: IngestTarget;
  logger: Logger;
  /** Stable per collector, so the broker finds its session again (default gputel-collector-<hostname>). */
  clientId?: string;
  username?: string;
  password?: string;
  /** PEM files for mqtts:// (CA bundle; client certificate and key for mTLS). */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Verify the broker's certificate (default true; false only for a test broker). */
  rejectUnauthorized?: boolean;
  /** How long the broker keeps the session (and queues for it) while the collector is away (default 7 days). */
  sessionExpirySeconds?: number;
  /** MQTT 5 shared subscription group for frames ($share/<group>/…), to split hosts over collectors. */
  shareGroup?: string;
  /** Unacknowledged messages the broker may have in flight to us (default 1000). */
  receiveMaximum?: number;
  /** The first reconnect delay, doubling to MAX_RECONNECT_MS while the broker stays away (default MIN_RECONNECT_MS, 1 s). */
  reconnectMinMs?: number;
  /** start() fails if the first connection takes longer (default 30 s). */
  connectTimeoutMs?: number;
}

/** The marker handed to mqtt.js's handleMessage callback: "go on reading, do not acknowledge". */
const DEFERRED = new Error("acknowledged after commit");

type PacketSender = {
  _sendPacket(packet: object, cb?: () => void, cbStorePut?: () => void, noStore?: boolean): void;
};

export class ExternalBroker {
  private client: MqttClient | undefined;
  private readonly log: Logger;
  private readonly throttle = new LogThrottle(60_000);
  /** Acknowledged after commit: messages, for the bench and tests. */
  acked = 0;

  constructor(private readonly options: ExternalBrokerOptions) {
    this.log = options.logger.child({ component: "collector.broker" });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(): Promise<void> {
    const o = this.options;
    const clientOptions: IClientOptions = {
      protocolVersion: 5,
      clean: false,
      clientId: o.clientId ?? `gputel-collector-${hostname()}`,
      username: o.username,
      password: o.password,
      reconnectPeriod: o.reconnectMinMs ?? MIN_RECONNECT_MS,
      connectTimeout: o.connectTimeoutMs ?? 30_000,
      properties: {
        sessionExpiryInterval: o.sessionExpirySeconds ?? 7 * 24 * 3600,
        receiveMaximum: o.receiveMaximum ?? 1000,
      },
      ca: o.caFile ? await readFile(o.caFile) : undefined,
      cert: o.certFile ? await readFile(o.certFile) : undefined,
      key: o.keyFile ? await readFile(o.keyFile) : undefined,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
    };
    const client = mqtt.connect(o.url, clientOptions);
    this.client = client;
    // The agent's backoff: a broker that stays down is not asked every second by every collector.
    backOffReconnects(client, o.reconnectMinMs);
    client.handleMessage = (packet, callback) => {
      this.receive(client, packet);
      callback(DEFERRED);
    };
    client.on("error", (error) => this.warn("error", "MQTT error", error));
    client.on("offline", () => this.warn("offline", "Broker unreachable; reconnecting", undefined));
    client.on("connect", (connack) => {
      this.log.info({ url: o.url, sessionPresent: connack.sessionPresent }, "Connected to broker");
    });
    await this.firstConnect(client, o.connectTimeoutMs ?? 30_000);
    const frames = subscriptionFilter("frame", o.shareGroup);
    await client.subscribeAsync({
      [frames]: { qos: 1 },
      [subscriptionFilter("status")]: { qos: 1 },
      [subscriptionFilter("inventory")]: { qos: 1 },
      [subscriptionFilter("event")]: { qos: 1 },
      [subscriptionFilter("processes")]: { qos: 1 },
    });
    this.log.info({ url: o.url, frames, shareGroup: o.shareGroup }, "Subscribed");
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    // A clean DISCONNECT keeps the session (expiry > 0): what we did not acknowledge is redelivered.
    if (client) await client.endAsync(false);
  }

  private firstConnect(client: MqttClient, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        client.end(true);
        reject(
          new GputelError("GPUTEL_E_MQTT", `No connection to ${this.options.url} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      client.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private receive(client: MqttClient, packet: IPublishPacket): void {
    const stream = client.stream;
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    this.options.ingest.submit(packet.topic, payload, undefined).then(
      () => {
        if (packet.qos === 0 || packet.messageId === undefined) return;
        // Only on the connection the message came in on (see the header).
        if (client.connected && client.stream === stream) {
          (client as unknown as PacketSender)._sendPacket(
            { cmd: "puback", messageId: packet.messageId },
            undefined,
            undefined,
            true,
          );
          this.acked += 1;
        }
      },
      (error: unknown) => {
        // Not committed: no PUBACK. The broker redelivers only on a new connection, so drop this one.
        this.warn("store", "Message not committed; reconnecting so the broker redelivers", error);
        if (client.stream === stream && !stream.destroyed) stream.destroy();
      },
    );
  }

  private warn(key: string, message: string, error: unknown): void {
    const suppressed = this.throttle.admit(key);
    if (suppressed === undefined) return;
    const err = error === undefined ? undefined : errorMessage(error);
    this.log.warn({ code: "GPUTEL_E_MQTT", url: this.options.url, err, suppressed }, message);
  }
}
