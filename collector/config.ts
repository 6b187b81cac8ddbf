// The collector's configuration: one TypeBox schema gives the type, the defaults and the validation.
// Loaded from /etc/gputel/collector.yaml (or --config), GPUTEL_* variables and command-line values.
import { join } from "node:path";
import { type Static, Type } from "@sinclair/typebox";
import {
  Duration,
  HttpUrl,
  Listen,
  LogLevel,
  MqttUrl,
  parseListen,
  RetentionRule,
  Secret,
  Size,
} from "../shared/config/formats.js";
import {
  type ConfigSpec,
  type DefaultsContext,
  type LoadOptions,
  type LoadResult,
  loadConfig,
  stateDirectoryDefault,
} from "../shared/config/load.js";
import { type ConfigProblem, durationAbove, timerProblems, tlsProblems } from "../shared/config/problems.js";
import { parseRetention, retentionProblemPath } from "../shared/config/units.js";
import { isLoopbackHost } from "./api/auth.js";
import { usersFileProblems } from "./broker/users-file.js";
import { FlagsSchema } from "./flags/config.js";
import { limitsSchema } from "./ingest/limits.js";
import { DEFAULT_TIER_RULES } from "./store/tiers.js";

const strict = { additionalProperties: false } as const;
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/** MQTT 5's Session Expiry Interval is a four-byte count of seconds. */
const MAX_SESSION_EXPIRY_S = 2 ** 32 - 1;
const PROTOTYPE_NAMES = new Set(["__proto__", "constructor", "prototype"]);
const section = { additionalProperties: false, default: {} } as const;
export function collectorSchema(ctx: DefaultsContext) {
  const state = stateDirectoryDefault(ctx.env, "/var/lib/gputel-collector");
  return Type.Object(
    {
      log_level: LogLevel(),
      database: Type.String({ minLength: 1, default: join(state, "collector.db") }),
      retention: Type.Array(RetentionRule(), { minItems: 1, default: [...DEFAULT_TIER_RULES] }),
      broker: Type.Object(
        {
          mode: Type.Union([Type.Literal("embedded"), Type.Literal("external")], { default: "embedded" }),
          listen: Listen("127.0.0.1:1883", "embedded broker's MQTT listener"),
          url: Type.Optional(MqttUrl(undefined, "external broker")),
          username: Type.Optional(Type.String({ minLength: 1 })),
          password: Type.Optional(Secret()),
          password_file: Type.Optional(Type.String({ minLength: 1 })),
          ca_file: Type.Optional(Type.String({ minLength: 1 })),
          cert_file: Type.Optional(Type.String({ minLength: 1 })),
          key_file: Type.Optional(Type.String({ minLength: 1 })),
          reject_unauthorized: Type.Boolean({ default: true }),
          share_group: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9._-]+$" })),
          client_id: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 128,
              description: "MQTT client id, unique per collector (default gputel-collector-<hostname>)",
            }),
          ),
          session_expiry: Duration("1h"),
          users_file: Type.Optional(Type.String({ minLength: 1 })),
          retained_max_size: Size("64KiB", "largest status or inventory the embedded broker keeps retained"),
          retained_max_messages: Type.Integer({
            minimum: 0,
            default: 10_000,
            description: "retained messages the embedded broker keeps at most (two per host)",
          }),
        },
        section,
      ),
      http: Type.Object(
        {
          listen: Listen("127.0.0.1:8080"),
          token: Type.Optional(Secret()),
          token_file: Type.Optional(Type.String({ minLength: 1 })),
          peers: Type.Array(HttpUrl(), { default: [] }),
          allowed_hosts: Type.Array(
            Type.String({ pattern: "^[A-Za-z0-9.:_-]{1,253}$", description: "a host name, without port" }),
            {
              default: [],
              description:
                "without a token: Host header names answered besides localhost, 127.0.0.1 and [::1]",
            },
          ),
          read_threads: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 8,
              description:
                "threads answering heavy reads (reports, the summary's range usage), each with its own connection and copy of the unsealed samples (default: 2, or 1 on a one-core machine)",
            }),
          ),
        },
        section,
      ),
      flags: FlagsSchema,
      limits: limitsSchema(),
      alerts: Type.Object(
        {
          webhook: Type.Object({ url: Type.Optional(HttpUrl()), timeout: Duration("5s") }, section),
          alertmanager: Type.Object({ url: Type.Optional(HttpUrl()), resend: Duration("1m") }, section),
        },
        section,
      ),
      leases: Type.Object(
        {
          from_label: Type.Optional(
            Type.String({
              description:
                "a host label (e.g. customer) whose value is the tenant: a change ends the GPUs' lease and starts a new one (default: off)",
            }),
          ),
        },
        section,
      ),
      remote_write: Type.Optional(
        Type.Object(
          {
            url: HttpUrl(),
            tenant: Type.Optional(Type.String({ minLength: 1 })),
            // `headers: true`: check-config masks the values of credential headers (Authorization…).
            headers: Type.Record(Type.String(), Type.String(), { default: {}, headers: true }),
            batch_samples: Type.Integer({ minimum: 1, default: 5000 }),
            interval: Duration("10s"),
            timeout: Duration("30s", "per request"),
            max_pending_rows: Type.Integer({
              minimum: 1,
              default: 200_000,
              description: "queue bound in store write batches; the oldest are dropped past it",
            }),
          },
          strict,
        ),
      ),
    },
    strict,
  );
}

