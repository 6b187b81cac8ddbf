// The embedded MQTT broker: aedes 2.0.0-beta.1 (pinned: MQTT 5 and 3.1.1; aedes 1 refuses MQTT 5)
// on a loopback TCP port. Ingest happens in authorizePublish, which aedes runs BEFORE it sends the
// PUBACK of a QoS 1 publish (node_modules/aedes/lib/handlers/publish.js: authorizePublish, then
// enqueuePublish writes the PUBACK), so a PUBACK here means "committed to the database".
// The last will is also passed through authorizePublish (aedes publishWill), so "offline" is stored.
// Every agent is untrusted (docs/design.md §8): a publish that ingest rejects outright is refused (MQTT 5:
// a failure reason code in the PUBACK; 3.1.1: the connection is closed) and so neither relayed nor
// retained; a batch of which only some frames were stored is acknowledged but not relayed; only
// status and inventory are retained, bounded in size and count; with a users_file only `reader`
// accounts may subscribe (agents never need to).
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import {
  Aedes,
  type AedesPublishPacket,
  type AuthenticateError,
  type Client,
  type PublishPacket,
  type Subscription,
} from "aedes";
import { errorMessage } from "../../shared/errors.js";
import { type Logger, LogThrottle } from "../../shared/logger.js";
import { TOPIC_ROOT } from "../../shared/topics.js";
import type { IngestTarget, SubmitResult } from "../ingest/pipeline.js";
import { Authenticator } from "./authenticator.js";
import { maySubscribe, REASON, type RetainLimits, refusalCode, retainDecision } from "./policy.js";
import { refusePublish } from "./refuse.js";
import type { UserAccount, Users } from "./users-file.js";

export interface EmbeddedBrokerOptions {
  ingest: IngestTarget;
  logger: Logger;
  /** Listen address; loopback by default (docs/design.md §8). */
  host?: string;
  /** TCP port (default 1883; 0 picks a free one, see address()). */
  port?: number;
  /** The users_file's accounts. When set, every client must authenticate and may publish only as itself. */
  users?: Users;
  /** Packets above this are refused by the broker itself (default 1 MiB); ingest counts those above 256 KiB. */
  maxPacketBytes?: number;
  /** Bounds on retained messages (default 64 KiB each, 10,000 in all). */
  retain?: RetainLimits;
}

export const DEFAULT_RETAIN: RetainLimits = { maxBytes: 64 * 1024, maxMessages: 10_000 };
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;

type Done = (error?: Error | null) => void;

export class EmbeddedBroker {
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private readonly accounts = new WeakMap<Client, UserAccount>();
  private readonly authenticator: Authenticator | undefined;
  /** Topics holding a retained message (aedes keeps them; this bounds how many). */
  private readonly retained = new Set<string>();
  /** Payloads of partly rejected batches: stored in part, never relayed (aedes copies the packet, not the payload). */
  private readonly unrelayed = new WeakSet<object>();
  /** Every open TCP connection, those that never sent CONNECT included (aedes knows only clients). */
  private readonly sockets = new Set<Socket>();
  private readonly log: Logger;
  private readonly throttle = new LogThrottle(60_000);

  constructor(private readonly options: EmbeddedBrokerOptions) {
    this.log = options.logger.child({ component: "collector.broker" });
    if (options.users) this.authenticator = new Authenticator(options.users);
  }

  async start(): Promise<void> {
    const aedes = new Aedes({
      maximumPacketSize: this.options.maxPacketBytes ?? 1024 * 1024,
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => this.authorizeSubscribe(client, sub, done),
      authorizeForward: (client, packet) => this.authorizeForward(client, packet),
    });
    await aedes.listen();
    aedes.on("clientError", (client, error) =>
      this.log.debug({ client: client.id, err: error.message }, "Client error"),
    );
    // aedes reads a client again only after every publish of the previous read is settled (i.e.
    // committed): a socket buffer that holds a whole 256 KiB replay batch, or a few hundred live
    // frames, keeps commits large without stalling the event loop on megabyte reads.
    const server = createServer({ highWaterMark: 256 * 1024 }, aedes.handle);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(this.options.port ?? 1883, this.options.host ?? "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      // Port in use, say: aedes' own timers would keep a failed collector's process alive.
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw error;
    }
    server.on("error", (error) =>
      this.log.error({ code: "GPUTEL_E_MQTT", err: error.message }, "Broker socket error"),
    );
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    this.aedes = aedes;
    this.server = server;
    const { address, port } = this.address();
    this.log.info(
      { host: address, port, auth: this.authenticator !== undefined },
      "Embedded broker listening",
    );
  }

  address(): { address: string; port: number } {
    const info = this.server?.address() as AddressInfo | null | undefined;
    if (!info) throw new Error("Embedded broker is not listening");
    return { address: info.address, port: info.port };
  }

