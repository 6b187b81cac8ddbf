-- Flags history (collector/flags): one row per episode; end_ms NULL while open.
CREATE TABLE IF NOT EXISTS flags (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  host TEXT NOT NULL,
  gpu_uuid TEXT,
  gpu_index INTEGER,
  site TEXT NOT NULL DEFAULT '',
  labels TEXT NOT NULL DEFAULT '{}',
  start_ms INTEGER NOT NULL,
  end_ms INTEGER,
  reason TEXT NOT NULL,
  vals TEXT NOT NULL DEFAULT '{}',
  updated_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS flags_end_ms ON flags (end_ms);
CREATE INDEX IF NOT EXISTS flags_kind ON flags (kind);
CREATE INDEX IF NOT EXISTS flags_host ON flags (host);
CREATE INDEX IF NOT EXISTS flags_start_ms ON flags (start_ms);

-- Rule timers per GPU and host, so a restart continues episodes instead of restarting them.
CREATE TABLE IF NOT EXISTS flag_rule_state (
  key TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
