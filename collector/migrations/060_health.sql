-- GPU health (issue 16): kernel-log events (Xid, SXid) from the agents' kernel-log source, stored
-- once per (host, kernel boot, kernel sequence) however often an agent re-sends them.
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  host TEXT NOT NULL,
  kernel_boot_id TEXT NOT NULL,
  kernel_seq INTEGER NOT NULL,
  -- 'xid' (a GPU's) or 'sxid' (an NVSwitch's)
  kind TEXT NOT NULL,
  code INTEGER NOT NULL,
  pci_bus_id TEXT NOT NULL,
  -- NULL when the agent's inventory did not know the bus id
  gpu_uuid TEXT,
  gpu_index INTEGER,
  pid INTEGER,
  process_name TEXT,
  message TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  source TEXT NOT NULL,
  agent_boot_id TEXT NOT NULL,
  -- NVIDIA's catalogue action, normalised (shared/xid/types.ts), and its application-level mark
  action TEXT NOT NULL,
  application_level INTEGER NOT NULL,
  UNIQUE (host, kernel_boot_id, kernel_seq)
);
CREATE INDEX events_time ON events (time_ms);
CREATE INDEX events_gpu_time ON events (gpu_uuid, time_ms);
CREATE INDEX events_host_time ON events (host, time_ms);
CREATE INDEX events_code_action ON events (kind, code, action);

-- Operators' acknowledgements of flags (`gputel flag ack ID --note …`, POST /api/v1/flags/:id/ack).
CREATE TABLE flag_acks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  flag_id INTEGER NOT NULL,
  host TEXT NOT NULL,
  gpu_uuid TEXT,
  kind TEXT NOT NULL,
  note TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX flag_acks_flag ON flag_acks (flag_id);
CREATE INDEX flag_acks_gpu ON flag_acks (gpu_uuid, at_ms);
