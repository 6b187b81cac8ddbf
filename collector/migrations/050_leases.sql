-- Leases: one device (GPU, or a MIG device of one) rented to one tenant for [start_ms, end_ms),
-- end_ms NULL while open. Money and percentages are integers (exact sums in statements).
CREATE TABLE leases (
  id TEXT PRIMARY KEY,
  device TEXT NOT NULL,             -- GPU or MIG device UUID
  gpu_uuid TEXT NOT NULL,           -- the physical GPU (= device for a whole GPU)
  tenant TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER,
  contract TEXT,
  price_micros INTEGER,             -- per GPU-hour, millionths of the currency unit
  currency TEXT,                    -- ISO 4217
  availability_milli INTEGER,       -- committed availability, thousandths of a percent
  labels TEXT NOT NULL DEFAULT '{}',
  source TEXT NOT NULL,             -- api | import | label
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  CHECK (end_ms IS NULL OR end_ms > start_ms),
  CHECK (price_micros IS NULL OR price_micros >= 0)
);
-- "In force on device d at t" is the last lease of d started at or before t (leases of one device
-- never overlap): one index seek. Overlap checks scan one GPU's leases started before the end.
CREATE INDEX leases_device_start ON leases(device, start_ms);
CREATE INDEX leases_gpu_start ON leases(gpu_uuid, start_ms);
CREATE INDEX leases_tenant_start ON leases(tenant, start_ms);
CREATE INDEX leases_start ON leases(start_ms);
CREATE INDEX leases_end ON leases(end_ms);

-- Every change to a lease: who, what, when, the lease before and after (JSON; NULL when absent).
-- No foreign key: a deleted lease keeps its history.
CREATE TABLE lease_history (
  id INTEGER PRIMARY KEY,
  lease_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,             -- create | edit | end | delete
  before TEXT,
  after TEXT
);
CREATE INDEX lease_history_lease ON lease_history(lease_id, id);

-- API tokens with a role (admin, viewer, tenant:<name>). Only the SHA-256 of the token is kept.
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  digest TEXT NOT NULL UNIQUE,      -- hex SHA-256 of the whole token
  note TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER
);
