// The real collector (embedded broker, SQLite file) started in process for the attack tests, with a
// users_file written here, and real mqtt.js clients that report what the broker answered.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { hashPassword } from "../../collector/broker/password-hash.js";
import { loadCollectorConfig } from "../../collector/config.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { freePort } from "../helpers/net.js";

export interface Account {
  password: string;
  role?: "agent" | "reader";
}

export interface TestCollector {
  url: string;
  dir: string;
  collector: RunningCollector;
  stop(): Promise<void>;
}

/** One users_file line, as an operator writes it from `gputel collector hash-password`. */
export async function usersLine(name: string, account: Account): Promise<string> {
  return `${name}:${await hashPassword(account.password)}${account.role ? `:${account.role}` : ""}`;
}

export async function startTestCollector(
  users: Record<string, Account> | undefined,
  overrides: Record<string, unknown> = {},
): Promise<TestCollector> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-sec-"));
  const port = await freePort();
  const all: Record<string, unknown> = {
    database: join(dir, "collector.db"),
    "broker.listen": `127.0.0.1:${port}`,
    "http.listen": `127.0.0.1:${await freePort()}`,
    ...overrides,
  };
  if (users) {
    const lines = await Promise.all(Object.entries(users).map(([name, a]) => usersLine(name, a)));
    writeFileSync(join(dir, "users"), `${lines.join("\n")}\n`);
    all["broker.users_file"] = join(dir, "users");
  }
  const loaded = loadCollectorConfig({ env: {}, overrides: all });
  if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded.problems)}`);
  const collector = await startCollector(loaded.config, silentLogger());
  return {
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    collector,
    async stop() {
      await collector.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Connects once, no reconnect (a refused or dropped connection stays so). */
export async function connectAs(
  url: string,
  user: string | undefined,
  password: string | undefined,
  protocolVersion: 4 | 5,
  extra: IClientOptions = {},
): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    clientId: `${user ?? "anon"}-${protocolVersion}-${Math.random().toString(36).slice(2, 8)}`,
    ...(user !== undefined ? { username: user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...extra,
  });
}

export type PublishOutcome = "acknowledged" | "closed" | { code: number | string | undefined };

/** What the broker answered one QoS 1 publish: PUBACK success, a failure code, or a closed connection. */
export function publishOutcome(
  client: MqttClient,
  topic: string,
  payload: Uint8Array,
  retain = false,
): Promise<PublishOutcome> {
  return new Promise((resolve) => {
    const onClose = () => resolve("closed");
    client.once("close", onClose);
    client.publish(topic, Buffer.from(payload), { qos: 1, retain }, (error) => {
      client.off("close", onClose);
      if (!error) resolve("acknowledged");
      else if (!client.connected) resolve("closed");
      else resolve({ code: (error as Error & { code?: number | string }).code });
    });
  });
}

/**
 * The SUBACK's answer to one filter: the granted QoS, or the failure code (mqtt.js reports a
 * failure as an error that carries the SUBACK packet; its `granted` list echoes the request).
 */
export function subscribeOutcome(client: MqttClient, filter: string): Promise<number> {
  return new Promise((resolve) => {
    client.subscribe(filter, { qos: 1 }, (error, granted, packet) => {
      const suback = (error as (Error & { packet?: { granted?: number[] } }) | null)?.packet ?? packet;
      const codes = (suback as { granted?: number[] } | undefined)?.granted;
      resolve(codes?.[0] ?? granted?.[0]?.qos ?? -1);
    });
  });
}
