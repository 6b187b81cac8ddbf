// Compute processes from a one-shot `--query-compute-apps=… --format=csv,noheader,nounits`:
// one row per process (kept for the holders), and the count per GPU derived from them. Pure.
// Counts and memory land in `compute_processes` / `compute_memory_mib` of the following samples
// while the poll is fresh; a failed or stale poll leaves them absent, never 0.
import { METRIC_BY_KEY } from "../../../shared/metrics.js";
import { AbsentReason, type AbsentReasonValue, GpuState, type IGpuSample } from "../../../shared/proto.js";
import { headerName, splitCsvLine } from "./csv-row.js";
import { classifyLine } from "./error-lines.js";
import { parseValue } from "./values.js";

export const COMPUTE_APPS_FIELDS = ["gpu_uuid", "pid", "used_gpu_memory"] as const;
export const COMPUTE_APPS_QUERY = `--query-compute-apps=${COMPUTE_APPS_FIELDS.join(",")}`;
/** The same query keeping each process's name (what nvidia-smi reports, never the command line). */
export const PROCESS_APPS_FIELDS = ["gpu_uuid", "pid", "process_name", "used_gpu_memory"] as const;

export interface GpuProcesses {
  processes: number;
  /** Sum over processes; undefined when any process's memory could not be read. */
  memoryMib: number | undefined;
  memoryReason?: AbsentReasonValue;
}

/** One process on one GPU (a MIG device's processes carry their parent GPU's UUID). */
export interface ComputeAppRow {
  gpuUuid: string;
  pid: number;
  /** Absent when the query did not ask for it. */
  name?: string;
  usedMemoryMib?: number;
  /** Why usedMemoryMib is absent (`[N/A]` → UNSUPPORTED, …). */
  memoryReason?: AbsentReasonValue;
}

export type ComputeAppRows = { ok: true; rows: ComputeAppRow[] } | { ok: false; error: string };
export type ComputeApps = { ok: true; byUuid: Map<string, GpuProcesses> } | { ok: false; error: string };

/**
 * Rows of `--query-compute-apps` output, columns in the order of `fields` (noheader), or as a
 * header line names them (`--format=csv`, as in the fixture captures; units in brackets allowed).
 * nvidia-smi never quotes: a process name holding ", " splits into extra cells, which are joined
 * back into the name.
 */
export function parseComputeAppRows(
  text: string,
  fields: readonly string[] = COMPUTE_APPS_FIELDS,
): ComputeAppRows {
  const rows: ComputeAppRow[] = [];
  let names = [...fields];
  let first = true;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || /^No running (compute )?processes found/i.test(line)) continue;
    const cells = splitCsvLine(line).map((c) => c.trim());
    if (first && cells.map(headerName).includes("pid") && !/^\d+$/.test(cells[1] ?? "")) {
      names = cells.map(headerName).map((n) => (n === "name" ? "process_name" : n));
      first = false;
      continue;
    }
    first = false;
    const row = parseRow(cells, names);
    if (row === undefined) return { ok: false, error: errorOf(line) };
    rows.push(row);
  }
  return { ok: true, rows };
}

function parseRow(cells: string[], names: readonly string[]): ComputeAppRow | undefined {
  const nameCol = names.indexOf("process_name");
  let cols = cells;
  if (cells.length > names.length && nameCol >= 0) {
    const extra = cells.length - names.length;
    const joined = cells.slice(nameCol, nameCol + extra + 1).join(", ");
    cols = [...cells.slice(0, nameCol), joined, ...cells.slice(nameCol + extra + 1)];
  }
  if (cols.length !== names.length) return undefined;
  const get = (name: string) => cols[names.indexOf(name)];
  const uuid = get("gpu_uuid") ?? "";
  const pid = get("pid") ?? "";
  if (!/^(GPU|MIG)-/.test(uuid) || !/^\d{1,10}$/.test(pid)) return undefined;
  const row: ComputeAppRow = { gpuUuid: uuid, pid: Number(pid) };
  const name = get("process_name");
  if (name !== undefined) row.name = name;
  const memText = get("used_gpu_memory") ?? get("used_memory");
  if (memText !== undefined) {
    const mem = parseValue(memText, "int", 0, 4 * 1024 * 1024);
    if (mem.ok) row.usedMemoryMib = mem.value;
    else row.memoryReason = mem.reason;
  }
  return row;
}

function errorOf(line: string): string {
  const cls = classifyLine(line);
  return cls.kind === "source-error" || cls.kind === "gpu-lost"
    ? cls.line
    : `unexpected line: ${line.slice(0, 200)}`;
}

/** Processes and memory per GPU, counted from the rows (one parser for both). */
export function parseComputeApps(text: string, fields: readonly string[] = COMPUTE_APPS_FIELDS): ComputeApps {
  const parsed = parseComputeAppRows(text, fields);
  if (!parsed.ok) return parsed;
  return countComputeApps(parsed.rows);
}

/** Processes and memory per GPU from parsed rows. */
export function countComputeApps(rows: readonly ComputeAppRow[]): ComputeApps {
  const byUuid = new Map<string, GpuProcesses>();
  for (const row of rows) {
    const entry = byUuid.get(row.gpuUuid) ?? { processes: 0, memoryMib: 0 };
    entry.processes += 1;
    if (row.usedMemoryMib !== undefined && entry.memoryMib !== undefined)
      entry.memoryMib += row.usedMemoryMib;
    else if (row.usedMemoryMib === undefined) {
      entry.memoryMib = undefined;
      entry.memoryReason = row.memoryReason ?? AbsentReason.ABSENT_REASON_UNSUPPORTED;
    }
    byUuid.set(row.gpuUuid, entry);
  }
  return { ok: true, byUuid };
}

const PROCESSES = METRIC_BY_KEY.get("compute_processes")!;
const MEMORY = METRIC_BY_KEY.get("compute_memory_mib")!;

/**
 * Fills the compute fields of OK GPUs. `apps` undefined: no usable poll (failed, stale, or none
 * yet), with `reason` saying which.
 */
export function applyComputeApps(
  gpus: IGpuSample[],
  apps: ComputeApps | undefined,
  reason: AbsentReasonValue,
): void {
  for (const gpu of gpus) {
    if (gpu.state !== GpuState.GPU_STATE_OK) continue;
    const absent = gpu.absent ?? [];
    gpu.absent = absent;
    if (!apps?.ok) {
      absent.push({ metric: PROCESSES.id, reason }, { metric: MEMORY.id, reason });
      continue;
    }
    // A GPU without an entry runs no compute process: a true zero, not an absence.
    const entry = apps.byUuid.get(gpu.uuid ?? "") ?? { processes: 0, memoryMib: 0 };
    gpu.compute_processes = entry.processes;
    if (entry.memoryMib !== undefined) gpu.compute_memory_mib = entry.memoryMib;
    else
      absent.push({
        metric: MEMORY.id,
        reason: entry.memoryReason ?? AbsentReason.ABSENT_REASON_UNSUPPORTED,
      });
  }
}
