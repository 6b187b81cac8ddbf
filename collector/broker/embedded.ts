// The embedded MQTT broker: aedes 2.0.0-beta.1 (pinned: MQTT 5 and 3.1.1; aedes 1 refuses MQTT 5)
// on a loopback TCP port. Ingest happens in authorizePublish, which aedes runs BEFORE it sends the
// PUBACK of a QoS 1 publish (node_modules/aedes/lib/handlers/publish.js: authorizePublish, then
// enqueuePublish writes the PUBACK), so a PUBACK here means "committed to the database".
// The last will is also passed through authorizePublish (aedes publishWill), so "offline" is stored.
import { type AddressInfo, createServer, type Server } from "node:net";
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from "aedes";
import { errorMessage } from "../../shared/errors.js";
import type { Logger } from "../../shared/logger.js";
import { TOPIC_ROOT } from "../../shared/topics.js";
import type { IngestTarget } from "../ingest/pipeline.js";

export interface EmbeddedBrokerOptions {
  ingest: IngestTarget;
  logger: Logger;
  /** Listen address; loopback by default (docs/design.md §8). */
  host?: string;
  /** TCP port (default 1883; 0 picks a free one, see address()). */
  port?: number;
  /** username → password. When set, every client must authenticate and may publish only as itself. */
  users?: Readonly<Record<string, string>>;
  /** Packets above this are refused by the broker itself (default 1 MiB); ingest counts those above 256 KiB. */
  maxPacketBytes?: number;
}

/** MQTT 5 DISCONNECT reason 0x80 "Unspecified error". */
const UNSPECIFIED_ERROR = 0x80;
const BAD_USERNAME_OR_PASSWORD = 4;

export class EmbeddedBroker {
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private readonly usernames = new WeakMap<Client, string>();
  private readonly log: Logger;

  constructor(private readonly options: EmbeddedBrokerOptions) {
    this.log = options.logger.child({ component: "collector.broker" });
  }

  async start(): Promise<void> {
    const aedes = new Aedes({
      maximumPacketSize: this.options.maxPacketBytes ?? 1024 * 1024,
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
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
    this.aedes = aedes;
    this.server = server;
    const { address, port } = this.address();
    this.log.info(
      { host: address, port, auth: this.options.users !== undefined },
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
    await serverClosed;
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const users = this.options.users;
    if (!users) {
      done(null, true);
      return;
    }
    const expected = username !== undefined && Object.hasOwn(users, username) ? users[username] : undefined;
    if (expected === undefined || password?.toString("utf8") !== expected) {
      const error = Object.assign(new Error("Bad username or password"), {
        returnCode: BAD_USERNAME_OR_PASSWORD,
      });
      this.log.warn({ code: "GPUTEL_E_MQTT", client: client.id, username }, "Authentication failed");
      done(error as AuthenticateError, false);
      return;
    }
    this.usernames.set(client, username as string);
    done(null, true);
  }

  private authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    const authOn = this.options.users !== undefined;
    if (!packet.topic.startsWith(`${TOPIC_ROOT}/`)) {
      // Other topics are relayed untouched for anonymous setups; with auth on, agents write only their own.
      done(authOn ? new Error("Topic not allowed") : null);
      return;
    }
    const username = authOn && client ? this.usernames.get(client) : undefined;
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    this.options.ingest.submit(packet.topic, payload, authOn ? (username ?? "") : undefined).then(
      () => done(null),
      (error: unknown) => this.refuse(client, packet, error, done),
    );
  }

  /**
   * Not committed: the publish must not be acknowledged. An error callback would make aedes answer
   * an MQTT 5 client with PUBACK 0x87, and mqtt.js then DROPS the message from its store
   * (node_modules/mqtt/build/lib/handlers/ack.js); a closed connection instead makes it re-send
   * every unacknowledged publish after reconnecting (MQTT 3.1.1 and 5 alike).
   */
  private refuse(
    client: Client | null,
    packet: PublishPacket,
    error: unknown,
    done: (error?: Error | null) => void,
  ): void {
    this.log.debug(
      { client: client?.id, topic: packet.topic, err: errorMessage(error) },
      "Publish not committed",
    );
    if (!client || client.closed) {
      done(new Error("Not committed"));
      return;
    }
    client.disconnect({ reasonCode: UNSPECIFIED_ERROR }, () => done(new Error("Not committed")));
  }
}
