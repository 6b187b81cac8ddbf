// The MIG devices of each GPU (issue 17), from the inventories: written with each inventory,
// read by the GPU API and by lease validation (a MIG lease names one of these). The SQL of
// collector/migrations/095_mig_devices.sql.
import type { Database, Statement } from "better-sqlite3";
import type { IInventory } from "../../shared/proto.js";

export interface MigDeviceRow {
  gpuUuid: string;
  deviceIndex: number;
  /** "" when the agent's `nvidia-smi -L` did not answer. */
  uuid: string;
  profile: string;
  gpuInstanceId: number;
  computeInstanceId: number;
  smCount: number | null;
  memoryTotalMib: number | null;
  memoryUsedMib: number | null;
  updatedMs: number;
}

const COLUMNS = `g.uuid AS gpuUuid, m.device_index AS deviceIndex, m.uuid, m.profile,
  m.gpu_instance_id AS gpuInstanceId, m.compute_instance_id AS computeInstanceId, m.sm_count AS smCount,
  m.memory_total_mib AS memoryTotalMib, m.memory_used_mib AS memoryUsedMib, m.updated_ms AS updatedMs
  FROM mig_devices m JOIN gpus g ON g.id = m.gpu_id`;

export class MigDeviceStore {
  private readonly clear: Statement;
  private readonly insert: Statement;
  private readonly ofGpus: Statement;
  private readonly all: Statement;
  private readonly byUuid: Statement;

  constructor(private readonly db: Database) {
    this.clear = db.prepare("DELETE FROM mig_devices WHERE gpu_id = (SELECT id FROM gpus WHERE uuid = ?)");
    this.insert = db.prepare(
      `INSERT INTO mig_devices (gpu_id, device_index, uuid, profile, gpu_instance_id, compute_instance_id,
        sm_count, memory_total_mib, memory_used_mib, updated_ms)
        SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM gpus WHERE uuid = ?`,
    );
    this.ofGpus = db.prepare(`SELECT ${COLUMNS} WHERE g.uuid = ? ORDER BY m.device_index`);
    this.all = db.prepare(`SELECT ${COLUMNS} ORDER BY g.uuid, m.device_index`);
    this.byUuid = db.prepare(`SELECT ${COLUMNS} WHERE m.uuid = ? ORDER BY m.updated_ms DESC LIMIT 1`);
  }

  /** Replaces the MIG devices of every GPU the inventory lists (after the registry wrote the GPUs). */
  write(inventory: IInventory, atMs: number): void {
    this.db.transaction(() => {
      for (const gpu of inventory.gpus ?? []) {
        if (!gpu.uuid) continue;
        this.clear.run(gpu.uuid);
        for (const d of gpu.mig_devices ?? [])
          this.insert.run(
            d.device_index ?? 0,
            d.uuid ?? "",
            d.profile ?? "",
            d.gpu_instance_id ?? 0,
            d.compute_instance_id ?? 0,
            d.sm_count ?? null,
            d.memory_total_mib ?? null,
            d.memory_used_mib ?? null,
            atMs,
            gpu.uuid,
          );
      }
    })();
  }

  /** One GPU's devices by device index; every GPU's without `gpuUuid`. */
  list(gpuUuid?: string): MigDeviceRow[] {
    return (gpuUuid === undefined ? this.all.all() : this.ofGpus.all(gpuUuid)) as MigDeviceRow[];
  }

  /** The recorded MIG device with this uuid (MIG-…), with its parent GPU. */
  find(migUuid: string): MigDeviceRow | undefined {
    return this.byUuid.get(migUuid) as MigDeviceRow | undefined;
  }
}