  async stop(): Promise<void> {
    const { aedes, server } = this;
    this.aedes = this.server = undefined;
    // server.close() completes only once every connection is gone, and aedes.close() is what
    // disconnects the clients: stop accepting, close aedes, then wait for the server.
    const serverClosed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    // aedes closes its clients only: a connection that never sent CONNECT (a port scan, a TCP
    // health check, an agent cut off mid-handshake) would hold the stop for aedes' 30 s connect
    // timeout, and systemd's restart with it.
    for (const socket of this.sockets) socket.destroy();
    await serverClosed;
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const authenticator = this.authenticator;
    if (!authenticator) {
      done(null, true);
      return;
    }
    const refuse = (busy: boolean, err?: unknown) => {
      this.warn(
        "auth",
        { client: client.id, username, busy, err: err && errorMessage(err) },
        "Authentication failed",
      );
      const error = Object.assign(new Error(busy ? "Server busy" : "Bad username or password"), {
        returnCode: busy ? SERVER_UNAVAILABLE : BAD_USERNAME_OR_PASSWORD,
      });
      done(error as AuthenticateError, false);
    };
    authenticator.check(username, password).then(
      (result) => {
        if (!result.ok) return refuse(result.busy);
        this.accounts.set(client, result.account);
        done(null, true);
      },
      (error: unknown) => refuse(false, error),
    );
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, done: Done): void {
    const authOn = this.authenticator !== undefined;
    const account = client ? this.accounts.get(client) : undefined;
    if (authOn && account?.role === "reader") {
      this.refuse(client, packet, REASON.NOT_AUTHORIZED, "readers do not publish", done);
      return;
    }
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    const retain = packet.retain
      ? retainDecision(packet.topic, payload.length, this.retained, this.options.retain ?? DEFAULT_RETAIN)
      : undefined;
    if (retain === "refuse") {
      this.refuse(
        client,
        packet,
        REASON.IMPLEMENTATION_SPECIFIC,
        "only status and inventory are retained",
        done,
      );
      return;
    }
    if (!packet.topic.startsWith(`${TOPIC_ROOT}/`)) {
      // Other topics are relayed untouched for anonymous setups; with auth on, agents write only their own.
      if (authOn) this.refuse(client, packet, REASON.NOT_AUTHORIZED, "topic not allowed", done);
      else done(null);
      return;
    }
    this.options.ingest.submit(packet.topic, payload, authOn ? (account?.name ?? "") : undefined).then(
      (result) => this.settle(client, packet, result, retain, done),
      (error: unknown) => this.notCommitted(client, packet, error, done),
    );
  }

  /** After ingest: refuse what it rejected outright; relay and retain only what it took whole. */
  private settle(
    client: Client | null,
    packet: PublishPacket,
    result: SubmitResult,
    retain: "retain" | "drop-retain" | undefined,
    done: Done,
  ): void {
    const first = result.rejections[0];
    if (!result.stored && first) {
      this.refuse(client, packet, refusalCode(first.reason), `${first.reason}: ${first.detail}`, done);
      return;
    }
    if (first && typeof packet.payload === "object") this.unrelayed.add(packet.payload);
    if (retain === "retain") this.retained.add(packet.topic);
    else if (retain === "drop-retain") {
      // aedes stores a retained message only when the flag is still set as it publishes it.
      packet.retain = false;
      this.warn(
        "retain",
        { topic: packet.topic, retained: this.retained.size },
        "Retained message not kept (size or count bound)",
      );
    }
    done(null);
  }

  private refuse(
    client: Client | null,
    packet: PublishPacket,
    code: number,
    reason: string,
    done: Done,
  ): void {
    this.log.debug({ client: client?.id, topic: packet.topic, code, reason }, "Publish refused");
    refusePublish(client, packet, code, reason, done);
  }

  private authorizeSubscribe(
    client: Client,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const account = this.accounts.get(client);
    if (maySubscribe(account?.role, this.authenticator !== undefined)) {
      done(null, sub);
      return;
    }
    // A null subscription is answered 0x87 (MQTT 5) or 0x80 (3.1.1) in the SUBACK.
    this.warn(
      "subscribe",
      { client: client.id, username: account?.name, filter: sub.topic },
      "Subscription refused",
    );
    done(null, null);
  }

  /** Every delivery, retained ones included: a second guard behind authorizeSubscribe. */
  private authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    if (typeof packet.payload === "object" && this.unrelayed.has(packet.payload)) return null;
    if (!maySubscribe(this.accounts.get(client)?.role, this.authenticator !== undefined)) return null;
    return packet;
  }

  /**
   * Not committed (storage failed; not a rejection): the publish must not be acknowledged, nor
   * refused with a code, since mqtt.js DROPS a message from its store on a failure PUBACK
   * (node_modules/mqtt/build/lib/handlers/ack.js); a closed connection instead makes it re-send
   * every unacknowledged publish after reconnecting (MQTT 3.1.1 and 5 alike).
   */
  private notCommitted(client: Client | null, packet: PublishPacket, error: unknown, done: Done): void {
    this.log.debug(
      { client: client?.id, topic: packet.topic, err: errorMessage(error) },
      "Publish not committed",
    );
    if (!client || client.closed) {
      done(new Error("Not committed"));
      return;
    }
    client.disconnect({ reasonCode: REASON.UNSPECIFIED_ERROR }, () => done(new Error("Not committed")));
  }

  private warn(key: string, fields: Record<string, unknown>, message: string): void {
    const suppressed = this.throttle.admit(key);
    if (suppressed !== undefined) this.log.warn({ code: "GPUTEL_E_MQTT", ...fields, suppressed }, message);
  }
}
