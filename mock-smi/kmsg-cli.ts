// `gputel mock-kmsg`: a stand-in for the kernel log, driven by the same scenario as mock-smi (its
// GPUs' `xid:` entries, same bus ids, UUIDs and time zero). Prints the driver's Xid lines as raw
// /dev/kmsg records or `journalctl -k` lines: those already due, then (--follow) each one when
// its time comes, until killed, as reading /dev/kmsg or `journalctl -k -f` does.
import { readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { loadScenarioHost } from "./scenario-backend.js";
import { formatLine, type KmsgFormat, xidMessages } from "./scenario-xid.js";

export const USAGE = `Usage: gputel mock-kmsg --scenario FILE [--host-index N] [--format kmsg|journal|json] [--follow]

A stand-in kernel log: the scenario's Xid events (a GPU's \`xid:\` list, see docs/mock-smi.md) in
the NVIDIA driver's format, for the GPUs \`gputel mock-smi\` plays from the same scenario.

Options:
  --scenario FILE   the scenario (YAML)
  --host-index N    which of the scenario's hosts to be (default 0)
  --format F        kmsg: raw /dev/kmsg records (prio,seq,usec,-;text), the default;
                    journal: \`journalctl -k\` lines (Mon DD HH:MM:SS host kernel: text)
                    json: \`journalctl -k -o json\` entries (this machine's boot id)
  --follow          keep running and print each event when its time comes (until killed)
  -h, --help        show this help
`;

export interface KmsgRunOptions {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

export async function run(args: string[], options: KmsgRunOptions = {}): Promise<number> {
  const stdout = options.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = options.stderr ?? ((text: string) => process.stderr.write(text));
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(args).values;
  } catch (error) {
    stderr(`gputel mock-kmsg: ${(error as Error).message} (GPUTEL_E_USAGE)\n\n${USAGE}`);
    return 64;
  }
  if (values.help) {
    stdout(USAGE);
    return 0;
  }
  const format = values.format ?? "kmsg";
  const hostIndex = values["host-index"] ?? "0";
  const problem =
    values.scenario === undefined
      ? "--scenario FILE is required"
      : format !== "kmsg" && format !== "journal" && format !== "json"
        ? `--format must be kmsg, journal or json, not '${format}'`
        : !/^\d+$/.test(hostIndex)
          ? `--host-index must be a non-negative integer, not '${hostIndex}'`
          : undefined;
  if (problem !== undefined || values.scenario === undefined) {
    stderr(`gputel mock-kmsg: ${problem} (GPUTEL_E_USAGE)\n\n${USAGE}`);
    return 64;
  }
  const now = options.now ?? Date.now;
  let loaded: Awaited<ReturnType<typeof loadScenarioHost>>;
  try {
    loaded = await loadScenarioHost(values.scenario, Number(hostIndex), now);
  } catch (error) {
    stderr(`gputel mock-kmsg: ${(error as Error).message} (GPUTEL_E_CONFIG)\n`);
    return 78;
  }
  const { host, epochMs } = loaded;
  const lines = xidMessages(host);
  const bootId = machineBootId();
  const signal = options.signal ?? new AbortController().signal;
  const sleep = options.sleep ?? abortableSleep;
  const print = (n: number) => {
    const line = lines[n];
    if (line) stdout(`${formatLine(format as KmsgFormat, line, n, host.name, epochMs, bootId)}\n`);
  };
  let next = 0;
  for (; next < lines.length && epochMs + (lines[next]?.atS ?? 0) * 1000 <= now(); next++) print(next);
  if (!values.follow) return 0;
  // Without an injected signal, stay alive until killed once every line is out (as `-f` does).
  const keepAlive = options.signal === undefined ? setInterval(() => {}, 1 << 30) : undefined;
  try {
    while (!signal.aborted) {
      const line = lines[next];
      if (line === undefined) {
        await sleep(1 << 30, signal);
        continue;
      }
      const wait = epochMs + line.atS * 1000 - now();
      if (wait > 0) await sleep(wait, signal);
      else print(next++);
    }
  } finally {
    if (keepAlive) clearInterval(keepAlive);
  }
  return 0;
}

/** This machine's boot id, as the journal would record it (a fixed one where /proc has none). */
function machineBootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "00000000-0000-0000-0000-000000000000";
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      scenario: { type: "string" },
      "host-index": { type: "string" },
      format: { type: "string" },
      follow: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // aborted: the loop checks the signal
  }
}
