// What `gputel collector install` writes: flags → collector.yaml keys, the unit, credentials.
import type { InstallProgram } from "../shared/install/command.js";
import { collectorConfigSpec } from "./config.js";

export const collectorInstall: InstallProgram = {
  program: "collector",
  unit: "gputel-collector.service",
  siblingUnit: "gputel-agent.service",
  configFile: "/etc/gputel/collector.yaml",
  stateDirectory: "/var/lib/gputel-collector",
  config: collectorConfigSpec,
  flags: {
    "--broker-mode": "broker.mode",
    "--listen": "broker.listen",
    "--broker": "broker.url",
    "--username": "broker.username",
    "--users-file": "broker.users_file",
    "--share-group": "broker.share_group",
    "--ca-file": "broker.ca_file",
    "--cert-file": "broker.cert_file",
    "--key-file": "broker.key_file",
    "--http-listen": "http.listen",
    "--database": "database",
    "--log-level": "log_level",
  },
  mapFlags: {},
  secretFlags: { "--password-file": "mqtt_password", "--token-file": "api_token" },
};
