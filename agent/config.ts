// The agent's configuration: one TypeBox schema gives the type, the defaults and the validation.
// Loaded from /etc/gputel/agent.yaml (or --config), GPUTEL_* variables and command-line values.
import { type Static, Type } from "@sinclair/typebox";
import { splitCommandLine } from "../shared/config/argv.js";
import { Duration, HostId, LogLevel, MqttUrl, Secret, Size } from "../shared/config/formats.js";
import {
  type ConfigSpec,
  type DefaultsContext,
  type LoadOptions,
  type LoadResult,
  loadConfig,
  stateDirectoryDefault,
} from "../shared/config/load.js";
import { durationAbove, timerProblems, tlsProblems } from "../shared/config/problems.js";
import { durationMs } from "../shared/config/units.js";
import { MAX_FRAME_INTERVAL_MS } from "../shared/proto.js";
import { isValidHostId } from "../shared/topics.js";
import { USER_PRIVACY_MODES } from "./holders/privacy.js";
import { DEFAULT_SOURCES, SOURCE_NAMES, type SourceName, sourceListProblems } from "./sources/catalog.js";

const strict = { additionalProperties: false } as const;
/** MQTT's CONNECT carries the keepalive in 16 bits: a longer one makes every connection attempt fail. */
const MAX_KEEPALIVE_S = 65_535;

/**
 * The kernel log through the journal: readable with the `systemd-journal` group alone (the unit
 * keeps ProtectKernelLogs=yes, which hides /dev/kmsg), JSON so each entry carries its boot id
 * and sequence number, `-n all` so a (re)start reads this boot's log from its beginning.
 */
export const DEFAULT_KERNEL_LOG_COMMAND = "journalctl -k -f -n all -o json";

export function agentSchema(ctx: DefaultsContext) {
  return Type.Object(
    {
      host: HostId(ctx.hostname, "agent id: topic level and MQTT username"),
      site: Type.Optional(Type.String({ minLength: 1, description: "site name carried in every frame" })),
      labels: Type.Record(Type.String(), Type.String(), {
        default: {},
        description: "free-form key/value labels (customer, rack...)",
      }),
      interval: Duration("1s", "sampling interval"),
      sources: Type.Array(Type.String({ minLength: 1 }), {
        default: [...DEFAULT_SOURCES],
        description: `data sources to run, each with its settings under its own keys (known: ${SOURCE_NAMES.join(", ")})`,
      }),
      nvidia_smi: Type.String({
        minLength: 1,
        default: "nvidia-smi",
        description: "command line of nvidia-smi, split without a shell",
      }),
      inventory_interval: Duration("10m"),
      inventory_timeout: Duration("30s"),
      compute_apps_interval: Duration("10s"),
      health_interval: Duration("60s", "nvidia-smi -q -x health poll (recovery action, PCIe replays)"),
      nvlink_interval: Duration(
        "5m",
        "nvidia-smi nvlink -s then nvlink -e poll (links down or below speed, error counters)",
      ),
      kernel_log: Type.Object(
        {
          command: Type.String({
            minLength: 1,
            default: DEFAULT_KERNEL_LOG_COMMAND,
            description:
              "kernel-log reader, split without a shell: journalctl JSON (default), or anything printing /dev/kmsg records or log lines",
          }),
        },
        { ...strict, default: {} },
      ),
      processes: Type.Object(
        {
          refresh_interval: Duration("60s", "a process set is sent when it changes, and at least this often"),
          pmon_interval: Duration("5s", "interval of the long-lived nvidia-smi pmon child (1s to 10s)"),
          max_per_message: Type.Integer({
            minimum: 1,
            maximum: 4096,
            default: 1024,
            description: "processes per message; past it the set is cut and marked truncated",
          }),
          proc_root: Type.String({ minLength: 1, default: "/proc", description: "where /proc is read" }),
          passwd_file: Type.String({
            minLength: 1,
            default: "/etc/passwd",
            description: "user names by uid (no NSS lookups)",
          }),
        },
        { ...strict, default: {} },
      ),
      privacy: Type.Object(
        {
          users: Type.Union(
            USER_PRIVACY_MODES.map((m) => Type.Literal(m)),
            {
              default: "keep",
              description: "a process's user: keep (uid and name), hash (salted token), drop",
            },
          ),
          salt: Type.Optional(Secret("HMAC key of privacy.users: hash (the same on every host)")),
          salt_file: Type.Optional(Type.String({ minLength: 1 })),
        },
        { ...strict, default: {} },
      ),
      state_directory: Type.String({
        minLength: 1,
        default: stateDirectoryDefault(ctx.env, "/var/lib/gputel-agent"),
      }),
      log_level: LogLevel(),
      broker: Type.Object(
        {
          url: MqttUrl("mqtt://127.0.0.1:1883"),
          protocol: Type.Union([Type.Literal("5"), Type.Literal("3.1.1")], { default: "5" }),
          username: Type.Optional(Type.String({ minLength: 1, description: "default: host" })),
          password: Type.Optional(Secret()),
          password_file: Type.Optional(Type.String({ minLength: 1 })),
          ca_file: Type.Optional(Type.String({ minLength: 1 })),
          cert_file: Type.Optional(Type.String({ minLength: 1 })),
          key_file: Type.Optional(Type.String({ minLength: 1 })),
          reject_unauthorized: Type.Boolean({ default: true }),
          keepalive: Duration("30s"),
        },
        { ...strict, default: {} },
      ),
      spool: Type.Object(
        {
          max_size: Size("512MiB"),
          replay_rate: Type.Integer({
            minimum: 1,
            default: 200,
            description: "frames per second while replaying",
          }),
          replay_batch_frames: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
          inflight: Type.Integer({ minimum: 1, maximum: 65_000, default: 32 }),
        },
        { ...strict, default: {} },
      ),
    },
    strict,
  );
}

