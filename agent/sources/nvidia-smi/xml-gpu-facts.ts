// `nvidia-smi -q -x` (as converted by xml2js with node-nvidia-smi's options: explicitArray false,
// trim true) → SourceInventory. Pure. The element names differ between DTD versions
// (power_readings/enforced_power_limit up to v11, gpu_power_readings/current_power_limit from
// v12), so the version is read from the DOCTYPE and picks the reader; an unknown version uses
// the newest one, which still falls back to the older names.
import type { IGpuInfo } from "../../../shared/proto.js";
import type { SourceInventory } from "../source.js";
import { parseValue } from "./values.js";

export type Node = Record<string, unknown>;

// Written against DTD versions nvsmi_device_v10 … v13 (a fixture for each in test/fixtures/nvidia-smi/xml/).

/** `nvsmi_device_v12` from the DOCTYPE line; "unknown" when there is none (very old drivers). */
export function detectSchema(xml: string): string {
  return /<!DOCTYPE\s+nvidia_smi_log\s+SYSTEM\s+"([^"]+?)(?:\.dtd)?"/.exec(xml)?.[1] ?? "unknown";
}

export function schemaVersion(schema: string): number | undefined {
  const m = /_v(\d+)$/.exec(schema);
  return m ? Number(m[1]) : undefined;
}

export function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function at(node: unknown, ...path: string[]): unknown {
  let cur = node;
  for (const key of path) cur = isNode(cur) ? cur[key] : undefined;
  return cur;
}

/** Element text; "" for absent elements and for N/A spellings. */
export function text(node: unknown, ...path: string[]): string {
  let value = at(node, ...path);
  if (isNode(value)) value = value._;
  if (typeof value !== "string") return "";
  return /^\[?(N\/A|Not Supported|Unknown Error)\]?$/i.test(value.trim()) ? "" : value.trim();
}

export function num(node: unknown, path: string[], min: number, max: number): number | undefined {
  const raw = at(node, ...path);
  if (typeof raw !== "string") return undefined;
  const parsed = parseValue(raw, "float", min, max);
  return parsed.ok ? parsed.value : undefined;
}

const temp = (gpu: unknown, name: string) => num(gpu, ["temperature", name], -100, 200);
const watts = (node: unknown, name: string) => num(node, [name], 0, 100_000);

function setIf<K extends keyof IGpuInfo>(info: IGpuInfo, key: K, value: IGpuInfo[K] | undefined): void {
  if (value !== undefined) info[key] = value;
}

function readGpu(gpu: unknown, index: number, version: number): IGpuInfo {
  const info: IGpuInfo = {
    index,
    uuid: text(gpu, "uuid"),
    name: text(gpu, "product_name"),
    serial: text(gpu, "serial"),
    vbios_version: text(gpu, "vbios_version"),
    pci_bus_id: text(gpu, "pci", "pci_bus_id") || text(gpu, "$", "id"),
    product_architecture: text(gpu, "product_architecture"),
    // Up to v11, gpu_part_number held the board's part number; from v12 it is the chip's.
    board_part_number: text(gpu, "board_part_number") || (version < 12 ? text(gpu, "gpu_part_number") : ""),
  };
  const mem = num(gpu, ["fb_memory_usage", "total"], 0, 4 * 1024 * 1024);
  setIf(info, "memory_total_mib", mem === undefined ? undefined : Math.round(mem));

  const power =
    version >= 12
      ? (at(gpu, "gpu_power_readings") ?? at(gpu, "power_readings"))
      : (at(gpu, "power_readings") ?? at(gpu, "gpu_power_readings"));
  setIf(info, "power_default_limit_watts", watts(power, "default_power_limit"));
  setIf(info, "power_min_limit_watts", watts(power, "min_power_limit"));
  setIf(info, "power_max_limit_watts", watts(power, "max_power_limit"));
  setIf(
    info,
    "power_enforced_limit_watts",
    watts(power, "current_power_limit") ?? watts(power, "enforced_power_limit"),
  );

  setIf(info, "temperature_shutdown_celsius", temp(gpu, "gpu_temp_max_threshold"));
  setIf(info, "temperature_slowdown_celsius", temp(gpu, "gpu_temp_slow_threshold"));
  setIf(info, "temperature_max_operating_celsius", temp(gpu, "gpu_temp_max_gpu_threshold"));
  setIf(info, "temperature_target_celsius", temp(gpu, "gpu_target_temperature"));
  setIf(info, "temperature_memory_max_celsius", temp(gpu, "gpu_temp_max_mem_threshold"));
  readTlimitThresholds(gpu, info);

  const mig = text(gpu, "mig_mode", "current_mig");
  if (mig === "Enabled" || mig === "Disabled") info.mig_mode = mig === "Enabled";
  return info;
}

/**
 * Some v13 boards give the thresholds only on the T.Limit scale (degrees below T.Limit: shutdown
 * -7 C means 7 °C past it). T.Limit itself is gpu_temp + gpu_temp_tlimit (both read at once), so
 * the absolute thresholds follow; used only where the absolute elements are missing.
 */
function readTlimitThresholds(gpu: unknown, info: IGpuInfo): void {
  const current = temp(gpu, "gpu_temp");
  const headroom = temp(gpu, "gpu_temp_tlimit");
  if (current === undefined || headroom === undefined) return;
  const tlimit = current + headroom;
  const derive = (name: string) => {
    const offset = temp(gpu, name);
    return offset === undefined ? undefined : tlimit - offset;
  };
  if (info.temperature_shutdown_celsius == null)
    setIf(info, "temperature_shutdown_celsius", derive("gpu_temp_max_tlimit_threshold"));
  if (info.temperature_slowdown_celsius == null)
    setIf(info, "temperature_slowdown_celsius", derive("gpu_temp_slow_tlimit_threshold"));
  if (info.temperature_max_operating_celsius == null)
    setIf(info, "temperature_max_operating_celsius", derive("gpu_temp_max_gpu_tlimit_threshold"));
  if (info.temperature_memory_max_celsius == null)
    setIf(info, "temperature_memory_max_celsius", derive("gpu_temp_max_mem_tlimit_threshold"));
}

/** The root, the DTD version to read it with, and the <gpu> elements in index order. Throws without a root. */
export function readRoot(doc: unknown, schema: string): { root: Node; version: number; gpuNodes: unknown[] } {
  const root = at(doc, "nvidia_smi_log");
  if (!isNode(root)) throw new Error("no <nvidia_smi_log> element");
  // No DOCTYPE at all: an old driver, read with the oldest names. An unknown vNN: the newest.
  const version = schemaVersion(schema) ?? (schema === "unknown" ? 10 : 13);
  const gpuNodes: unknown[] = root.gpu === undefined ? [] : Array.isArray(root.gpu) ? root.gpu : [root.gpu];
  return { root, version, gpuNodes };
}

/**
 * Reads the converted document. `schema` comes from detectSchema on the raw text (xml2js drops
 * the DOCTYPE). Throws when the document has no nvidia_smi_log root.
 */
export function readInventory(doc: unknown, schema: string): SourceInventory {
  const { root, version, gpuNodes } = readRoot(doc, schema);
  return {
    driverVersion: text(root, "driver_version"),
    cudaVersion: text(root, "cuda_version"),
    schema,
    // nvidia-smi lists GPUs in index order; the XML has no index element and leaves out a GPU that
    // fell off the bus, so this is a position: queryInventory gives each GPU its known index.
    gpus: gpuNodes.map((gpu, index) => readGpu(gpu, index, version)),
  };
}
