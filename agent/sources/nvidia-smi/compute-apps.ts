// Compute processes per GPU, from a one-shot
// `--query-compute-apps=gpu_uuid,pid,used_gpu_memory --format=csv,noheader,nounits`. Pure.
// Counts and memory land in `compute_processes` / `compute_memory_mib` of the following samples
// while the poll is fresh; a failed or stale poll leaves them absent, never 0.
import { METRIC_BY_KEY } from "../../../shared/metrics.js";
import { AbsentReason, type AbsentReasonValue, GpuState, type IGpuSample } from "../../../shared/proto.js";
import { splitCsvLine } from "./csv-row.js";
import { classifyLine } from "./error-lines.js";
import { parseValue } from "./values.js";

export const COMPUTE_APPS_QUERY = "--query-compute-apps=gpu_uuid,pid,used_gpu_memory";

export interface GpuProcesses {
  processes: number;
  /** Sum over processes; undefined when any process's memory could not be read. */
  memoryMib: number | undefined;
  memoryReason?: AbsentReasonValue;
}

export type ComputeApps = { ok: true; byUuid: Map<string, GpuProcesses> } | { ok: false; error: string };

export function parseComputeApps(text: string): ComputeApps {
  const byUuid = new Map<string, GpuProcesses>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || /^No running (compute )?processes found/i.test(line)) continue;
    const cols = splitCsvLine(line);
    const uuid = cols[0]?.trim() ?? "";
    if (cols.length !== 3 || !/^(GPU|MIG)-/.test(uuid)) {
      const cls = classifyLine(line);
      return {
        ok: false,
        error:
          cls.kind === "source-error" || cls.kind === "gpu-lost"
            ? cls.line
            : `unexpected line: ${line.slice(0, 200)}`,
      };
    }
    const entry = byUuid.get(uuid) ?? { processes: 0, memoryMib: 0 };
    entry.processes += 1;
    const mem = parseValue(cols[2] ?? "", "int", 0, 4 * 1024 * 1024);
    if (mem.ok && entry.memoryMib !== undefined) entry.memoryMib += mem.value;
    else if (!mem.ok) {
      entry.memoryMib = undefined;
      entry.memoryReason = mem.reason;
    }
    byUuid.set(uuid, entry);
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
