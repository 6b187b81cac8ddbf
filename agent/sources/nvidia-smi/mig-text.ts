// MIG layouts from nvidia-smi's text outputs. Pure, never throw.
//   `-L`:           GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-…)
//                     MIG 1g.10gb     Device  0: (UUID: MIG-…)
//   `mig -cgi`:     Successfully created GPU instance ID  9 on GPU  0 using profile MIG 1g.5gb (ID 19)
//   `mig -cci`:     Successfully created compute instance ID  0 on GPU  0 GPU instance ID  7 using profile MIG 1g.5gb (ID  0)
//   `-q`:           "MIG Device" blocks (index, GPU/compute instance ids, SMs, shared FB memory) and
//                   "Processes" (GPU/compute instance id, pid, type, name, used memory).
import type { XmlGpuHolders, XmlMigDevice, XmlProcess } from "./xml-holders.js";

export interface ListedMigDevice {
  /** "1g.10gb" */
  profile: string;
  deviceIndex: number;
  uuid: string;
  /** Only drivers that spell the UUID `MIG-GPU-<gpu uuid>/<gi>/<ci>` (R450–R465) give these here. */
  gpuInstanceId?: number;
  computeInstanceId?: number;
}

export interface ListedGpu {
  index: number;
  name: string;
  uuid: string;
  migDevices: ListedMigDevice[];
}

const GPU_LINE = /^GPU (\d+): (.*?) \(UUID: (GPU-[^)]+)\)\s*$/;
const MIG_LINE = /^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[^)]+)\)\s*$/;
const OLD_MIG_UUID = /^MIG-GPU-[0-9a-fA-F-]+\/(\d+)\/(\d+)$/;

export function parseListGpus(text: string): ListedGpu[] {
  const gpus: ListedGpu[] = [];
  for (const line of text.split("\n")) {
    const gpu = GPU_LINE.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2] ?? "", uuid: gpu[3] ?? "", migDevices: [] });
      continue;
    }
    const mig = MIG_LINE.exec(line);
    const parent = gpus[gpus.length - 1];
    if (!mig || !parent) continue;
    const device: ListedMigDevice = {
      profile: mig[1] ?? "",
      deviceIndex: Number(mig[2]),
      uuid: mig[3] ?? "",
    };
    const old = OLD_MIG_UUID.exec(device.uuid);
    if (old) {
      device.gpuInstanceId = Number(old[1]);
      device.computeInstanceId = Number(old[2]);
    }
    parent.migDevices.push(device);
  }
  return gpus;
}

export interface CreatedInstance {
  kind: "gpu-instance" | "compute-instance";
  gpuIndex: number;
  gpuInstanceId: number;
  /** Compute instances only. */
  computeInstanceId?: number;
  /** "1g.5gb" */
  profile: string;
  profileId: number;
}

const CREATED_GI =
  /Successfully created GPU instance ID\s+(\d+) on GPU\s+(\d+) using profile MIG (\S+) \(ID\s+(\d+)\)/;
const CREATED_CI =
  /Successfully created compute instance ID\s+(\d+) on GPU\s+(\d+) GPU instance ID\s+(\d+) using profile MIG (\S+) \(ID\s+(\d+)\)/;

/** The replies of `mig -cgi` / `mig -cci` (lines that are not replies are skipped). */
export function parseCreateReplies(text: string): CreatedInstance[] {
  const created: CreatedInstance[] = [];
  for (const line of text.split("\n")) {
    const ci = CREATED_CI.exec(line);
    if (ci) {
      created.push({
        kind: "compute-instance",
        computeInstanceId: Number(ci[1]),
        gpuIndex: Number(ci[2]),
        gpuInstanceId: Number(ci[3]),
        profile: ci[4] ?? "",
        profileId: Number(ci[5]),
      });
      continue;
    }
    const gi = CREATED_GI.exec(line);
    if (gi) {
      created.push({
        kind: "gpu-instance",
        gpuInstanceId: Number(gi[1]),
        gpuIndex: Number(gi[2]),
        profile: gi[3] ?? "",
        profileId: Number(gi[4]),
      });
    }
  }
  return created;
}

