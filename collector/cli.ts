// `gputel collector`: run the collector, or check/install its configuration.

import { type OptionValues, openProgramCli } from "../shared/cli/program-cli.js";
import { EX_CONFIG } from "../shared/config/problems.js";
import { errorMessage } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import { stopOnSignal } from "../shared/stop-signal.js";
import { VERSION } from "../shared/version.js";
import { collectorConfigSpec, loadCollectorConfig } from "./config.js";
import { startCollector } from "./run.js";

const USAGE = `Usage: gputel collector [options]
       gputel collector check-config [--config FILE]
       gputel collector hash-password < password   (a users_file hash; the password on stdin)
       gputel collector install|uninstall [options]   (see: gputel collector install --help)
       gputel collector approve-move UUID --to HOST   (a GPU really moved to HOST)

Receives frames (embedded MQTT broker, or an external one), stores and downsamples them in
SQLite, flags idle and overheated GPUs, and serves the HTTP API, dashboard and /metrics.

Options (each also settable in the config file and as GPUTEL_<KEY>; flags win):
  -c, --config FILE       configuration file (default /etc/gputel/collector.yaml)
      --database FILE     SQLite database
      --listen HOST:PORT  embedded broker's MQTT listener (default 127.0.0.1:1883)
      --broker URL        use an external broker (mqtt:// or mqtts://) instead
      --share-group NAME  MQTT 5 shared subscription group (external broker)
      --http HOST:PORT    HTTP API and dashboard (default 127.0.0.1:8080)
      --peers URL,...     other collectors to fan queries out to
      --retention RULES   e.g. 48h:raw,30d:1m,2y:1h
      --log-level LEVEL   fatal|error|warn|info|debug|trace|silent
  -h, --help              show this help
  -V, --version           print the version
`;

const OPTIONS = {
  config: { type: "string", short: "c" },
  database: { type: "string" },
  listen: { type: "string" },
  broker: { type: "string" },
  "share-group": { type: "string" },
  http: { type: "string" },
  peers: { type: "string" },
  retention: { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

type Values = OptionValues<typeof OPTIONS>;

function overridesFrom(values: Values): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  if (values.database !== undefined) overrides.database = values.database;
  if (values.listen !== undefined) overrides["broker.listen"] = values.listen;
  if (values.broker !== undefined) {
    overrides["broker.mode"] = "external";
    overrides["broker.url"] = values.broker;
  }
  if (values["share-group"] !== undefined) overrides["broker.share_group"] = values["share-group"];
  if (values.http !== undefined) overrides["http.listen"] = values.http;
  if (values.peers !== undefined) overrides["http.peers"] = values.peers.split(",").filter(Boolean);
  if (values.retention !== undefined) overrides.retention = values.retention.split(",").filter(Boolean);
  if (values["log-level"] !== undefined) overrides.log_level = values["log-level"];
  return overrides;
}

export async function run(args: string[]): Promise<number> {
  if (args[0] === "hash-password")
    return (await import("./broker/hash-password-command.js")).hashPasswordCommand(args.slice(1));
  if (args[0] === "approve-move")
    return (await import("./approve-move-cli.js")).approveMoveCommand(args.slice(1));
  const opened = await openProgramCli(args, {
    spec: collectorConfigSpec,
    usage: USAGE,
    options: OPTIONS,
    install: async () => (await import("./install-spec.js")).collectorInstall,
    overrides: overridesFrom,
    load: (file, overrides) => loadCollectorConfig({ file, overrides }),
  });
  if (typeof opened === "number") return opened;
  const { config } = opened;
  const logger = createLogger({}, { level: config.log_level });
  let running: Awaited<ReturnType<typeof startCollector>>;
  try {
    running = await startCollector(config, logger);
  } catch (error) {
    const code = (error as { code?: string }).code;
    logger.fatal({ err: errorMessage(error), code }, "Collector failed to start");
    return code === "GPUTEL_E_CONFIG" ? EX_CONFIG : 1;
  }
  logger.info(
    { version: VERSION, database: config.database, mqtt_port: running.mqttPort, http_port: running.httpPort },
    "Collector started",
  );
  await stopOnSignal(logger, () => running.stop());
  return 0;
}