export type CollectorConfig = Static<ReturnType<typeof collectorSchema>>;

function collectorProblems(config: CollectorConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const p of parseRetention(config.retention).problems) {
    problems.push({ path: retentionProblemPath("retention", p), message: p.message });
  }
  const b = config.broker;
  if (b.mode === "external" && b.url === undefined)
    problems.push({ path: "broker.url", message: "is required when broker.mode is external" });
  if (b.mode === "embedded" && b.share_group !== undefined) {
    problems.push({
      path: "broker.share_group",
      message: "shared subscriptions need broker.mode: external (the embedded broker refuses them)",
    });
  }
  problems.push(...tlsProblems(b));
  problems.push(
    ...durationAbove(
      "broker.session_expiry",
      b.session_expiry,
      MAX_SESSION_EXPIRY_S * 1000,
      "MQTT 5 carries it in 32 bits of seconds (about 136 years)",
    ),
    ...timerProblems({
      "alerts.webhook.timeout": config.alerts.webhook.timeout,
      "alerts.alertmanager.resend": config.alerts.alertmanager.resend,
      ...(config.remote_write && {
        "remote_write.interval": config.remote_write.interval,
        "remote_write.timeout": config.remote_write.timeout,
      }),
    }),
  );
  const brokerListen = b.mode === "embedded" ? parseListen(b.listen) : undefined;
  if (brokerListen && !isLoopbackHost(brokerListen.host) && b.users_file === undefined) {
    problems.push({
      path: "broker.users_file",
      message: `is required when the embedded broker's broker.listen (${b.listen}) is not a loopback address: without it anyone who reaches the port may publish as any host`,
    });
  }
  if (b.mode === "embedded") problems.push(...usersFileProblems(b.users_file));
  const fromLabel = config.leases.from_label;
  if (fromLabel !== undefined && (!LABEL_KEY.test(fromLabel) || PROTOTYPE_NAMES.has(fromLabel)))
    problems.push({
      path: "leases.from_label",
      message: `${JSON.stringify(fromLabel)} is not a label key (a letter or _, then letters, digits, _ . -; at most 64; not __proto__, constructor or prototype)`,
    });
  const listen = parseListen(config.http.listen);
  if (config.http.token === "") {
    problems.push({
      path: "http.token",
      message: "is empty: set a token (http.token_file or the api_token credential) or remove the key",
    });
  } else if (listen && !isLoopbackHost(listen.host) && config.http.token === undefined) {
    problems.push({
      path: "http.token",
      message: `is required when http.listen (${config.http.listen}) is not a loopback address: set http.token_file or the api_token credential`,
    });
  }
  return problems;
}

export const collectorConfigSpec: ConfigSpec<ReturnType<typeof collectorSchema>> = {
  program: "collector",
  defaultFile: "/etc/gputel/collector.yaml",
  schema: collectorSchema,
  secrets: [
    { path: "broker.password", file: "broker.password_file", credential: "mqtt_password" },
    { path: "http.token", file: "http.token_file", credential: "api_token" },
  ],
  check: collectorProblems,
};

export function loadCollectorConfig(options: LoadOptions = {}): LoadResult<CollectorConfig> {
  return loadConfig(collectorConfigSpec, options);
}