const KEY_VALUE = /^(\s*)([^:]+?)\s*:\s?(.*)$/;
const intOf = (value: string): number | undefined => {
  const m = /^(\d+)(?:\s*MiB)?$/.exec(value.trim());
  return m ? Number(m[1]) : undefined;
};

/** `-q` (text): the same per-GPU holders the XML gives, for hosts or captures without `-x`. */
export function parseQueryText(text: string): XmlGpuHolders[] {
  const gpus: XmlGpuHolders[] = [];
  let gpu: XmlGpuHolders | undefined;
  let section: "mig" | "mig-fb" | "processes" | undefined;
  let device: Partial<XmlMigDevice> | undefined;
  let process: Partial<XmlProcess> | undefined;
  const endDevice = () => {
    if (
      gpu &&
      device?.index !== undefined &&
      device.gpuInstanceId !== undefined &&
      device.computeInstanceId !== undefined
    )
      gpu.migDevices.push(device as XmlMigDevice);
    device = undefined;
  };
  const endProcess = () => {
    if (gpu && process?.pid !== undefined)
      gpu.processes.push({ type: "", name: "", ...process } as XmlProcess);
    process = undefined;
  };
  for (const line of text.split("\n")) {
    if (/^GPU [0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:/.test(line)) {
      endDevice();
      endProcess();
      gpu = { gpuUuid: "", processes: [], migDevices: [] };
      gpus.push(gpu);
      section = undefined;
      continue;
    }
    if (!gpu) continue;
    const trimmed = line.trim();
    const indent = line.length - line.trimStart().length;
    if (indent <= 4 && trimmed !== "") {
      endDevice();
      endProcess();
      section = trimmed === "MIG Device" ? "mig" : /^Processes\s*$/.test(trimmed) ? "processes" : undefined;
      if (section === "mig") device = {};
      const kv = KEY_VALUE.exec(line);
      if (kv?.[2] === "GPU UUID") gpu.gpuUuid = (kv[3] ?? "").trim();
      continue;
    }
    const kv = KEY_VALUE.exec(line);
    if (!kv) {
      if (section === "mig" || section === "mig-fb")
        section = /FB Memory Usage/.test(trimmed) ? "mig-fb" : "mig";
      continue;
    }
    const key = kv[2] ?? "";
    const value = (kv[3] ?? "").trim();
    if ((section === "mig" || section === "mig-fb") && device) {
      if (key === "Index") device.index = intOf(value);
      else if (key === "GPU Instance ID") device.gpuInstanceId = intOf(value);
      else if (key === "Compute Instance ID") device.computeInstanceId = intOf(value);
      else if (key === "Multiprocessor count") setNum(device, "smCount", value);
      else if (section === "mig-fb" && key === "Total") setNum(device, "memoryTotalMib", value);
      else if (section === "mig-fb" && key === "Used") setNum(device, "memoryUsedMib", value);
    } else if (section === "processes") {
      // Each process starts with its GPU instance id (or its pid on GPUs without MIG).
      if (key === "GPU instance ID" || (key === "Process ID" && process?.pid !== undefined)) endProcess();
      process ??= {};
      if (key === "GPU instance ID") setNum(process, "gpuInstanceId", value);
      else if (key === "Compute instance ID") setNum(process, "computeInstanceId", value);
      else if (key === "Process ID") process.pid = intOf(value);
      else if (key === "Type") process.type = value;
      else if (key === "Name") process.name = value;
      else if (key === "Used GPU Memory") setNum(process, "usedMemoryMib", value);
    }
  }
  endDevice();
  endProcess();
  return gpus;
}

function setNum<T extends object>(target: T, key: keyof T, value: string): void {
  const n = intOf(value);
  if (n !== undefined) (target as Record<keyof T, unknown>)[key] = n;
}
