// What `gputel agent install` writes: flags → agent.yaml keys, the unit, the MQTT credential.
import type { InstallProgram } from "../shared/install/command.js";
import { agentConfigSpec } from "./config.js";

export const agentInstall: InstallProgram = {
  program: "agent",
  unit: "gputel-agent.service",
  siblingUnit: "gputel-collector.service",
  configFile: "/etc/gputel/agent.yaml",
  stateDirectory: "/var/lib/gputel-agent",
  config: agentConfigSpec,
  flags: {
    "--broker": "broker.url",
    "--host": "host",
    "--site": "site",
    "--interval": "interval",
    "--username": "broker.username",
    "--protocol": "broker.protocol",
    "--ca-file": "broker.ca_file",
    "--cert-file": "broker.cert_file",
    "--key-file": "broker.key_file",
    "--nvidia-smi": "nvidia_smi",
    "--log-level": "log_level",
  },
  mapFlags: { "--label": "labels" },
  secretFlags: { "--password-file": "mqtt_password" },
};
