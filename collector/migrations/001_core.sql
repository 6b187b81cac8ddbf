-- Hosts, GPUs (UUID-keyed) with inventory history, frame sequence tracking, reject counters.
CREATE TABLE hosts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  site TEXT NOT NULL DEFAULT '',
  labels TEXT NOT NULL DEFAULT '{}',
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'unknown',
  status_reason TEXT NOT NULL DEFAULT '',
  status_ms INTEGER,
  boot_id TEXT NOT NULL DEFAULT '',
  agent_version TEXT NOT NULL DEFAULT '',
  interval_ms INTEGER
);

CREATE TABLE gpus (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  model TEXT NOT NULL DEFAULT '',
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  idx INTEGER NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL
);

-- One row per stretch of time a GPU kept the same host, slot, model, driver and VBIOS:
-- a move or an upgrade closes the open row (valid_to_ms) and opens a new one.
CREATE TABLE gpu_inventory (
  id INTEGER PRIMARY KEY,
  gpu_id INTEGER NOT NULL REFERENCES gpus(id),
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  idx INTEGER NOT NULL,
  model TEXT NOT NULL,
  serial TEXT NOT NULL,
  vbios_version TEXT NOT NULL,
  driver_version TEXT NOT NULL,
  pci_bus_id TEXT NOT NULL,
  info TEXT NOT NULL,
  valid_from_ms INTEGER NOT NULL,
  valid_to_ms INTEGER
);
CREATE INDEX gpu_inventory_gpu ON gpu_inventory(gpu_id, valid_from_ms);

-- Sequence numbers seen per (host, boot) as "lo-hi,lo-hi" ranges (idempotent ingest).
CREATE TABLE frame_seen (
  host_id INTEGER NOT NULL,
  boot_id TEXT NOT NULL,
  ranges TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (host_id, boot_id)
) WITHOUT ROWID;

CREATE TABLE rejects (
  host TEXT NOT NULL,
  reason TEXT NOT NULL,
  count INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  PRIMARY KEY (host, reason)
) WITHOUT ROWID;
