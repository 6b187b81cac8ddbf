// The catalogue of per-GPU metrics: one row per GpuSample field. Agent parsing, collector
// storage and every query surface are driven by this table, so a metric is added in one place.
import { Metric, type MetricValue } from "./proto.js";

/** How nvidia-smi spells the value (with `nounits`). */
export type ValueKind = "int" | "float" | "bool" | "hex" | "pstate";

export type PromType = "gauge" | "counter";

export interface MetricDef {
  /** Stable id: the GpuSample field number and the Metric enum value. */
  id: MetricValue;
  /** GpuSample field name (snake_case as in the proto). */
  key: MetricKey;
  /** nvidia-smi --query-gpu names, preferred spelling first, older aliases after. Empty: not from --query-gpu. */
  smiFields: readonly string[];
  kind: ValueKind;
  /** Physical range; a reading outside it is absent with reason OUT_OF_RANGE. */
  min: number;
  max: number;
  /** Storage keeps round(value * scale) as an integer. */
  scale: number;
  unit: string;
  /**
   * Prometheus exposition: name (with unit), the factor from the stored value to the exposed unit,
   * and the type. A counter only rises (it may reset to 0 at a driver reload or a reboot, which
   * rate() allows) and its name ends in `_total`, on /metrics and in remote_write alike.
   */
  prom: { name: string; help: string; factor: number; type: PromType };
}

export type MetricKey =
  | "utilization_gpu_pct"
  | "utilization_memory_pct"
  | "memory_used_mib"
  | "memory_total_mib"
  | "temperature_gpu_celsius"
  | "temperature_memory_celsius"
  | "temperature_gpu_tlimit_celsius"
  | "power_draw_watts"
  | "power_limit_watts"
  | "clocks_sm_mhz"
  | "clocks_memory_mhz"
  | "fan_speed_pct"
  | "pstate"
  | "clock_event_reasons"
  | "ecc_corrected_volatile"
  | "ecc_uncorrected_volatile"
  | "retired_pages_sbe"
  | "retired_pages_dbe"
  | "remapped_rows_correctable"
  | "remapped_rows_uncorrectable"
  | "remapped_rows_pending"
  | "remapped_rows_failure"
  | "pcie_link_gen"
  | "pcie_link_width"
  | "compute_processes"
  | "compute_memory_mib"
  | "mig_mode"
  | "pcie_link_gen_max"
  | "pcie_link_width_max"
  | "retired_pages_pending"
  | "gpu_recovery_action"
  | "pcie_replay_count"
  | "nvlink_links_down"
  | "nvlink_links_below_speed"
  | "nvlink_errors";

const MIB = 1024 * 1024;
const MAX_COUNT = 2 ** 52;

function def(
  id: MetricValue,
  key: MetricKey,
  smiFields: readonly string[],
  kind: ValueKind,
  range: [number, number],
  unit: string,
  prom: [string, string, number, PromType?],
  scale = 1,
): MetricDef {
  return {
    id,
    key,
    smiFields,
    kind,
    min: range[0],
    max: range[1],
    scale,
    unit,
    prom: { name: prom[0], help: prom[1], factor: prom[2], type: prom[3] ?? "gauge" },
  };
}

