// Reads of the fleet's registry tables for the API, the reports and the fan-out: where each
// GPU moved, the current inventory rows and the database size. The
// callers shape the answers; the SQL stays here (collector/store/README.md).
import type { Database, Statement } from "better-sqlite3";

/** A GPU as the gpus table knows it (every GPU ever seen, current host). */
export interface FleetGpu {
  id: number;
  uuid: string;
  model: string;
  hostId: number;
  firstSeenMs: number;
}

/** A row of a GPU's inventory history that put it on a host (from validFromMs on). */
export interface HostMove {
  gpuId: number;
  hostId: number;
  validFromMs: number;
}

/** A GPU's open inventory row; `info` is the agent's IGpuInfo as JSON. */
export interface InventoryRow {
  uuid: string;
  serial: string;
  vbios_version: string;
  driver_version: string;
  pci_bus_id: string;
  info: string;
}

const INVENTORY_SQL = `SELECT g.uuid AS uuid, i.serial, i.vbios_version, i.driver_version, i.pci_bus_id, i.info
  FROM gpu_inventory i JOIN gpus g ON g.id = i.gpu_id WHERE i.valid_to_ms IS NULL`;

/** Statements prepared on first use: most collectors never ask some of these. */
export class FleetReads {
  private readonly cache = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  private stmt(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  /** Inventory rows of the GPUs that have been on more than one host, by GPU, oldest first. */
  hostMoves(): HostMove[] {
    return this.stmt(
      `SELECT gpu_id AS gpuId, host_id AS hostId, valid_from_ms AS validFromMs FROM gpu_inventory
        WHERE gpu_id IN (SELECT gpu_id FROM gpu_inventory GROUP BY gpu_id HAVING count(DISTINCT host_id) > 1)
        ORDER BY gpu_id, valid_from_ms, id`,
    ).all() as HostMove[];
  }

  /** The inventory rows of these GPUs, by GPU, oldest first: one statement for all (an index seek each). */
  hostHistories(gpuIds: readonly number[]): HostMove[] {
    return this.stmt(
      `SELECT i.gpu_id AS gpuId, i.host_id AS hostId, i.valid_from_ms AS validFromMs
         FROM json_each(?) AS j CROSS JOIN gpu_inventory AS i ON i.gpu_id = j.value
        ORDER BY i.gpu_id, i.valid_from_ms, i.id`,
    ).all(JSON.stringify(gpuIds)) as HostMove[];
  }

  inventory(): InventoryRow[] {
    return this.stmt(INVENTORY_SQL).all() as InventoryRow[];
  }

  inventoryOf(uuid: string): InventoryRow | undefined {
    return this.stmt(`${INVENTORY_SQL} AND g.uuid = ?`).get(uuid) as InventoryRow | undefined;
  }

  databaseBytes(): number {
    const pageSize = this.db.pragma("page_size", { simple: true }) as number;
    const pages = this.db.pragma("page_count", { simple: true }) as number;
    return pages * pageSize;
  }
}
