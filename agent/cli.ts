// `gputel agent`: run the agent, take one sample (--once), or check/install its configuration.
import { randomUUID } from "node:crypto";
import { type OptionValues, openProgramCli } from "../shared/cli/program-cli.js";
import { frameToJson } from "../shared/codec.js";
import { durationMs } from "../shared/config/units.js";
import { errorMessage } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import type { IFrame } from "../shared/proto.js";
import { stopOnSignal } from "../shared/stop-signal.js";
import { VERSION } from "../shared/version.js";
import { type AgentConfig, agentConfigSpec, loadAgentConfig } from "./config.js";
import { FrameBuilder } from "./frame/frame-builder.js";
import { SystemInformationHost } from "./host/host-source.js";
import { formatFrameTable } from "./once-table.js";
import { identityOf, sourcesFromConfig, startAgent } from "./run.js";
import type { SourceSample } from "./sources/source.js";

const USAGE = `Usage: gputel agent [options]
       gputel agent check-config [--config FILE]
       gputel agent install|uninstall [options]   (see: gputel agent install --help)

Samples the GPUs through nvidia-smi and publishes frames over MQTT.

Options (each also settable in the config file and as GPUTEL_<KEY>; flags win):
  -c, --config FILE      configuration file (default /etc/gputel/agent.yaml)
      --once             take one sample, print it and exit (no broker)
      --json             with --once: print the frame as JSON (field names as in the proto)
      --nvidia-smi CMD   nvidia-smi command line, split without a shell
                         (e.g. "gputel mock-smi --scenario demo.yaml --")
      --broker URL       mqtt:// or mqtts:// broker URL
      --host ID          agent id (default: hostname)
      --site NAME        site name
      --label KEY=VALUE  label carried in every frame (repeatable)
      --interval DUR     sampling interval (default 1s)
      --state-dir DIR    where the spool lives
      --protocol 5|3.1.1 MQTT protocol version (default 5)
      --log-level LEVEL  fatal|error|warn|info|debug|trace|silent
  -h, --help             show this help
  -V, --version          print the version
`;

const OPTIONS = {
  config: { type: "string", short: "c" },
  once: { type: "boolean" },
  json: { type: "boolean" },
  "nvidia-smi": { type: "string" },
  broker: { type: "string" },
  host: { type: "string" },
  site: { type: "string" },
  label: { type: "string", multiple: true },
  interval: { type: "string" },
  "state-dir": { type: "string" },
  protocol: { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

type Values = OptionValues<typeof OPTIONS>;

function overridesFrom(values: Values): Record<string, unknown> | string {
  const overrides: Record<string, unknown> = {};
  const map: [keyof Values, string][] = [
    ["nvidia-smi", "nvidia_smi"],
    ["broker", "broker.url"],
    ["host", "host"],
    ["site", "site"],
    ["interval", "interval"],
    ["state-dir", "state_directory"],
    ["protocol", "broker.protocol"],
    ["log-level", "log_level"],
  ];
  for (const [flag, path] of map) if (values[flag] !== undefined) overrides[path] = values[flag];
  for (const label of values.label ?? []) {
    const eq = label.indexOf("=");
    if (eq <= 0) return `--label expects KEY=VALUE, got '${label}'`;
    overrides[`labels.${label.slice(0, eq)}`] = label.slice(eq + 1);
  }
  return overrides;
}

export async function run(args: string[]): Promise<number> {
  const opened = await openProgramCli(args, {
    spec: agentConfigSpec,
    usage: USAGE,
    options: OPTIONS,
    install: async () => (await import("./install-spec.js")).agentInstall,
    overrides: overridesFrom,
    load: (file, overrides) => loadAgentConfig({ file, overrides }),
  });
  if (typeof opened === "number") return opened;
  const { values, config } = opened;
  return values.once ? runOnce(config, values.json === true) : runDaemon(config);
}

async function runOnce(config: AgentConfig, json: boolean): Promise<number> {
  // Logs go to stderr so that stdout holds only the frame.
  const logger = createLogger(
    { host: config.host },
    { level: config.log_level, destination: process.stderr },
  );
  const intervalMs = durationMs(config.interval);
  const source = sourcesFromConfig(config, logger, { once: true }).gpu;
  const sample = await new Promise<SourceSample>((resolve) => {
    void source.start((first) => resolve(first));
  });
  await source.stop();
  const hostSample = await new SystemInformationHost().sample().catch(() => undefined);
  const frame: IFrame = new FrameBuilder({ ...identityOf(config, intervalMs), bootId: randomUUID() }).build(
    sample,
    hostSample,
    0,
  );
  process.stdout.write(json ? `${JSON.stringify(frameToJson(frame))}\n` : formatFrameTable(frame));
  if (sample.sourceError) {
    process.stderr.write(`gputel agent: ${sample.sourceError}\n`);
    return 69;
  }
  return 0;
}

async function runDaemon(config: AgentConfig): Promise<number> {
  const logger = createLogger({ host: config.host }, { level: config.log_level });
  let running: Awaited<ReturnType<typeof startAgent>>;
  try {
    running = await startAgent(config, logger);
  } catch (error) {
    logger.fatal({ err: errorMessage(error) }, "Agent failed to start");
    return 1;
  }
  logger.info({ version: VERSION, broker: config.broker.url, interval: config.interval }, "Agent started");
  await stopOnSignal(logger, () => running.stop());
  return 0;
}
