// Checks one GPU's MIG devices in an inventory (issue 17): a bounded count, unique device indexes,
// UUIDs in nvidia-smi's MIG spelling, short profiles, ids and memory in range. Any fault rejects the
// inventory like the GPU's other fields: the devices are what a MIG lease is checked against.
import { MIG_UUID } from "../../shared/gpu-id.js";
import type { IGpuInfo } from "../../shared/proto.js";
import { fail } from "./validate.js";

/** A100, H100 and B200 have at most 7 MIG devices per GPU; the rest is room, not a promise. */
export const MAX_MIG_DEVICES_PER_GPU = 16;
const MAX_PROFILE_LENGTH = 32;
const MAX_INSTANCE_ID = 1024;
const MAX_MEMORY_MIB = 4 * 1024 * 1024;

export function checkMigDevices(gpu: IGpuInfo, index: number): void {
  const devices = gpu.mig_devices ?? [];
  if (devices.length > MAX_MIG_DEVICES_PER_GPU)
    fail("field_invalid", `gpu ${index} ${devices.length} MIG devices > ${MAX_MIG_DEVICES_PER_GPU}`);
  const seen = new Set<number>();
  const uuids = new Set<string>();
  for (const d of devices) {
    const at = `gpu ${index} MIG device ${d.device_index ?? 0}`;
    if (seen.has(d.device_index ?? 0)) fail("field_invalid", `${at} twice`);
    seen.add(d.device_index ?? 0);
    const uuid = d.uuid ?? "";
    if (uuid !== "" && (!MIG_UUID.test(uuid) || uuids.has(uuid)))
      fail("field_invalid", `${at} uuid ${JSON.stringify(uuid.slice(0, 100))}`);
    uuids.add(uuid);
    if ((d.profile ?? "").length > MAX_PROFILE_LENGTH) fail("string_too_long", `${at} profile`);
    for (const [name, value, max] of [
      ["device_index", d.device_index, MAX_INSTANCE_ID],
      ["gpu_instance_id", d.gpu_instance_id, MAX_INSTANCE_ID],
      ["compute_instance_id", d.compute_instance_id, MAX_INSTANCE_ID],
      ["sm_count", d.sm_count, 100_000],
      ["memory_total_mib", d.memory_total_mib, MAX_MEMORY_MIB],
      ["memory_used_mib", d.memory_used_mib, MAX_MEMORY_MIB],
    ] as const)
      if (value != null && !(value >= 0 && value <= max)) fail("field_invalid", `${at} ${name} ${value}`);
  }
}