export type AgentConfig = Static<ReturnType<typeof agentSchema>>;

export const agentConfigSpec: ConfigSpec<ReturnType<typeof agentSchema>> = {
  program: "agent",
  defaultFile: "/etc/gputel/agent.yaml",
  schema: agentSchema,
  secrets: [
    { path: "broker.password", file: "broker.password_file", credential: "mqtt_password" },
    { path: "privacy.salt", file: "privacy.salt_file", credential: "privacy_salt" },
  ],
  finish(config) {
    config.broker.username ??= config.host;
  },
  check(config) {
    const problems = tlsProblems(config.broker);
    const argv = splitCommandLine(config.nvidia_smi);
    if (typeof argv === "string") problems.push({ path: "nvidia_smi", message: argv });
    const kernelLog = splitCommandLine(config.kernel_log.command);
    if (typeof kernelLog === "string") problems.push({ path: "kernel_log.command", message: kernelLog });
    problems.push(...sourceListProblems(config.sources));
    if (config.privacy.users === "hash" && !config.privacy.salt)
      problems.push({ path: "privacy.salt", message: "privacy.users is hash: set a salt (or salt_file)" });
    const pmonMs = durationMs(config.processes.pmon_interval);
    if (pmonMs < 1000 || pmonMs > 10_000 || pmonMs % 1000 !== 0)
      problems.push({
        path: "processes.pmon_interval",
        message: "whole seconds from 1s to 10s (what nvidia-smi pmon -d accepts)",
      });
    problems.push(
      ...durationAbove(
        "interval",
        config.interval,
        MAX_FRAME_INTERVAL_MS,
        "the collector drops frames over 24h",
      ),
      ...durationAbove(
        "broker.keepalive",
        config.broker.keepalive,
        MAX_KEEPALIVE_S * 1000,
        "MQTT's keepalive is at most 65535s",
      ),
      ...timerProblems({
        inventory_interval: config.inventory_interval,
        inventory_timeout: config.inventory_timeout,
        compute_apps_interval: config.compute_apps_interval,
        health_interval: config.health_interval,
        nvlink_interval: config.nvlink_interval,
        "processes.refresh_interval": config.processes.refresh_interval,
      }),
    );
    for (const key of Object.keys(config.labels)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key))
        problems.push({
          path: `labels.${key}`,
          message: "label names are letters, digits and '_' (not starting with a digit)",
        });
    }
    // The ACL patterns gputel/v1/%u/{frame,status,inventory,event} need the username to be a valid topic level; any other name
    // cannot write its own topics on the shipped Mosquitto configuration.
    if (config.broker.username !== undefined && !isValidHostId(config.broker.username)) {
      problems.push({
        path: "broker.username",
        message: `${JSON.stringify(config.broker.username)} is not a valid host id (it is the topic level in the broker's ACL)`,
      });
    }
    return problems;
  },
};

export function loadAgentConfig(options: LoadOptions = {}): LoadResult<AgentConfig> {
  return loadConfig(agentConfigSpec, options);
}

/** `sources:` as registry names (validated by the schema check, so this cannot fail on a loaded config). */
export function sourceNames(config: Pick<AgentConfig, "sources">): SourceName[] {
  const problem = sourceListProblems(config.sources)[0];
  if (problem) throw new RangeError(`${problem.path}: ${problem.message}`);
  return config.sources as SourceName[];
}

/** nvidia_smi as argv (validated by the schema check, so this cannot fail on a loaded config). */
export function nvidiaSmiArgv(config: Pick<AgentConfig, "nvidia_smi">): string[] {
  const argv = splitCommandLine(config.nvidia_smi);
  if (typeof argv === "string") throw new RangeError(argv);
  return argv;
}

/** kernel_log.command as argv (validated by the schema check, so this cannot fail on a loaded config). */
export function kernelLogArgv(config: Pick<AgentConfig, "kernel_log">): string[] {
  const argv = splitCommandLine(config.kernel_log.command);
  if (typeof argv === "string") throw new RangeError(argv);
  return argv;
}