export const METRICS: readonly MetricDef[] = [
  def(Metric.METRIC_UTILIZATION_GPU, "utilization_gpu_pct", ["utilization.gpu"], "int", [0, 100], "%", [
    "gputel_gpu_utilization_ratio",
    "Share of the last sample period during which a kernel ran on the GPU.",
    0.01,
  ]),
  def(
    Metric.METRIC_UTILIZATION_MEMORY,
    "utilization_memory_pct",
    ["utilization.memory"],
    "int",
    [0, 100],
    "%",
    [
      "gputel_gpu_memory_utilization_ratio",
      "Share of the last sample period during which device memory was read or written.",
      0.01,
    ],
  ),
  def(Metric.METRIC_MEMORY_USED, "memory_used_mib", ["memory.used"], "int", [0, 4 * MIB], "MiB", [
    "gputel_gpu_memory_used_bytes",
    "Device memory allocated by active contexts.",
    MIB,
  ]),
  def(Metric.METRIC_MEMORY_TOTAL, "memory_total_mib", ["memory.total"], "int", [0, 4 * MIB], "MiB", [
    "gputel_gpu_memory_total_bytes",
    "Total installed device memory.",
    MIB,
  ]),
  def(
    Metric.METRIC_TEMPERATURE_GPU,
    "temperature_gpu_celsius",
    ["temperature.gpu"],
    "int",
    [-40, 150],
    "°C",
    ["gputel_gpu_temperature_celsius", "Core GPU temperature.", 1],
  ),
  def(
    Metric.METRIC_TEMPERATURE_MEMORY,
    "temperature_memory_celsius",
    ["temperature.memory"],
    "int",
    [-40, 150],
    "°C",
    ["gputel_gpu_memory_temperature_celsius", "HBM memory temperature.", 1],
  ),
  def(
    Metric.METRIC_TEMPERATURE_GPU_TLIMIT,
    "temperature_gpu_tlimit_celsius",
    ["temperature.gpu.tlimit"],
    "int",
    [-100, 200],
    "°C",
    ["gputel_gpu_slowdown_headroom_celsius", "Degrees below the GPU's T.Limit (slowdown) temperature.", 1],
  ),
  def(
    Metric.METRIC_POWER_DRAW,
    "power_draw_watts",
    ["power.draw", "power.draw.average"],
    "float",
    [0, 5000],
    "W",
    ["gputel_gpu_power_draw_watts", "Board power draw.", 0.01],
    100,
  ),
  def(
    Metric.METRIC_POWER_LIMIT,
    "power_limit_watts",
    ["enforced.power.limit", "power.limit"],
    "float",
    [0, 5000],
    "W",
    ["gputel_gpu_power_limit_watts", "Enforced board power limit.", 0.01],
    100,
  ),
  def(
    Metric.METRIC_CLOCKS_SM,
    "clocks_sm_mhz",
    ["clocks.current.sm", "clocks.sm"],
    "int",
    [0, 20_000],
    "MHz",
    ["gputel_gpu_sm_clock_hertz", "Current SM clock.", 1e6],
  ),
  def(
    Metric.METRIC_CLOCKS_MEMORY,
    "clocks_memory_mhz",
    ["clocks.current.memory", "clocks.mem"],
    "int",
    [0, 50_000],
    "MHz",
    ["gputel_gpu_memory_clock_hertz", "Current memory clock.", 1e6],
  ),
  def(Metric.METRIC_FAN_SPEED, "fan_speed_pct", ["fan.speed"], "int", [0, 100], "%", [
    "gputel_gpu_fan_speed_ratio",
    "Intended fan speed.",
    0.01,
  ]),
  def(Metric.METRIC_PSTATE, "pstate", ["pstate"], "pstate", [0, 15], "", [
    "gputel_gpu_pstate",
    "Performance state (0 = P0, maximum performance).",
    1,
  ]),
  def(
    Metric.METRIC_CLOCK_EVENT_REASONS,
    "clock_event_reasons",
    ["clocks_event_reasons.active", "clocks_throttle_reasons.active"],
    "hex",
    [0, 2 ** 53 - 1],
    "bitmask",
    ["gputel_gpu_clock_event_reasons", "Active clock event (throttle) reasons, NVML bitmask.", 1],
  ),
  def(
    Metric.METRIC_ECC_CORRECTED_VOLATILE,
    "ecc_corrected_volatile",
    ["ecc.errors.corrected.volatile.total"],
    "int",
    [0, MAX_COUNT],
    "errors",
    [
      "gputel_gpu_ecc_corrected_volatile_errors_total",
      "Corrected ECC errors since the driver loaded.",
      1,
      "counter",
    ],
  ),
  def(
    Metric.METRIC_ECC_UNCORRECTED_VOLATILE,
    "ecc_uncorrected_volatile",
    ["ecc.errors.uncorrected.volatile.total"],
    "int",
    [0, MAX_COUNT],
    "errors",
    [
      "gputel_gpu_ecc_uncorrected_volatile_errors_total",
      "Uncorrected ECC errors since the driver loaded.",
      1,
      "counter",
    ],
  ),
  def(
    Metric.METRIC_RETIRED_PAGES_SBE,
    "retired_pages_sbe",
    ["retired_pages.single_bit_ecc.count", "retired_pages.sbe"],
    "int",
    [0, 1_000_000],
    "pages",
    ["gputel_gpu_retired_pages_sbe", "Pages retired for repeated single-bit ECC errors.", 1],
  ),
  def(
    Metric.METRIC_RETIRED_PAGES_DBE,
    "retired_pages_dbe",
    ["retired_pages.double_bit.count", "retired_pages.dbe"],
    "int",
    [0, 1_000_000],
    "pages",
    ["gputel_gpu_retired_pages_dbe", "Pages retired for double-bit ECC errors.", 1],
  ),
  def(
    Metric.METRIC_REMAPPED_ROWS_CORRECTABLE,
    "remapped_rows_correctable",
    ["remapped_rows.correctable"],
    "int",
    [0, 1_000_000],
    "rows",
    ["gputel_gpu_remapped_rows_correctable", "Rows remapped for correctable errors.", 1],
  ),
  def(
    Metric.METRIC_REMAPPED_ROWS_UNCORRECTABLE,
    "remapped_rows_uncorrectable",
    ["remapped_rows.uncorrectable"],
    "int",
    [0, 1_000_000],
    "rows",
    ["gputel_gpu_remapped_rows_uncorrectable", "Rows remapped for uncorrectable errors.", 1],
  ),
  def(
    Metric.METRIC_REMAPPED_ROWS_PENDING,
    "remapped_rows_pending",
    ["remapped_rows.pending"],
    "bool",
    [0, 1],
    "",
    ["gputel_gpu_remapped_rows_pending", "1 while a row remap waits for a GPU reset.", 1],
  ),
  def(
    Metric.METRIC_REMAPPED_ROWS_FAILURE,
    "remapped_rows_failure",
    ["remapped_rows.failure"],
    "bool",
    [0, 1],
    "",
    ["gputel_gpu_remapped_rows_failure", "1 when a row remap has failed.", 1],
  ),
  def(
    Metric.METRIC_PCIE_LINK_GEN,
    "pcie_link_gen",
    ["pcie.link.gen.gpucurrent", "pcie.link.gen.current"],
    "int",
    [1, 8],
    "",
    ["gputel_gpu_pcie_link_generation", "Current PCIe link generation.", 1],
  ),
  def(
    Metric.METRIC_PCIE_LINK_WIDTH,
    "pcie_link_width",
    ["pcie.link.width.current"],
    "int",
    [0, 64],
    "lanes",
    ["gputel_gpu_pcie_link_width_lanes", "Current PCIe link width.", 1],
  ),
  def(Metric.METRIC_COMPUTE_PROCESSES, "compute_processes", [], "int", [0, 100_000], "processes", [
    "gputel_gpu_compute_processes",
    "Compute processes holding a context on the GPU.",
    1,
  ]),
  def(Metric.METRIC_COMPUTE_MEMORY, "compute_memory_mib", [], "int", [0, 4 * MIB], "MiB", [
    "gputel_gpu_compute_memory_bytes",
    "Device memory used by compute processes.",
    MIB,
  ]),
  def(Metric.METRIC_MIG_MODE, "mig_mode", ["mig.mode.current"], "bool", [0, 1], "", [
    "gputel_gpu_mig_enabled",
    "1 when MIG mode is enabled.",
    1,
  ]),
  def(Metric.METRIC_PCIE_LINK_GEN_MAX, "pcie_link_gen_max", ["pcie.link.gen.max"], "int", [1, 8], "", [
    "gputel_gpu_pcie_link_max_generation",
    "Maximum PCIe link generation of the GPU and its slot.",
    1,
  ]),
  def(
    Metric.METRIC_PCIE_LINK_WIDTH_MAX,
    "pcie_link_width_max",
    ["pcie.link.width.max"],
    "int",
    [0, 64],
    "lanes",
    ["gputel_gpu_pcie_link_max_width_lanes", "Maximum PCIe link width of the GPU and its slot.", 1],
  ),
  def(
    Metric.METRIC_RETIRED_PAGES_PENDING,
    "retired_pages_pending",
    ["retired_pages.pending"],
    "bool",
    [0, 1],
    "",
    ["gputel_gpu_retired_pages_pending", "1 while pages wait to be retired at the next reset or reboot.", 1],
  ),
  // The metrics below come from the slow polls (`-q -x`, `nvlink -s`, `nvlink -e`), not from --query-gpu.
  def(Metric.METRIC_GPU_RECOVERY_ACTION, "gpu_recovery_action", [], "int", [0, 9], "", [
    "gputel_gpu_recovery_action",
    "Driver's GPU recovery action: 0 none, 1 reset, 2 reboot, 3 drain P2P, 4 drain and reset, 9 other.",
    1,
  ]),
  def(Metric.METRIC_PCIE_REPLAY_COUNT, "pcie_replay_count", [], "int", [0, MAX_COUNT], "replays", [
    "gputel_gpu_pcie_replays_total",
    "PCIe replays since the driver loaded.",
    1,
    "counter",
  ]),
  def(Metric.METRIC_NVLINK_LINKS_DOWN, "nvlink_links_down", [], "int", [0, 64], "links", [
    "gputel_gpu_nvlink_links_down",
    "NVLink links reported inactive.",
    1,
  ]),
  def(Metric.METRIC_NVLINK_LINKS_BELOW_SPEED, "nvlink_links_below_speed", [], "int", [0, 64], "links", [
    "gputel_gpu_nvlink_links_below_speed",
    "Active NVLink links running below their rated speed.",
    1,
  ]),
  def(Metric.METRIC_NVLINK_ERRORS, "nvlink_errors", [], "int", [0, MAX_COUNT], "errors", [
    "gputel_gpu_nvlink_errors_total",
    "NVLink replay, recovery and CRC errors summed over the GPU's links since the counters were last reset (driver load).",
    1,
    "counter",
  ]),
];

