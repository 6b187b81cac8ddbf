// The collector's configuration: one TypeBox schema gives the type, the defaults and the validation.
// Loaded from /etc/gputel/collector.yaml (or --config), GPUTEL_* variables and command-line values.
import { join } from "node:path";
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import {
  Duration,
  HttpUrl,
  Listen,
  LogLevel,
  MqttUrl,
  parseListen,
  RetentionRule,
  Secret,
} from "../shared/config/formats.js";
import {
  type ConfigSpec,
  type DefaultsContext,
  type LoadOptions,
  type LoadResult,
  loadConfig,
  stateDirectoryDefault,
} from "../shared/config/load.js";
import { type ConfigProblem, tlsProblems } from "../shared/config/problems.js";
import { parseRetention } from "../shared/config/units.js";
import { isLoopbackHost } from "./api/auth.js";
import type { FlagsConfig, FlagsOverride } from "./flags/config.js";
import { DEFAULT_TIER_RULES } from "./store/tiers.js";

const strict = { additionalProperties: false } as const;
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const PROTOTYPE_NAMES = new Set(["__proto__", "constructor", "prototype"]);
const section = { additionalProperties: false, default: {} } as const;
const Celsius = (fallback: number) => Type.Number({ minimum: 0, maximum: 150, default: fallback });
const CeilingCelsius = (fallback: number) =>
  Type.Union([Type.Number({ minimum: 0, maximum: 150 }), Type.Null()], { default: fallback });

/** With defaults for the base rules; without (every key optional) for overrides. */
function idleFields(d: boolean) {
  const o = <T extends TSchema>(s: T) => (d ? s : Type.Optional(s));
  return {
    utilization_pct: o(
      Type.Number({
        minimum: 0,
        maximum: 100,
        default: 5,
        description: "below this utilization a GPU is idle",
      }),
    ),
    duration: o(Duration("15m", "idle this long raises the idle flag")),
    held_memory_mib: o(
      Type.Number({ minimum: 0, default: 1024, description: "memory used above this while idle: idle-held" }),
    ),
    clear_after: o(Duration("1m", "busy this long ends an idle episode")),
  };
}
function overheatFields(d: boolean) {
  const o = <T extends TSchema>(s: T) => (d ? s : Type.Optional(s));
  return {
    margin_c: o(Celsius(5)),
    memory_margin_c: o(Celsius(5)),
    ceiling_c: o(CeilingCelsius(85)),
    memory_ceiling_c: o(CeilingCelsius(90)),
    raise_after: o(Duration("2m")),
    clear_hysteresis_c: o(Celsius(3)),
    clear_after: o(Duration("2m")),
  };
}
function throttledFields(d: boolean) {
  const o = <T extends TSchema>(s: T) => (d ? s : Type.Optional(s));
  return { raise_after: o(Duration("2m")), clear_after: o(Duration("1m")) };
}

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
        },
        section,
      ),
      flags: Type.Object(
        {
          idle: Type.Object(idleFields(true), section),
          overheat: Type.Object(overheatFields(true), section),
          throttled: Type.Object(throttledFields(true), section),
          stale_intervals: Type.Integer({ minimum: 1, default: 3 }),
          lost_intervals: Type.Integer({ minimum: 1, default: 3 }),
          save_state_every: Duration("30s"),
          overrides: Type.Array(
            Type.Object(
              {
                match: Type.Object(
                  {
                    site: Type.Optional(Type.String()),
                    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
                  },
                  strict,
                ),
                idle: Type.Optional(Type.Object(idleFields(false), strict)),
                overheat: Type.Optional(Type.Object(overheatFields(false), strict)),
                throttled: Type.Optional(Type.Object(throttledFields(false), strict)),
              },
              strict,
            ),
            { default: [] },
          ),
        },
        section,
      ),
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
    problems.push({
      path: p.index === undefined ? "retention" : `retention[${p.index}]`,
      message: p.message,
    });
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
  const brokerListen = b.mode === "embedded" ? parseListen(b.listen) : undefined;
  if (brokerListen && !isLoopbackHost(brokerListen.host) && b.users_file === undefined) {
    problems.push({
      path: "broker.users_file",
      message: `is required when the embedded broker's broker.listen (${b.listen}) is not a loopback address: without it anyone who reaches the port may publish as any host`,
    });
  }
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

type IdleYaml = Partial<CollectorConfig["flags"]["idle"]>;
type OverheatYaml = Partial<CollectorConfig["flags"]["overheat"]>;
type ThrottledYaml = Partial<CollectorConfig["flags"]["throttled"]>;

/** Keeps only the keys that are set, so an override changes nothing it does not name. */
function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
function idle(y: IdleYaml) {
  return defined({
    utilizationPct: y.utilization_pct,
    heldMemoryMib: y.held_memory_mib,
    after: y.duration,
    clearAfter: y.clear_after,
  });
}
function overheat(y: OverheatYaml) {
  return defined({
    marginCelsius: y.margin_c,
    memoryMarginCelsius: y.memory_margin_c,
    gpuCeilingCelsius: y.ceiling_c,
    memoryCeilingCelsius: y.memory_ceiling_c,
    hysteresisCelsius: y.clear_hysteresis_c,
    after: y.raise_after,
    clearAfter: y.clear_after,
  });
}
function throttled(y: ThrottledYaml) {
  return defined({ after: y.raise_after, clearAfter: y.clear_after });
}

/** The YAML `flags` section as the flag rules' own option type (collector/flags/config.ts). */
export function toFlagsConfig(flags: CollectorConfig["flags"]): FlagsConfig {
  const overrides: FlagsOverride[] = flags.overrides.map((o) => ({
    match: defined({ site: o.match.site, labels: o.match.labels }),
    ...(o.idle ? { idle: idle(o.idle) } : {}),
    ...(o.overheat ? { overheat: overheat(o.overheat) } : {}),
    ...(o.throttled ? { throttled: throttled(o.throttled) } : {}),
  }));
  return {
    idle: idle(flags.idle) as FlagsConfig["idle"],
    overheat: overheat(flags.overheat) as FlagsConfig["overheat"],
    throttled: throttled(flags.throttled) as FlagsConfig["throttled"],
    staleIntervals: flags.stale_intervals,
    lostIntervals: flags.lost_intervals,
    saveStateEvery: flags.save_state_every,
    overrides,
  };
}
