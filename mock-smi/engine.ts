// Runs one nvidia-smi command against a backend: faults, field checks, GPU selection, CSV
// and loops. I/O and time are injected, so tests drive it with a fake clock and an abort signal.
import type { Backend, GpuRow, Snapshot } from "./backend.js";
import { lostGpuLine, NO_DEVICES, shortBusId } from "./backend.js";
import { type Column, csvLine, formatTimestamp, headerLine } from "./csv-format.js";
import { INVALID_FIELD_EXIT, invalidFieldMessage } from "./field-catalogue.js";
import { runPmon } from "./pmon.js";
import { INVALID_COMBINATION, type SmiCommand } from "./smi-args.js";

export interface EngineIo {
  /** stdout: one call per loop iteration, so a reader sees whole samples. */
  write(text: string): void;
  /** stderr, for mock-smi's own hints (never part of the emulated output). */
  error(text: string): void;
  now(): number;
  /** Resolves after `ms`, or at once when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Aborting ends loops and hangs (the real process is simply killed instead). */
  signal: AbortSignal;
}

/** nvidia-smi's exit code when a GPU has fallen off the bus (`man nvidia-smi`, return code 15). */
export const GPU_LOST_EXIT = 15;

export async function execute(command: SmiCommand, backend: Backend, io: EngineIo): Promise<number> {
  if (backend.slowStartMs > 0) await io.sleep(backend.slowStartMs, io.signal);
  if (io.signal.aborted) return 0;
  if (backend.staticFault) {
    io.write(backend.staticFault.message);
    return backend.staticFault.exitCode;
  }
  const early = await checkHealth(backend, io);
  if (early !== undefined) return early;
  switch (command.kind) {
    case "text": {
      const text = backend.text(command.topic, io.now());
      if (text === undefined) return unsupported(command.topic === "help" ? ["-h"] : [command.topic], io);
      io.write(text);
      return 0;
    }
    case "xml":
      io.write(backend.xml(io.now()));
      return 0;
    case "query":
      return query(command, backend, io);
    case "pmon": {
      if (backend.pmon === undefined) return other(["pmon", ...pmonArgs(command)], backend, io);
      return runPmon(command, backend, io, (ids) => selectGpus(backend.snapshot(io.now()), ids));
    }
    case "other":
      return other(command.args, backend, io);
  }
}

function other(args: readonly string[], backend: Backend, io: EngineIo): number {
  const known = backend.verbatim(args, io.now());
  if (known === undefined) return unsupported(args, io);
  io.write(known.output);
  return known.exitCode;
}

/** The arguments of a parsed pmon command, for a replay's verbatim lookup. */
function pmonArgs(command: Extract<SmiCommand, { kind: "pmon" }>): string[] {
  const args: string[] = [];
  if (command.ids) args.push("-i", command.ids.join(","));
  if (command.select !== undefined) args.push("-s", command.select);
  if (command.count !== undefined) args.push("-c", String(command.count));
  if (command.delayS !== 1) args.push("-d", String(command.delayS));
  return args;
}

type QueryCommand = Extract<SmiCommand, { kind: "query" }>;

async function query(command: QueryCommand, backend: Backend, io: EngineIo): Promise<number> {
  const table = command.table === "gpu" ? backend.gpuTable : backend.appTable;
  const columns: Column[] = [];
  for (const field of command.fields) {
    const name = table.fields.resolve(field);
    if (name === undefined) {
      io.write(invalidFieldMessage(field));
      return INVALID_FIELD_EXIT;
    }
    columns.push({ name, unit: table.units.get(name) });
  }
  const first = backend.snapshot(io.now());
  const selected = selectGpus(first, command.ids);
  if (selected === undefined) {
    io.write(NO_DEVICES.message);
    return NO_DEVICES.exitCode;
  }
  const looping = command.loopMs !== undefined;
  const started = io.now();
  let header = command.format.header ? `${headerLine(columns, command.format)}\n` : "";
  for (let tick = 0; ; tick++) {
    const now = io.now();
    if (tick > 0) {
      const stop = await checkHealth(backend, io);
      if (stop !== undefined) return stop;
    }
    const snapshot = tick === 0 ? first : backend.snapshot(now);
    const gpus = snapshot.gpus.filter((g) => selected.has(g.index));
    const stamp = looping ? formatTimestamp(now) : undefined;
    const lines = gpus.filter((g) => g.lost).map((g) => `${lostGpuLine(g)}\n`);
    const rows = command.table === "gpu" ? gpuRows(gpus) : appRows(snapshot, gpus);
    for (const values of rows) {
      const cells = columns.map((c) =>
        c.name === "timestamp" && stamp ? stamp : (values.get(c.name) ?? "[N/A]"),
      );
      lines.push(`${csvLine(cells, columns, command.format)}\n`);
    }
    const text = header + lines.join("");
    header = "";
    if (text !== "") io.write(text);
    if (command.loopMs === undefined) return gpus.some((g) => g.lost) ? GPU_LOST_EXIT : 0;
    // Fixed cadence like the real tool's sampling loop, not "interval after the previous write".
    const next = started + (tick + 1) * command.loopMs;
    await io.sleep(Math.max(0, next - io.now()), io.signal);
    if (io.signal.aborted) return 0;
  }
}

function gpuRows(gpus: readonly GpuRow[]): ReadonlyMap<string, string>[] {
  return gpus.filter((g) => !g.lost).map((g) => g.values);
}

function appRows(snapshot: Snapshot, gpus: readonly GpuRow[]): ReadonlyMap<string, string>[] {
  const live = new Set(gpus.filter((g) => !g.lost).map((g) => g.index));
  return snapshot.processes.filter((p) => live.has(p.gpuIndex)).map((p) => p.values);
}

/** `-i 0,1`, `-i GPU-…`, `-i 00000000:01:00.0` or `-i 0000:01:00.0`; undefined when one matches nothing. */
export function selectGpus(snapshot: Snapshot, ids: readonly string[] | undefined): Set<number> | undefined {
  if (ids === undefined) return new Set(snapshot.gpus.map((g) => g.index));
  const chosen = new Set<number>();
  for (const id of ids) {
    const lower = id.toLowerCase();
    const gpu = snapshot.gpus.find(
      (g) =>
        String(g.index) === id ||
        g.uuid.toLowerCase() === lower ||
        g.busId.toLowerCase() === lower ||
        shortBusId(g.busId).toLowerCase() === lower,
    );
    if (gpu === undefined) return undefined;
    chosen.add(gpu.index);
  }
  return chosen;
}

async function checkHealth(backend: Backend, io: EngineIo): Promise<number | undefined> {
  const health = backend.health(io.now());
  if (health.kind === "ok") return undefined;
  if (health.kind === "crash") return health.exitCode;
  // A wedged driver: no output, no exit. Only the abort signal (tests) or a kill ends it.
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  return 0;
}

function unsupported(args: readonly string[], io: EngineIo): number {
  io.write(INVALID_COMBINATION);
  io.error(`gputel mock-smi: \`nvidia-smi ${args.join(" ")}\` is not emulated in this mode\n`);
  return 2;
}