/** GPU recovery action codes (gpu_recovery_action): NVML's nvmlDeviceGpuRecoveryAction_t, 9 for any other. */
export const RECOVERY_ACTION = {
  NONE: 0,
  GPU_RESET: 1,
  NODE_REBOOT: 2,
  DRAIN_P2P: 3,
  DRAIN_AND_RESET: 4,
  OTHER: 9,
} as const;

export const METRIC_BY_KEY: ReadonlyMap<MetricKey, MetricDef> = new Map(METRICS.map((m) => [m.key, m]));
export const METRIC_BY_ID: ReadonlyMap<number, MetricDef> = new Map(METRICS.map((m) => [m.id, m]));

/** NVML clocks event reason bits (nvml.h nvmlClocksEventReason*). */
export const CLOCK_EVENT = {
  GPU_IDLE: 0x1,
  APPLICATIONS_CLOCKS_SETTING: 0x2,
  SW_POWER_CAP: 0x4,
  HW_SLOWDOWN: 0x8,
  SYNC_BOOST: 0x10,
  SW_THERMAL_SLOWDOWN: 0x20,
  HW_THERMAL_SLOWDOWN: 0x40,
  HW_POWER_BRAKE_SLOWDOWN: 0x80,
  DISPLAY_CLOCK_SETTING: 0x100,
} as const;

export const THERMAL_SLOWDOWN_MASK = CLOCK_EVENT.SW_THERMAL_SLOWDOWN | CLOCK_EVENT.HW_THERMAL_SLOWDOWN;
export const POWER_SLOWDOWN_MASK = CLOCK_EVENT.SW_POWER_CAP | CLOCK_EVENT.HW_POWER_BRAKE_SLOWDOWN;

/**
 * A stored value (the reading times `scale`, an integer) in the metric's Prometheus unit, as the
 * nearest double to the exact figure: a factor below 1 divides by its inverse, because
 * 35 * 0.01 is 0.35000000000000003 where 35 / 100 is 0.35.
 */
export function exposedValue(def: MetricDef, stored: number): number {
  const factor = def.prom.factor;
  return factor < 1 ? stored / Math.round(1 / factor) : stored * factor;
}

/** Reads a metric's value from a sample as a plain number (booleans as 0/1); undefined when absent. */
export function metricNumber(sample: Record<string, unknown>, key: MetricKey): number | undefined {
  const value = sample[key];
  if (value === null || value === undefined) return undefined;
  if (typeof value === "boolean") return value ? 1 : 0;
  return typeof value === "number" ? value : undefined;
}
