// `-q -x` for a scenario host: the same document layout as replay, from the models' limits. Pure.

import type { GpuRow, ProcessRow } from "./backend.js";
import { formatCtime } from "./csv-format.js";
import type { GpuState } from "./scenario-fields.js";
import type { GpuSpec, HostSpec } from "./scenario-schema.js";
import { dtdForDriver, renderXml, type XmlGpu, type XmlMigDevice, xmlValue } from "./xml.js";

function temperatures(s: GpuState): [string, string][] {
  const t = s.model.thresholds;
  const c = (n: number | undefined): string => (n === undefined ? "N/A" : `${Math.round(n)} C`);
  const memory = s.model.hbmOffset === undefined ? "N/A" : c(s.temp + s.model.hbmOffset);
  if (t.kind === "absolute") {
    return [
      ["gpu_temp", c(s.temp)],
      ["gpu_temp_tlimit", "N/A"],
      ["gpu_temp_max_threshold", c(t.shutdown)],
      ["gpu_temp_slow_threshold", c(t.slowdown)],
      ["gpu_temp_max_gpu_threshold", c(t.maxOperating)],
      ["gpu_target_temperature", c(t.target)],
      ["memory_temp", memory],
      ["gpu_temp_max_mem_threshold", c(t.memoryMax)],
    ];
  }
  return [
    ["gpu_temp", c(s.temp)],
    ["gpu_temp_tlimit", c(t.tlimit - s.temp)],
    ["gpu_temp_max_tlimit_threshold", c(t.shutdown)],
    ["gpu_temp_slow_tlimit_threshold", c(t.slowdown)],
    ["gpu_temp_max_gpu_tlimit_threshold", c(t.maxOperating)],
    ["gpu_target_temperature", "N/A"],
    ["memory_temp", memory],
    ["gpu_temp_max_mem_tlimit_threshold", c(t.memoryMax)],
  ];
}

/**
 * `<mig_devices>` of a GPU: "None" without MIG; with MIG each device's ids and sizes, its memory
 * used being its processes' plus the few MiB per compute slice an idle device shows (9, 17, 26
 * MiB for 1, 2, 3 slices in the MIG capture).
 */
function migDevices(spec: GpuSpec): XmlMigDevice[] {
  return (spec.mig ?? []).map((d) => ({
    index: d.deviceIndex,
    gpuInstanceId: d.gpuInstanceId,
    computeInstanceId: d.computeInstanceId,
    sms: d.sizes.sms,
    copyEngines: d.computeSlices,
    decoders: d.computeSlices,
    jpegs: d.jpegs,
    memoryTotalMib: d.sizes.memoryMib,
    memoryUsedMib:
      9 * d.computeSlices +
      spec.processes.filter((p) => p.migDevice === d.listIndex).reduce((sum, p) => sum + p.usedMemoryMib, 0),
    bar1TotalMib: d.sizes.bar1Mib,
  }));
}

function gpuXml(state: GpuState, row: GpuRow, processes: readonly ProcessRow[], spec: GpuSpec): XmlGpu {
  const v = (field: string): string => xmlValue(row.values.get(field));
  const m = state.model;
  const w = (n: number): string => `${n.toFixed(2)} W`;
  return {
    busId: state.busId,
    productName: v("name"),
    productBrand: m.brand,
    architecture: m.architecture,
    migCurrent: v("mig.mode.current"),
    migPending: v("mig.mode.pending"),
    migDevices: migDevices(spec),
    serial: v("serial"),
    uuid: v("uuid"),
    vbios: v("vbios_version"),
    pciDeviceId: m.pciDeviceId.replace(/^0x/, ""),
    pciSubSystemId: m.pciSubDeviceId.replace(/^0x/, ""),
    linkGen: { max: String(m.pcie.gen), current: String(state.pcie.gen) },
    linkWidth: { max: `${m.pcie.width}x`, current: `${state.pcie.width}x` },
    recoveryAction: state.recoveryAction,
    replayCounter: "0",
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
    temperature: temperatures(state),
    power: {
      average: v("power.draw"),
      instant: v("power.draw"),
      current: w(m.power.default),
      requested: w(m.power.default),
      default: w(m.power.default),
      min: w(m.power.min),
      max: w(m.power.max),
    },
    clocks: {
      graphics: v("clocks.current.graphics"),
      sm: v("clocks.current.sm"),
      mem: v("clocks.current.memory"),
      video: v("clocks.current.video"),
    },
    maxClocks: {
      graphics: `${m.clocks.maxSm} MHz`,
      sm: `${m.clocks.maxSm} MHz`,
      mem: `${m.clocks.maxMemory} MHz`,
      video: `${m.clocks.maxVideo} MHz`,
    },
    processes: processes.map((p, i) => {
      // Rows come in the spec's order; a process without mig_device prints N/A ids even on MIG.
      const device = spec.mig?.find((d) => d.listIndex === spec.processes[i]?.migDevice);
      return {
        gpuInstanceId: device === undefined ? "N/A" : String(device.gpuInstanceId),
        computeInstanceId: device === undefined ? "N/A" : String(device.computeInstanceId),
        pid: xmlValue(p.values.get("pid")),
        type: "C",
        name: xmlValue(p.values.get("process_name")),
        usedMemory: xmlValue(p.values.get("used_gpu_memory")),
      };
    }),
  };
}

export function scenarioXml(
  host: HostSpec,
  nowMs: number,
  gpus: readonly { state: GpuState; row: GpuRow }[],
  processes: readonly ProcessRow[],
): string {
  return renderXml({
    dtd: dtdForDriver(host.driverVersion),
    timestamp: formatCtime(nowMs),
    driverVersion: host.driverVersion,
    cudaVersion: host.cudaVersion,
    attachedGpus: host.gpus.length,
    // A lost GPU has no document of its own; attached_gpus still counts it.
    gpus: gpus
      .filter((g) => !g.row.lost)
      .map((g) =>
        gpuXml(
          g.state,
          g.row,
          processes.filter((p) => p.gpuIndex === g.state.index),
          host.gpus[g.state.index] as GpuSpec,
        ),
      ),
  });
}
