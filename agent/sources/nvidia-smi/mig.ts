// The MIG inventory of a host: per GPU, its GPU instances / compute instances as MIG devices,
// joined from what each nvidia-smi output gives (`-L`: profile and MIG UUID by device index;
// `-q`/`-q -x`: GPU and compute instance ids, SMs and memory by device index; `mig -cgi/-cci`
// replies: profile ids), with every process attached to the instance it runs on by its
// (GPU instance id, compute instance id). Pure.
//
// Utilization per instance is not something nvidia-smi reports (`utilization.gpu` is `[N/A]` on a
// MIG-enabled GPU, and pmon samples nothing per process there: see the MIG capture): it is
// modelled as absent with that reason, and never estimated from memory or the parent GPU.
import { MIG_NO_UTILIZATION } from "../../../shared/gpu-id.js";
import { AbsentReason } from "../../../shared/proto.js";
import type { CreatedInstance, ListedGpu } from "./mig-text.js";
import type { XmlGpuHolders, XmlProcess } from "./xml-holders.js";

export const MIG_UTILIZATION_ABSENT = {
  reason: AbsentReason.ABSENT_REASON_UNSUPPORTED,
  why: MIG_NO_UTILIZATION,
} as const;

export interface MigInstance {
  /** "" when only `mig -cgi/-cci` replies (which name the GPU by index) describe it. */
  gpuUuid: string;
  gpuIndex?: number;
  /** Absent for an instance known only from creation replies. */
  deviceIndex?: number;
  /** MIG-… (from `-L`); the id a lease or CUDA_VISIBLE_DEVICES names. */
  uuid?: string;
  profile?: string;
  /** GPU instance profile id (`-cgi` reply "(ID 19)"). */
  profileId?: number;
  /** Compute instance profile id (`-cci` reply). */
  computeProfileId?: number;
  gpuInstanceId?: number;
  computeInstanceId?: number;
  smCount?: number;
  memoryTotalMib?: number;
  memoryUsedMib?: number;
  utilization: typeof MIG_UTILIZATION_ABSENT;
  processes: XmlProcess[];
}

export interface MigInventory {
  instances: MigInstance[];
  /** Processes on a MIG GPU whose (GPU, compute instance) matches no known instance. */
  unattributed: { gpuUuid: string; process: XmlProcess }[];
}

export interface MigSources {
  listed?: readonly ListedGpu[];
  detail?: readonly XmlGpuHolders[];
  created?: readonly CreatedInstance[];
}

export function buildMigInventory(sources: MigSources): MigInventory {
  const byKey = new Map<string, MigInstance>();
  const instance = (gpuUuid: string, deviceIndex: number): MigInstance => {
    const key = `${gpuUuid}#${deviceIndex}`;
    let found = byKey.get(key);
    if (!found) {
      found = { gpuUuid, deviceIndex, utilization: MIG_UTILIZATION_ABSENT, processes: [] };
      byKey.set(key, found);
    }
    return found;
  };
  const indexOf = new Map<string, number>();
  for (const gpu of sources.listed ?? []) {
    indexOf.set(gpu.uuid, gpu.index);
    for (const d of gpu.migDevices) {
      const i = instance(gpu.uuid, d.deviceIndex);
      i.uuid = d.uuid;
      i.profile = d.profile;
      if (d.gpuInstanceId !== undefined) i.gpuInstanceId = d.gpuInstanceId;
      if (d.computeInstanceId !== undefined) i.computeInstanceId = d.computeInstanceId;
    }
  }
  for (const gpu of sources.detail ?? []) {
    for (const d of gpu.migDevices) {
      const { index, ...rest } = d;
      Object.assign(instance(gpu.gpuUuid, index), rest);
    }
  }
  const instances = [...byKey.values()];
  for (const i of instances) {
    const gpuIndex = indexOf.get(i.gpuUuid);
    if (gpuIndex !== undefined) i.gpuIndex = gpuIndex;
  }
  addCreated(instances, sources.created ?? []);
  instances.sort(
    (a, b) =>
      a.gpuUuid.localeCompare(b.gpuUuid) ||
      (a.gpuIndex ?? 0) - (b.gpuIndex ?? 0) ||
      (a.deviceIndex ?? a.gpuInstanceId ?? 0) - (b.deviceIndex ?? b.gpuInstanceId ?? 0),
  );
  const unattributed: MigInventory["unattributed"] = [];
  for (const gpu of sources.detail ?? []) {
    for (const p of gpu.processes) {
      if (p.gpuInstanceId === undefined) continue; // not a MIG process
      const owner = instances.find(
        (i) =>
          i.gpuUuid === gpu.gpuUuid &&
          i.gpuInstanceId === p.gpuInstanceId &&
          i.computeInstanceId === p.computeInstanceId,
      );
      if (owner) owner.processes.push(p);
      else unattributed.push({ gpuUuid: gpu.gpuUuid, process: p });
    }
  }
  return { instances, unattributed };
}

/**
 * Profile ids from `mig -cgi/-cci` replies onto the instances they created; an instance known
 * only from the replies is added (GPU by index, no UUID yet). A GPU instance without a compute
 * instance is listed too: it holds memory but cannot run a process.
 */
function addCreated(instances: MigInstance[], created: readonly CreatedInstance[]): void {
  const same = (i: MigInstance, c: CreatedInstance) =>
    i.gpuIndex === c.gpuIndex && i.gpuInstanceId === c.gpuInstanceId;
  for (const c of created.filter((x) => x.kind === "gpu-instance")) {
    const matches = instances.filter((i) => same(i, c));
    if (matches.length === 0) {
      instances.push({
        gpuUuid: "",
        gpuIndex: c.gpuIndex,
        gpuInstanceId: c.gpuInstanceId,
        profile: c.profile,
        utilization: MIG_UTILIZATION_ABSENT,
        processes: [],
      });
    }
    for (const i of instances.filter((x) => same(x, c))) {
      i.profileId = c.profileId;
      i.profile ??= c.profile;
    }
  }
  for (const c of created.filter((x) => x.kind === "compute-instance")) {
    const open = instances.find((i) => same(i, c) && i.computeInstanceId === undefined);
    const target =
      instances.find((i) => same(i, c) && i.computeInstanceId === c.computeInstanceId) ??
      (open ? Object.assign(open, { computeInstanceId: c.computeInstanceId }) : undefined);
    if (target) target.computeProfileId = c.profileId;
    else
      instances.push({
        gpuUuid: "",
        gpuIndex: c.gpuIndex,
        gpuInstanceId: c.gpuInstanceId,
        computeInstanceId: c.computeInstanceId,
        computeProfileId: c.profileId,
        profile: c.profile,
        utilization: MIG_UTILIZATION_ABSENT,
        processes: [],
      });
  }
}
