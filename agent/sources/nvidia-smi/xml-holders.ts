// `-q -x` → per GPU: its processes (`<processes>`, with the MIG GPU/compute instance each runs
// on) and its MIG devices (`<mig_devices>`). Pure; reuses the inventory's XML readers, so the
// document is the one node-nvidia-smi's conversion gives (explicitArray false, trim true).
import { at, isNode, num, text } from "./xml-gpu-facts.js";

export interface XmlProcess {
  pid: number;
  /** C, G, C+G … as printed. */
  type: string;
  name: string;
  usedMemoryMib?: number;
  /** Absent (`N/A`) on GPUs without MIG. */
  gpuInstanceId?: number;
  computeInstanceId?: number;
}

export interface XmlMigDevice {
  /** The MIG device index (`-L` prints it as "Device N"). */
  index: number;
  gpuInstanceId: number;
  computeInstanceId: number;
  smCount?: number;
  memoryTotalMib?: number;
  memoryUsedMib?: number;
}

export interface XmlGpuHolders {
  gpuUuid: string;
  processes: XmlProcess[];
  migDevices: XmlMigDevice[];
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : isNode(value) ? [value] : []);
const int = (node: unknown, ...path: string[]) => {
  const value = num(node, path, 0, 2 ** 31);
  return value === undefined ? undefined : Math.round(value);
};

function setIf<T, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

export function readXmlHolders(doc: unknown): XmlGpuHolders[] {
  const root = at(doc, "nvidia_smi_log");
  if (!isNode(root)) return [];
  return list(root.gpu).map((gpu) => ({
    gpuUuid: text(gpu, "uuid"),
    processes: list(at(gpu, "processes", "process_info")).flatMap(readProcess),
    migDevices: list(at(gpu, "mig_devices", "mig_device")).flatMap(readMigDevice),
  }));
}

function readProcess(node: unknown): XmlProcess[] {
  const pid = int(node, "pid");
  if (pid === undefined) return [];
  const process: XmlProcess = { pid, type: text(node, "type"), name: text(node, "process_name") };
  setIf(process, "usedMemoryMib", int(node, "used_memory"));
  setIf(process, "gpuInstanceId", int(node, "gpu_instance_id"));
  setIf(process, "computeInstanceId", int(node, "compute_instance_id"));
  return [process];
}

function readMigDevice(node: unknown): XmlMigDevice[] {
  const index = int(node, "index");
  const gi = int(node, "gpu_instance_id");
  const ci = int(node, "compute_instance_id");
  if (index === undefined || gi === undefined || ci === undefined) return [];
  const device: XmlMigDevice = { index, gpuInstanceId: gi, computeInstanceId: ci };
  setIf(device, "smCount", int(node, "device_attributes", "shared", "multiprocessor_count"));
  setIf(device, "memoryTotalMib", int(node, "fb_memory_usage", "total"));
  setIf(device, "memoryUsedMib", int(node, "fb_memory_usage", "used"));
  return [device];
}
