// Every SQL statement the store runs, prepared once per open database.
import type { Database, Statement } from "better-sqlite3";

export interface RollupRow {
  step_ms: number;
  gpu_id: number;
  bucket_ms: number;
  samples: number;
  busy_ms: number;
  idle_ms: number;
  idle_held_ms: number;
  unknown_ms: number;
  energy_cwms: number;
  energy_idle_cwms: number;
  temp_max: number | null;
  util_sum: number;
  util_count: number;
  data: Buffer;
}

export interface HostRow {
  id: number;
  name: string;
  site: string;
  labels: string;
  first_seen_ms: number;
  last_seen_ms: number;
  status: string;
  status_reason: string;
  status_ms: number | null;
  boot_id: string;
  agent_version: string;
  interval_ms: number | null;
  inventory_uuids: string | null;
}

export interface GpuRow {
  id: number;
  uuid: string;
  model: string;
  host_id: number;
  idx: number;
  first_seen_ms: number;
}

export function prepareStatements(db: Database) {
  const s = (sql: string): Statement => db.prepare(sql);
  return {
    insertHost: s(
      "INSERT INTO hosts (name, site, labels, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?) RETURNING id",
    ),
    allHosts: s("SELECT * FROM hosts ORDER BY name"),
    hostStatuses: s("SELECT status FROM hosts").pluck(true),
    updateHostMeta: s("UPDATE hosts SET site = ?, labels = ? WHERE id = ?"),
    updateHostSeen: s("UPDATE hosts SET last_seen_ms = max(last_seen_ms, ?) WHERE id = ?"),
    updateHostStatus: s(
      "UPDATE hosts SET status = ?, status_reason = ?, status_ms = ?, boot_id = ?, agent_version = ?, interval_ms = ? WHERE id = ?",
    ),
    insertGpu: s(
      "INSERT INTO gpus (uuid, model, host_id, idx, first_seen_ms, last_seen_ms) VALUES (?, '', ?, ?, ?, ?) RETURNING id",
    ),
    updateGpuPlace: s("UPDATE gpus SET host_id = ?, idx = ? WHERE id = ?"),
    updateGpuModel: s("UPDATE gpus SET model = ? WHERE id = ?"),
    openInventory: s(
      "SELECT id, host_id, idx, model, serial, vbios_version, driver_version, pci_bus_id FROM gpu_inventory WHERE gpu_id = ? AND valid_to_ms IS NULL",
    ),
    closeInventory: s("UPDATE gpu_inventory SET valid_to_ms = ? WHERE id = ?"),
    insertInventory: s(
      "INSERT INTO gpu_inventory (gpu_id, host_id, idx, model, serial, vbios_version, driver_version, pci_bus_id, info, valid_from_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    insertInventoryMove: s(
      "INSERT INTO gpu_inventory (gpu_id, host_id, idx, model, serial, vbios_version, driver_version, pci_bus_id, info, valid_from_ms, move_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    updateHostInventory: s("UPDATE hosts SET inventory_uuids = ? WHERE id = ?"),
    getMoveApproval: s("SELECT to_host FROM gpu_move_approvals WHERE uuid = ?").pluck(true),
    putMoveApproval: s(
      "INSERT OR REPLACE INTO gpu_move_approvals (uuid, to_host, approved_ms) VALUES (?, ?, ?)",
    ),
    deleteMoveApproval: s("DELETE FROM gpu_move_approvals WHERE uuid = ?"),
    countBoots: s("SELECT count(*) FROM frame_seen WHERE host_id = ?").pluck(true),
    getSeen: s("SELECT ranges FROM frame_seen WHERE host_id = ? AND boot_id = ?"),
    putSeen: s(
      "INSERT OR REPLACE INTO frame_seen (host_id, boot_id, ranges, updated_ms) VALUES (?, ?, ?, ?)",
    ),
    countReject: s(
      "INSERT INTO rejects (host, reason, count, last_ms) VALUES (?, ?, ?, ?) ON CONFLICT (host, reason) DO UPDATE SET count = count + excluded.count, last_ms = excluded.last_ms",
    ),
    insertRecent: s("INSERT INTO raw_recent (id, data, format) VALUES (?, ?, ?)"),
    deleteRecentBelow: s("DELETE FROM raw_recent WHERE id < ?"),
    insertBlock: s(
      "INSERT INTO raw_blocks (gpu_id, start_ms, end_ms, samples, values_count, data) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    blocksCovering: s("SELECT id, data FROM raw_blocks WHERE gpu_id = ? AND end_ms >= ? AND start_ms <= ?"),
    sealedEnd: s("SELECT max(end_ms) AS e FROM raw_blocks WHERE gpu_id = ?"),
    lastBlock: s("SELECT data FROM raw_blocks WHERE gpu_id = ? ORDER BY end_ms DESC LIMIT 1").pluck(true),
    seriesRollups: s(
      "SELECT bucket_ms, data FROM rollups WHERE step_ms = ? AND gpu_id = ? AND bucket_ms >= ? AND bucket_ms < ?",
    ).raw(true),
    seriesBlocks: s("SELECT data FROM raw_blocks WHERE gpu_id = ? AND end_ms >= ? AND start_ms < ?").pluck(
      true,
    ),
    getRollup: s("SELECT * FROM rollups WHERE step_ms = ? AND gpu_id = ? AND bucket_ms = ?"),
    putRollup: s(
      "INSERT OR REPLACE INTO rollups (step_ms, gpu_id, bucket_ms, samples, busy_ms, idle_ms, idle_held_ms, unknown_ms, energy_cwms, energy_idle_cwms, temp_max, util_sum, util_count, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
