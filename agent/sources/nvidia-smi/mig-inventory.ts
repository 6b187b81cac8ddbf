// The MIG devices of each GPU for the inventory message: `-q -x` <mig_devices> (ids, SMs, memory)
// joined with `-L` (profile, MIG UUID) by device index through buildMigInventory. A device `-L`
// did not name keeps an empty uuid and profile rather than being dropped: the collector still
// sees its memory. Pure.
import type { IGpuInfo, IMigDevice } from "../../../shared/proto.js";
import { buildMigInventory } from "./mig.js";
import type { ListedGpu } from "./mig-text.js";
import type { XmlGpuHolders } from "./xml-holders.js";

/** Sets `mig_devices` on each GPU that has any; GPUs without MIG devices are left as they are. */
export function attachMigDevices(
  gpus: IGpuInfo[],
  detail: readonly XmlGpuHolders[],
  listed: readonly ListedGpu[],
): void {
  const { instances } = buildMigInventory({ listed, detail });
  for (const gpu of gpus) {
    const devices: IMigDevice[] = [];
    for (const i of instances) {
      if (i.gpuUuid !== gpu.uuid || i.deviceIndex === undefined) continue;
      if (i.gpuInstanceId === undefined || i.computeInstanceId === undefined) continue;
      const device: IMigDevice = {
        uuid: i.uuid ?? "",
        device_index: i.deviceIndex,
        profile: i.profile ?? "",
        gpu_instance_id: i.gpuInstanceId,
        compute_instance_id: i.computeInstanceId,
      };
      if (i.smCount !== undefined) device.sm_count = i.smCount;
      if (i.memoryTotalMib !== undefined) device.memory_total_mib = i.memoryTotalMib;
      if (i.memoryUsedMib !== undefined) device.memory_used_mib = i.memoryUsedMib;
      devices.push(device);
    }
    if (devices.length > 0) gpu.mig_devices = devices;
  }
}
