-- MIG devices (issue 17): each GPU's MIG devices as its latest inventory lists them, replaced on
-- every inventory of that GPU (none when MIG is off). A lease may name one by its uuid (issue 15).
CREATE TABLE mig_devices (
  gpu_id INTEGER NOT NULL REFERENCES gpus(id),
  device_index INTEGER NOT NULL,
  -- MIG-…; '' when the agent's nvidia-smi -L did not answer
  uuid TEXT NOT NULL,
  -- e.g. 1g.10gb; '' when -L did not answer
  profile TEXT NOT NULL,
  gpu_instance_id INTEGER NOT NULL,
  compute_instance_id INTEGER NOT NULL,
  sm_count INTEGER,
  memory_total_mib INTEGER,
  -- as of the inventory (nvidia-smi reports no utilization per MIG instance)
  memory_used_mib INTEGER,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (gpu_id, device_index)
) WITHOUT ROWID;
CREATE INDEX mig_devices_uuid ON mig_devices (uuid) WHERE uuid <> '';
