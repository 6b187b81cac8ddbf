// The --query-gpu fields scenario mode knows, with the real tool's names, aliases, units and
// value spellings (checked against the captures). Each reads a GPU's state at one moment. Pure.
import { formatTimestamp } from "./csv-format.js";
import type { FieldHelp } from "./field-catalogue.js";
import type { ModelPreset } from "./models.js";

export interface GpuState {
  nowMs: number;
  index: number;
  count: number;
  busId: string;
  uuid: string;
  serial: string;
  hostName: string;
  driverVersion: string;
  model: ModelPreset;
  mig: boolean;
  util: number;
  memUtil: number;
  memUsedMib: number;
  temp: number;
  powerW: number;
  smClock: number;
  memClock: number;
  videoClock: number;
  pstate: string;
  eventReasons: number;
  /** The current PCIe link (the model's maximum unless the scenario downgrades it). */
  pcie: { gen: number; width: number };
  /** What `-q -x` prints as gpu_recovery_action. */
  recoveryAction: string;
}

export interface FieldDef extends FieldHelp {
  unit?: string;
  value(g: GpuState): string;
}

const NA = "[N/A]";
const int = (n: number): string => String(Math.round(n));
const watts = (n: number): string => n.toFixed(2);
const hex64 = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(16, "0")}`;
const active = (bit: number) => (g: GpuState) => ((g.eventReasons & bit) !== 0 ? "Active" : "Not Active");
const tempThreshold = (g: GpuState): GpuState["model"]["thresholds"] => g.model.thresholds;

function def(names: string[], description: string, value: (g: GpuState) => string, unit?: string): FieldDef {
  return unit === undefined ? { names, description, value } : { names, description, value, unit };
}

/** NVML clocks event reason bits, as `clocks_event_reasons.*` reports them. */
const REASONS: readonly [string, number, string][] = [
  ["gpu_idle", 0x1, "Nothing is running on the GPU and the clocks are dropping to Idle state."],
  ["applications_clocks_setting", 0x2, "GPU clocks are limited by applications clocks setting."],
  ["sw_power_cap", 0x4, "SW Power Scaling algorithm is reducing the clocks below requested clocks."],
  ["hw_slowdown", 0x8, "HW Slowdown (reducing the core clocks by a factor of 2 or more) is engaged."],
  ["hw_thermal_slowdown", 0x40, "HW Thermal Slowdown is engaged."],
  ["hw_power_brake_slowdown", 0x80, "HW Power Brake Slowdown is engaged."],
  ["sw_thermal_slowdown", 0x20, "SW Thermal capping algorithm is reducing clocks below requested clocks."],
  ["sync_boost", 0x10, "This GPU has been added to a Sync boost group with nvidia-smi or DCGM."],
];

export function scenarioFields(legacyThrottleNames: boolean): FieldDef[] {
  // Drivers from R535 renamed throttle reasons to event reasons and kept the old names as aliases.
  const reasonNames = (suffix: string): string[] =>
    legacyThrottleNames
      ? [`clocks_throttle_reasons.${suffix}`]
      : [`clocks_event_reasons.${suffix}`, `clocks_throttle_reasons.${suffix}`];
  const ecc = (v: (g: GpuState) => string) => (g: GpuState) => (g.model.ecc ? v(g) : NA);
  return [
    def(
      ["timestamp"],
      'The timestamp of when the query was made in format "YYYY/MM/DD HH:MM:SS.msec".',
      (g) => formatTimestamp(g.nowMs),
    ),
    def(["driver_version"], "The version of the installed NVIDIA display driver.", (g) => g.driverVersion),
    def(["count"], "The number of NVIDIA GPUs in the system.", (g) => String(g.count)),
    def(["name", "gpu_name"], "The official product name of the GPU.", (g) => g.model.name),
    def(["serial", "gpu_serial"], "The serial number of the board.", (g) => g.serial),
    def(["uuid", "gpu_uuid"], "The globally unique immutable identifier of the GPU.", (g) => g.uuid),
    def(["pci.bus_id", "gpu_bus_id"], 'PCI bus id as "domain:bus:device.function", in hex.', (g) => g.busId),
    def(["pci.device_id"], "PCI vendor device id, in hex", (g) => g.model.pciDeviceId),
    def(["pci.sub_device_id"], "PCI Sub System id, in hex", (g) => g.model.pciSubDeviceId),
    def(["pcie.link.gen.current"], "The current PCI-E link generation.", (g) => String(g.pcie.gen)),
    def(["pcie.link.gen.gpucurrent"], "The current PCI-E link generation of the GPU.", (g) =>
      String(g.pcie.gen),
    ),
    def(["pcie.link.gen.max"], "The maximum PCI-E link generation possible.", (g) =>
      String(g.model.pcie.gen),
    ),
    def(["pcie.link.width.current"], "The current PCI-E link width.", (g) => String(g.pcie.width)),
    def(["pcie.link.width.max"], "The maximum PCI-E link width possible.", (g) => String(g.model.pcie.width)),
    def(["index"], "Zero based index of the GPU.", (g) => String(g.index)),
    def(["persistence_mode"], "A flag that indicates whether persistence mode is enabled.", (g) =>
      g.model.brand === "GeForce" ? "Disabled" : "Enabled",
    ),
    def(["vbios_version"], "The BIOS of the GPU board.", (g) => g.model.vbios),
    def(
      ["fan.speed"],
      "The fan speed value is the percent of maximum speed.",
      (g) => (g.model.hasFan ? int(Math.min(100, Math.max(0, (g.temp - 35) * 2))) : NA),
      "%",
    ),
    def(["pstate"], "The current performance state for the GPU.", (g) => g.pstate),
    def(reasonNames("supported"), "Bitmask of supported clock event reasons.", () => hex64(0x1ff)),
    def(reasonNames("active"), "Bitmask of active clock event reasons.", (g) => hex64(g.eventReasons)),
    ...REASONS.map(([suffix, bit, text]) => def(reasonNames(suffix), text, active(bit))),
    def(["memory.total"], "Total installed GPU memory.", (g) => int(g.model.memoryTotalMib), "MiB"),
    def(
      ["memory.reserved"],
      "Total memory reserved by the NVIDIA driver and firmware.",
      (g) => int(g.model.memoryReservedMib),
      "MiB",
    ),
    def(["memory.used"], "Total memory allocated by active contexts.", (g) => int(g.memUsedMib), "MiB"),
    def(
      ["memory.free"],
      "Total free memory.",
      (g) => int(g.model.memoryTotalMib - g.model.memoryReservedMib - g.memUsedMib),
      "MiB",
    ),
    def(
      ["compute_mode"],
      "The compute mode flag indicates whether individual or multiple compute applications may run on the GPU.",
      () => "Default",
    ),
    def(
      ["compute_cap"],
      "The CUDA Compute Capability, represented as Major DOT Minor.",
      (g) => g.model.computeCap,
    ),
    def(
      ["utilization.gpu"],
      "Percent of time over the past sample period during which one or more kernels was executing on the GPU.",
      (g) => (g.mig ? NA : int(g.util)),
      "%",
    ),
    def(
      ["utilization.memory"],
      "Percent of time over the past sample period during which global (device) memory was being read or written.",
      (g) => (g.mig ? NA : int(g.memUtil)),
      "%",
    ),
    def(
      ["ecc.mode.current"],
      "The ECC mode that the GPU is currently operating under.",
      ecc(() => "Enabled"),
    ),
    def(
      ["ecc.errors.corrected.volatile.total"],
      "Total errors detected across entire chip.",
      ecc(() => "0"),
    ),
    def(
      ["ecc.errors.corrected.aggregate.total"],
      "Total errors detected across entire chip.",
      ecc(() => "0"),
    ),
    def(
      ["ecc.errors.uncorrected.volatile.total"],
      "Total errors detected across entire chip.",
      ecc(() => "0"),
    ),
    def(
      ["ecc.errors.uncorrected.aggregate.total"],
      "Total errors detected across entire chip.",
      ecc(() => "0"),
    ),
    def(
      ["retired_pages.single_bit_ecc.count", "retired_pages.sbe"],
      "The number of GPU device memory pages that have been retired due to multiple single bit ECC errors.",
      () => NA,
    ),
    def(
      ["retired_pages.double_bit.count", "retired_pages.dbe"],
      "The number of GPU device memory pages that have been retired due to a double bit ECC error.",
      () => NA,
    ),
    def(
      ["retired_pages.pending"],
      "Checks if any GPU device memory pages are pending retirement on the next reboot.",
      () => NA,
    ),
    def(
      ["remapped_rows.correctable", "remapped_rows.sbe"],
      "Number of rows remapped due to correctable errors.",
      ecc(() => "0"),
    ),
    def(
      ["remapped_rows.uncorrectable", "remapped_rows.dbe"],
      "Number of rows remapped due to uncorrectable errors.",
      ecc(() => "0"),
    ),
    def(
      ["remapped_rows.pending"],
      "Whether a row remapping is pending.",
      ecc(() => "No"),
    ),
    def(
      ["remapped_rows.failure"],
      "Whether a row remapping has failed.",
      ecc(() => "No"),
    ),
    def(["temperature.gpu"], "Core GPU temperature. in degrees C.", (g) => int(g.temp)),
    def(["temperature.gpu.tlimit"], "GPU T.Limit temperature headroom. in degrees C.", (g) => {
      const t = tempThreshold(g);
      return t.kind === "tlimit" ? int(t.tlimit - g.temp) : NA;
    }),
    // The real tool prints this one as bare `N/A` on boards without a memory sensor (captures).
    def(["temperature.memory"], "HBM memory temperature. in degrees C.", (g) =>
      g.model.hbmOffset === undefined ? "N/A" : int(g.temp + g.model.hbmOffset),
    ),
    def(
      ["power.draw"],
      "The last measured power draw for the entire board, in watts.",
      (g) => watts(g.powerW),
      "W",
    ),
    def(
      ["power.draw.average", "gpu.power.draw.average"],
      "The last measured average power draw for the entire board, in watts.",
      (g) => watts(g.powerW),
      "W",
    ),
    def(
      ["power.draw.instant", "gpu.power.draw.instant"],
      "The last measured instant power draw for the entire board, in watts.",
      (g) => watts(g.powerW),
      "W",
    ),
    def(
      ["power.limit", "gpu.power.requested_limit"],
      "The software power limit in watts.",
      (g) => watts(g.model.power.default),
      "W",
    ),
    def(
      ["enforced.power.limit", "gpu.power.current_limit"],
      "The power management algorithm's power ceiling, in watts.",
      (g) => watts(g.model.power.default),
      "W",
    ),
    def(
      ["power.default_limit", "gpu.power.default_limit"],
      "The default power management algorithm's power ceiling, in watts.",
      (g) => watts(g.model.power.default),
      "W",
    ),
    def(
      ["power.min_limit", "gpu.power.min_limit"],
      "The minimum value in watts that power limit can be set to.",
      (g) => watts(g.model.power.min),
      "W",
    ),
    def(
      ["power.max_limit", "gpu.power.max_limit"],
      "The maximum value in watts that power limit can be set to.",
      (g) => watts(g.model.power.max),
      "W",
    ),
    def(
      ["clocks.current.graphics", "clocks.gr"],
      "Current frequency of graphics (shader) clock.",
      (g) => int(g.smClock),
      "MHz",
    ),
    def(
      ["clocks.current.sm", "clocks.sm"],
      "Current frequency of SM (Streaming Multiprocessor) clock.",
      (g) => int(g.smClock),
      "MHz",
    ),
    def(
      ["clocks.current.memory", "clocks.mem"],
      "Current frequency of memory clock.",
      (g) => int(g.memClock),
      "MHz",
    ),
    def(
      ["clocks.current.video", "clocks.video"],
      "Current frequency of video encoder/decoder clock.",
      (g) => int(g.videoClock),
      "MHz",
    ),
    def(
      ["clocks.max.graphics", "clocks.max.gr"],
      "Maximum frequency of graphics (shader) clock.",
      (g) => int(g.model.clocks.maxSm),
      "MHz",
    ),
    def(
      ["clocks.max.sm", "clocks.max.sm"],
      "Maximum frequency of SM (Streaming Multiprocessor) clock.",
      (g) => int(g.model.clocks.maxSm),
      "MHz",
    ),
    def(
      ["clocks.max.memory", "clocks.max.mem"],
      "Maximum frequency of memory clock.",
      (g) => int(g.model.clocks.maxMemory),
      "MHz",
    ),
    def(["mig.mode.current"], "The MIG mode that the GPU is currently operating under.", (g) => migMode(g)),
    def(["mig.mode.pending"], "The MIG mode that the GPU will operate under after reset.", (g) => migMode(g)),
    def(["hostname"], "Hostname associated with the GPU.", (g) => g.hostName),
  ];
}

function migMode(g: GpuState): string {
  if (g.model.mig === undefined) return NA;
  return g.mig ? "Enabled" : "Disabled";
}

/** Compute-apps fields: the real tool's list (captures' --help-query-compute-apps). */
export const APP_FIELDS: readonly FieldHelp[] = [
  {
    names: ["timestamp"],
    description: 'The timestamp of when the query was made in format "YYYY/MM/DD HH:MM:SS.msec".',
  },
  {
    names: ["gpu_name"],
    description: "The official product name of the GPU. This is an alphanumeric string. For all products.",
  },
  { names: ["gpu_bus_id"], description: 'PCI bus id as "domain:bus:device.function", in hex.' },
  {
    names: ["gpu_serial"],
    description:
      "This number matches the serial number physically printed on each board. It is a globally unique immutable alphanumeric value.",
  },
  {
    names: ["gpu_uuid"],
    description:
      "This value is the globally unique immutable alphanumeric identifier of the GPU. It does not correspond to any physical label on the board.",
  },
  { names: ["pid"], description: "Process ID of the compute application" },
  { names: ["process_name", "name"], description: "Process Name" },
  {
    names: ["used_gpu_memory", "used_memory"],
    description:
      "Amount memory used on the device by the context. Not available on Windows when running in WDDM mode because Windows KMD manages all the memory not NVIDIA driver.",
  },
];
