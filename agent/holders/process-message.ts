// Holder records → the ProcessSet message (gputel/v1/<host>/processes), and when to send one: the
// set of process lives changed, or the refresh period passed. Pure. Only identities decide
// "changed" (GPU, MIG device, pid, start): memory and SM move every poll and go out with the next
// change or refresh, with the peak memory the agent saw since the process appeared.
import { MAX_ABSENCE_WHY_LENGTH } from "../../shared/process-absence.js";
import type { IProcessRecord, IProcessSet } from "../../shared/proto.js";
import { SCHEMA_VERSION } from "../../shared/proto.js";
import type { Workload } from "./cgroup.js";
import type { HolderRecord } from "./records.js";

/** (GPU, MIG device, pid, start): one process life on one device. */
export function holderKey(r: Pick<HolderRecord, "gpuUuid" | "migUuid" | "pid" | "startMs">): string {
  return `${r.gpuUuid}/${r.migUuid ?? ""}/${r.pid}/${r.startMs ?? ""}`;
}

export function toProcessRecord(r: HolderRecord, peakMemoryMib: number | undefined): IProcessRecord {
  const out: IProcessRecord = {
    gpu_uuid: r.gpuUuid,
    mig_uuid: r.migUuid ?? "",
    pid: r.pid,
    name: r.name ?? "",
    user: r.user.name ?? "",
    user_token: r.user.token ?? "",
    absent: r.absent.map((a) => ({
      field: a.field,
      reason: a.reason,
      why: a.why.slice(0, MAX_ABSENCE_WHY_LENGTH),
    })),
    ...workloadFields(r.workload),
  };
  if (r.startMs !== undefined) out.start_ms = r.startMs;
  if (r.usedMemoryMib !== undefined) out.used_memory_mib = r.usedMemoryMib;
  if (peakMemoryMib !== undefined) out.peak_memory_mib = peakMemoryMib;
  if (r.smPct !== undefined) out.sm_pct = r.smPct;
  if (r.memPct !== undefined) out.mem_pct = r.memPct;
  if (r.user.uid !== undefined) out.uid = r.user.uid;
  return out;
}

function workloadFields(w: Workload | undefined): Partial<IProcessRecord> {
  if (w === undefined) return { workload_kind: "" };
  switch (w.kind) {
    case "kubernetes":
      return { workload_kind: w.kind, pod_uid: w.podUid, container_id: w.containerId ?? "" };
    case "docker":
      return { workload_kind: w.kind, container_id: w.containerId };
    case "slurm":
      return { workload_kind: w.kind, slurm_job_id: w.jobId };
    case "systemd-unit":
      return { workload_kind: w.kind, systemd_unit: w.unit };
    default:
      return { workload_kind: w.kind };
  }
}

export interface SetPlanOptions {
  refreshMs: number;
  maxProcesses: number;
}

/**
 * Remembers what was last sent and each process life's peak memory; `next` answers the message
 * to send now, or undefined when neither the set changed nor the refresh period passed.
 */
export class ProcessSetPlan {
  private lastKeys: string | undefined;
  private lastSentMs = Number.NEGATIVE_INFINITY;
  private seq = 0;
  private readonly peaks = new Map<string, number>();

  constructor(
    private readonly options: SetPlanOptions,
    private readonly identity: { host: string; bootId: string },
  ) {}

  next(records: readonly HolderRecord[], atMs: number): IProcessSet | undefined {
    const keys = records.map(holderKey);
    const live = new Set(keys);
    for (const key of this.peaks.keys()) if (!live.has(key)) this.peaks.delete(key);
    records.forEach((r, i) => {
      const key = keys[i] ?? "";
      if (r.usedMemoryMib !== undefined)
        this.peaks.set(key, Math.max(this.peaks.get(key) ?? 0, r.usedMemoryMib));
    });
    const fingerprint = [...keys].sort().join("\n");
    const changed = fingerprint !== this.lastKeys;
    if (!changed && atMs - this.lastSentMs < this.options.refreshMs) return undefined;
    this.lastKeys = fingerprint;
    this.lastSentMs = atMs;
    this.seq += 1;
    const kept = records.slice(0, this.options.maxProcesses);
    return {
      schema_version: SCHEMA_VERSION,
      host: this.identity.host,
      boot_id: this.identity.bootId,
      seq: this.seq,
      timestamp_ms: atMs,
      processes: kept.map((r) => toProcessRecord(r, this.peaks.get(holderKey(r)))),
      truncated: records.length > kept.length,
    };
  }
}
