// `gputel mock-smi`: a stand-in nvidia-smi. A thin shell: options → backend → engine. Loads only
// what the chosen mode needs (the yaml parser only for scenarios), so it starts about as fast as
// the real tool.
import { readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import type { Backend } from "./backend.js";
import type { Phase } from "./capture.js";
import { type EngineIo, execute } from "./engine.js";
import { parseSmiArgs } from "./smi-args.js";

export const USAGE = `Usage: gputel mock-smi (--scenario FILE [--host-index N] | --replay CAPTURE [--phase idle|load]) -- <nvidia-smi arguments>

A stand-in nvidia-smi. After \`--\` come the arguments the real tool would get:
  --version, -h, -L, --help-query-gpu, --help-query-compute-apps, -q -x,
  --query-gpu=<fields> --format=csv[,noheader][,nounits] [-l N | -lms N] [-i ID[,ID]],
  --query-compute-apps=<fields> --format=csv[,noheader][,nounits],
  pmon [-i ID] [-s u|m|um] [-c N] [-d SECONDS]
  (replay also answers any command its capture holds verbatim, e.g. -q or topo -m).

Options:
  --scenario FILE   play a scenario (YAML, see docs/mock-smi.md)
  --host-index N    which of the scenario's hosts to be (default 0)
  --replay CAPTURE  answer from a real capture (test/fixtures/nvidia-smi/captures/*.txt)
  --phase P         the capture's idle or load section (default idle)
  -h, --help        show this help
`;

export interface RunOptions {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Wall clock in ms (tests inject one). */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Ends loops and hangs; without it they run until the process is killed. */
  signal?: AbortSignal;
}

interface MockOptions {
  scenario?: string;
  replay?: string;
  phase: Phase;
  hostIndex: number;
  smiArgs: string[];
}

export async function run(args: string[], options: RunOptions = {}): Promise<number> {
  const stderr = options.stderr ?? ((text: string) => process.stderr.write(text));
  const parsed = parseMockArgs(args);
  if (parsed === "help") {
    (options.stdout ?? ((text: string) => process.stdout.write(text)))(USAGE);
    return 0;
  }
  if (typeof parsed === "string") {
    stderr(`gputel mock-smi: ${parsed} (GPUTEL_E_USAGE)\n\n${USAGE}`);
    return 64;
  }
  const now = options.now ?? Date.now;
  let backend: Backend;
  try {
    backend = await loadBackend(parsed, now);
  } catch (error) {
    stderr(`gputel mock-smi: ${error instanceof Error ? error.message : String(error)} (GPUTEL_E_CONFIG)\n`);
    return 78;
  }
  // A hung mock (wedged driver) has no timer of its own: keep the process alive until killed.
  const keepAlive = options.signal === undefined ? setInterval(() => {}, 1 << 30) : undefined;
  const io: EngineIo = {
    // A reader that went away (the agent killed its end) ends the process quietly, as SIGPIPE ends
    // the real tool: cli/main.ts watches stdout for every command but the daemons.
    write: options.stdout ?? ((text) => process.stdout.write(text)),
    error: stderr,
    now,
    sleep: options.sleep ?? sleep,
    signal: options.signal ?? new AbortController().signal,
  };
  try {
    return await execute(parseSmiArgs(parsed.smiArgs), backend, io);
  } finally {
    if (keepAlive) clearInterval(keepAlive);
  }
}

async function loadBackend(options: MockOptions, now: () => number): Promise<Backend> {
  if (options.replay !== undefined) {
    const { replayBackend } = await import("./replay.js");
    return replayBackend(await readFile(options.replay, "utf8"), options.phase);
  }
  const { loadScenarioBackend } = await import("./scenario-backend.js");
  return loadScenarioBackend(options.scenario ?? "", options.hostIndex, now);
}

export function parseMockArgs(args: readonly string[]): MockOptions | "help" | string {
  const options: MockOptions = { phase: "idle", hostIndex: 0, smiArgs: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") {
      options.smiArgs = args.slice(i + 1);
      break;
    }
    if (arg === "-h" || arg === "--help") return "help";
    const value = args[i + 1];
    if (!["--scenario", "--replay", "--phase", "--host-index"].includes(arg)) {
      return `unknown option '${arg}' (nvidia-smi arguments go after \`--\`)`;
    }
    if (value === undefined || value === "--") return `${arg} needs a value`;
    i++;
    if (arg === "--scenario") options.scenario = value;
    else if (arg === "--replay") options.replay = value;
    else if (arg === "--phase") {
      if (value !== "idle" && value !== "load") return `--phase must be idle or load, not '${value}'`;
      options.phase = value;
    } else {
      if (!/^\d+$/.test(value)) return `--host-index must be a non-negative integer, not '${value}'`;
      options.hostIndex = Number(value);
    }
  }
  if ((options.scenario === undefined) === (options.replay === undefined)) {
    return "give exactly one of --scenario FILE or --replay CAPTURE";
  }
  if (options.scenario !== undefined && args.includes("--phase")) return "--phase belongs to --replay";
  return options;
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks the signal
  }
}
