-- Prometheus remote_write (collector/remote-write): a copy of every raw_recent row as the store
-- commits it (one row per write batch: only newly stored samples, arrival order), made by the
-- trigger remote_write_capture, which the exporter creates when remote_write is configured and
-- drops when it is not. raw_recent rows go when sealed; these stay until sent.
-- AUTOINCREMENT: ids never come back after deletes, so the cursor can compare them.
CREATE TABLE remote_write_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  data BLOB NOT NULL
);

-- Where the exporter stopped: every log row with id <= last_id was sent (or dropped).
CREATE TABLE remote_write_cursor (
  name TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  -- counters kept across restarts
  samples_sent INTEGER NOT NULL DEFAULT 0,
  samples_dropped INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
