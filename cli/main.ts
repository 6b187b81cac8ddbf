// `gputel <command>`: the one CLI. Each command's module is loaded only when used, so the
// fake nvidia-smi starts as fast as the real one and the agent never loads collector code.
import { VERSION } from "../shared/version.js";

type CommandModule = { run(args: string[]): Promise<number> };

interface Command {
  summary: string;
  load: () => Promise<CommandModule>;
  /** A service under systemd: its stdout is the journal, and a closed pipe must not end it. */
  daemon?: true;
}

/** The exit status of a process killed by SIGPIPE, as a shell reports it. */
const CLOSED_PIPE_STATUS = 141;

const COMMANDS: Record<string, Command> = {
  agent: {
    summary: "run the GPU agent (sample nvidia-smi, publish frames over MQTT)",
    load: () => import("../agent/cli.js"),
    daemon: true,
  },
  collector: {
    summary: "run the collector (broker, storage, flags, HTTP API, dashboard)",
    load: () => import("../collector/cli.js"),
    daemon: true,
  },
  query: { summary: "query a collector's HTTP API", load: () => import("./query/cli.js") },
  lease: {
    summary: "lease GPUs to tenants: add, end, list, show, delete, import (over the API)",
    load: () => import("./lease/cli.js"),
  },
  report: {
    summary: "lease reports: a tenant's monthly statement, usage and cost by tenant/lease/site/model/host",
    load: () => import("./report/cli.js"),
  },
  token: {
    summary: "API tokens with a role (admin, viewer, tenant:NAME), on the collector's host",
    load: () => import("./token/cli.js"),
  },
  export: {
    summary: "stream stored samples out (OpenMetrics, VictoriaMetrics JSON lines, CSV)",
    load: () => import("./export/cli.js"),
  },
  flag: {
    summary: "acknowledge a flag (flag ack ID --note TEXT)",
    load: () => import("./flag/cli.js"),
  },
  xid: {
    summary: "list the NVIDIA Xid events in kernel-log dumps (xid parse FILE...)",
    load: () => import("./xid/cli.js"),
  },
  "mock-smi": {
    summary: "a stand-in nvidia-smi driven by a scenario or a real capture",
    load: () => import("../mock-smi/cli.js"),
  },
  "mock-kmsg": {
    summary: "a stand-in kernel log (Xid lines) driven by a mock-smi scenario",
    load: () => import("../mock-smi/kmsg-cli.js"),
  },
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    "Usage: gputel <command> [options]",
    "",
    "GPU-fleet telemetry.",
    "",
    "Commands:",
    ...lines,
    "",
    "Options:",
    "  -h, --help     show this help (also: gputel <command> --help)",
    "  -V, --version  print the version",
    "",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    process.stdout.write(usage());
    return command === undefined ? 64 : 0;
  }
  if (command === "-V" || command === "--version") {
    process.stdout.write(`gputel ${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`gputel: unknown command '${command}' (GPUTEL_E_USAGE)\n\n${usage()}`);
    return 64;
  }
  if (!entry.daemon) endQuietlyOnClosedPipe();
  const module = await entry.load();
  return module.run(rest);
}

/**
 * `gputel xid parse … | head`, or an agent killing its fake nvidia-smi: the reader went away. A C
 * tool dies of SIGPIPE there; Node ignores the signal and throws EPIPE with a stack trace instead.
 */
function endQuietlyOnClosedPipe(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(CLOSED_PIPE_STATUS);
    throw error;
  });
}
