// Checks a decoded Inventory as frames are checked (pure). Identity, timestamp, GPU list, UUIDs,
// labels and string lengths reject the whole inventory with their reason. A number outside its
// physical range (a power limit of -1e30 W, a slowdown temperature of -2e9 °C) is made absent
// instead, and noted as value_out_of_range: the rest of the GPU's inventory (model, serial,
// VBIOS) stays useful, and an agent re-sends its inventory only when it changes.
import { METRIC_BY_KEY, type MetricKey } from "../../shared/metrics.js";
import type { IGpuInfo, IInventory } from "../../shared/proto.js";
import { DEFAULT_LIMITS } from "./limits.js";
import type { Rejection } from "./reasons.js";
import {
  type Checked,
  checkGpuList,
  checkGpuUuid,
  checkIdentity,
  checkLabels,
  checkText,
  checkTimestamp,
  fail,
  guard,
  type ValidationContext,
} from "./validate.js";
import { checkMigDevices } from "./validate-mig.js";

function metricRange(key: MetricKey): readonly [number, number] {
  const m = METRIC_BY_KEY.get(key);
  if (!m) throw new Error(`no metric ${key}`);
  return [m.min, m.max];
}

// The same physical ranges as the frames' metrics (shared/metrics.ts).
const POWER = metricRange("power_limit_watts");
const TEMPERATURE = metricRange("temperature_gpu_celsius");
const GPU_NUMBERS: readonly [keyof IGpuInfo, readonly [number, number]][] = [
  ["memory_total_mib", metricRange("memory_total_mib")],
  ["power_default_limit_watts", POWER],
  ["power_min_limit_watts", POWER],
  ["power_max_limit_watts", POWER],
  ["power_enforced_limit_watts", POWER],
  ["temperature_shutdown_celsius", TEMPERATURE],
  ["temperature_slowdown_celsius", TEMPERATURE],
  ["temperature_max_operating_celsius", TEMPERATURE],
  ["temperature_target_celsius", TEMPERATURE],
  ["temperature_memory_max_celsius", TEMPERATURE],
];
const GPU_STRINGS: readonly (keyof IGpuInfo)[] = [
  "name",
  "serial",
  "vbios_version",
  "pci_bus_id",
  "product_architecture",
  "board_part_number",
];

function inRange(value: unknown, [min, max]: readonly [number, number]): boolean {
  return typeof value === "number" && value >= min && value <= max;
}

/**
 * Validates an inventory; out-of-range numbers are deleted from it and one note per deleted value
 * is pushed to `notes` (the inventory itself is still accepted).
 */
export function validateInventory(
  inventory: IInventory,
  ctx: ValidationContext,
  notes: Rejection[] = [],
): Checked<IInventory> {
  const host = ctx.topicHost;
  const limits = ctx.limits ?? DEFAULT_LIMITS;
  const text = (value: string | null | undefined, name: string) => {
    if ((value ?? "").length > limits.maxStringLength)
      fail("string_too_long", `${name} length ${(value ?? "").length} > ${limits.maxStringLength}`);
  };
  return guard(host, () => {
    checkIdentity(ctx, inventory.host);
    checkTimestamp(ctx, inventory.timestamp_ms, "inventory timestamp_ms");
    const gpus = inventory.gpus ?? [];
    checkGpuList(gpus);
    checkText(inventory.site, "site", 128);
    checkText(inventory.error, "inventory error", 4096);
    checkText(inventory.agent_version, "agent_version", 64);
    checkLabels(inventory.labels, limits);
    text(inventory.driver_version, "driver_version");
    text(inventory.cuda_version, "cuda_version");
    text(inventory.xml_schema, "xml_schema");
    const info = inventory.host_info;
    if (info) {
      for (const key of ["hostname", "os", "kernel", "cpu_model"] as const)
        text(info[key], `host_info.${key}`);
      if (info.cpu_cores != null && !inRange(info.cpu_cores, [0, 1e6])) {
        notes.push(outOfRange(host, "host_info.cpu_cores", info.cpu_cores));
        info.cpu_cores = 0;
      }
      if (info.memory_total_bytes != null && !inRange(info.memory_total_bytes, [0, 2 ** 53])) {
        notes.push(outOfRange(host, "host_info.memory_total_bytes", info.memory_total_bytes));
        info.memory_total_bytes = 0;
      }
    }
    for (const gpu of gpus) {
      const index = gpu.index ?? 0;
      checkGpuUuid(gpu.uuid, index);
      checkMigDevices(gpu, index);
      for (const key of GPU_STRINGS) text(gpu[key] as string | null | undefined, `gpu ${index} ${key}`);
      for (const [key, range] of GPU_NUMBERS) {
        const value = gpu[key];
        if (value === null || value === undefined || inRange(value, range)) continue;
        notes.push(outOfRange(host, `gpu ${index} ${key}`, value));
        delete gpu[key];
      }
    }
    return inventory;
  });
}

function outOfRange(host: string, name: string, value: unknown): Rejection {
  return { host, reason: "value_out_of_range", detail: `inventory ${name} ${String(value)} made absent` };
}
