// Builds the `-q -x` document of a replayed capture. Captures hold no XML, so the values come
// from the capture's own CSV row and its human-readable `-q` section (thresholds, architecture,
// CUDA version), spelled as the real XML spells them. Pure.
import type { GpuRow, ProcessRow } from "./backend.js";
import { qTopValue, qValue } from "./capture.js";
import { dtdForDriver, renderXml, type XmlGpu, xmlValue } from "./xml.js";

/** `-q` temperature labels → XML elements, in document order (absolute or T.Limit spellings). */
const TEMPERATURE_KEYS: readonly (readonly [string, string])[] = [
  ["GPU Current Temp", "gpu_temp"],
  ["GPU T.Limit Temp", "gpu_temp_tlimit"],
  ["GPU Shutdown Temp", "gpu_temp_max_threshold"],
  ["GPU Shutdown T.Limit Temp", "gpu_temp_max_tlimit_threshold"],
  ["GPU Slowdown Temp", "gpu_temp_slow_threshold"],
  ["GPU Slowdown T.Limit Temp", "gpu_temp_slow_tlimit_threshold"],
  ["GPU Max Operating Temp", "gpu_temp_max_gpu_threshold"],
  ["GPU Max Operating T.Limit Temp", "gpu_temp_max_gpu_tlimit_threshold"],
  ["GPU Target Temperature", "gpu_target_temperature"],
  ["Memory Current Temp", "memory_temp"],
  ["Memory Max Operating Temp", "gpu_temp_max_mem_threshold"],
  ["Memory Max Operating T.Limit Temp", "gpu_temp_max_mem_tlimit_threshold"],
];

/** Splits `-q` output into per-GPU blocks keyed by upper-case bus id (`GPU 00000000:00:09.0`). */
export function qBlocks(qOutput: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const parts = qOutput.split(/^GPU (?=[0-9A-Fa-f]{8}:)/m);
  for (const part of parts.slice(1)) {
    const newline = part.indexOf("\n");
    blocks.set(part.slice(0, newline).trim().toUpperCase(), part.slice(newline + 1));
  }
  return blocks;
}

export function qTemperatures(block: string): [string, string][] {
  const found: [string, string][] = [];
  for (const [label, element] of TEMPERATURE_KEYS) {
    const value = qValue(block, label, 8);
    if (value !== undefined) found.push([element, value]);
  }
  return found;
}

export function replayXml(
  qOutput: string,
  gpus: readonly GpuRow[],
  processes: readonly ProcessRow[],
): string {
  const blocks = qBlocks(qOutput);
  const first = gpus[0]?.values;
  const driverVersion = first?.get("driver_version") ?? qTopValue(qOutput, "Driver Version") ?? "N/A";
  return renderXml({
    dtd: dtdForDriver(driverVersion),
    timestamp: qTopValue(qOutput, "Timestamp") ?? "N/A",
    driverVersion,
    cudaVersion: qTopValue(qOutput, "CUDA Version") ?? "N/A",
    attachedGpus: Number(qTopValue(qOutput, "Attached GPUs") ?? gpus.length),
    gpus: gpus
      .filter((g) => !g.lost)
      .map((g) =>
        gpuXml(
          g,
          blocks.get(g.busId.toUpperCase()) ?? "",
          processes.filter((p) => p.gpuIndex === g.index),
        ),
      ),
  });
}

function gpuXml(gpu: GpuRow, block: string, processes: readonly ProcessRow[]): XmlGpu {
  const v = (field: string): string => xmlValue(gpu.values.get(field));
  const hex = (field: string): string => v(field).replace(/^0x/i, "");
  const width = (field: string): string => (/^\d+$/.test(v(field)) ? `${v(field)}x` : v(field));
  return {
    busId: gpu.busId,
    productName: v("name"),
    productBrand: qValue(block, "Product Brand", 4) ?? "N/A",
    architecture: qValue(block, "Product Architecture", 4) ?? "N/A",
    migCurrent: v("mig.mode.current"),
    migPending: v("mig.mode.pending"),
    serial: v("serial"),
    uuid: v("uuid"),
    vbios: v("vbios_version"),
    pciDeviceId: hex("pci.device_id"),
    pciSubSystemId: hex("pci.sub_device_id"),
    linkGen: { max: v("pcie.link.gen.max"), current: v("pcie.link.gen.current") },
    linkWidth: { max: width("pcie.link.width.max"), current: width("pcie.link.width.current") },
    fanSpeed: v("fan.speed"),
    performanceState: v("pstate"),
    fb: {
      total: v("memory.total"),
      reserved: v("memory.reserved"),
      used: v("memory.used"),
      free: v("memory.free"),
    },
    computeMode: v("compute_mode"),
    utilization: { gpu: v("utilization.gpu"), memory: v("utilization.memory") },
    temperature: qTemperatures(block),
    power: {
      average: gpu.values.has("power.draw.average") ? v("power.draw.average") : v("power.draw"),
      instant: v("power.draw.instant"),
      current: v("enforced.power.limit"),
      requested: v("power.limit"),
      default: v("power.default_limit"),
      min: v("power.min_limit"),
      max: v("power.max_limit"),
    },
    clocks: {
      graphics: v("clocks.current.graphics"),
      sm: v("clocks.current.sm"),
      mem: v("clocks.current.memory"),
      video: v("clocks.current.video"),
    },
    maxClocks: {
      graphics: v("clocks.max.graphics"),
      sm: v("clocks.max.sm"),
      mem: v("clocks.max.memory"),
      video: "N/A",
    },
    // The capture's CSV says nothing of MIG instances: <mig_devices> is left out, ids are N/A.
    processes: processes.map((p) => ({
      gpuInstanceId: "N/A",
      computeInstanceId: "N/A",
      pid: xmlValue(p.values.get("pid")),
      type: "C",
      name: xmlValue(p.values.get("process_name")),
      usedMemory: xmlValue(p.values.get("used_gpu_memory")),
    })),
  };
}
