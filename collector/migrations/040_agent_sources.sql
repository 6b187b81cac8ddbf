-- The health of each agent's sources (agent/sources/supervisor/) as its latest status reported
-- it: counters since the agent started, the last error, whether a child is stuck now. A status
-- that lists sources replaces the host's rows; one without (the MQTT last will) leaves them.
CREATE TABLE agent_sources (
  host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  restarts INTEGER NOT NULL,
  timeouts INTEGER NOT NULL,
  exits INTEGER NOT NULL,
  stuck_children INTEGER NOT NULL,
  start_failures INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  last_error_ms INTEGER NOT NULL,
  stuck INTEGER NOT NULL,
  -- the status's own timestamp (agent clock): an older status never replaces a newer one
  reported_ms INTEGER NOT NULL,
  PRIMARY KEY (host_id, source)
) WITHOUT ROWID;
