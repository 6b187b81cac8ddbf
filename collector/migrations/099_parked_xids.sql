-- Xids a member of a share group parked (collector/flags/engine.ts, park): an Xid of a GPU whose
-- host's frames no member held yet waits limits.gpu_move_hold for the host's first frame to reach
-- this member, which then raises it. Kept here, not only in memory, so that a restart within
-- gpu_move_hold still raises it. The event itself is the events row of the same key.
CREATE TABLE parked_xids (
  host TEXT NOT NULL,
  kernel_boot_id TEXT NOT NULL,
  kernel_seq INTEGER NOT NULL,
  -- collector clock when the Xid arrived: it lapses gpu_move_hold after
  parked_ms INTEGER NOT NULL,
  PRIMARY KEY (host, kernel_boot_id, kernel_seq)
);
