-- Who holds the GPU (issue 17): process sessions from the agents' processes source
-- (gputel/v1/<host>/processes). One row per process life on one GPU or MIG device: (host, GPU,
-- MIG device, pid, start) names it, so a reused pid is a new session. Kept like flags and events:
-- a closed session goes with the longest retention tier.
CREATE TABLE process_sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  host TEXT NOT NULL,
  gpu_uuid TEXT NOT NULL,
  -- '' when the GPU is not partitioned
  mig_uuid TEXT NOT NULL,
  pid INTEGER NOT NULL,
  -- ms since the epoch; 0 when the agent could not read it
  start_ms INTEGER NOT NULL,
  name TEXT NOT NULL,
  uid INTEGER,
  -- the user name (privacy.users keep), the salted token (hash), or NULL (drop)
  user TEXT,
  workload_kind TEXT NOT NULL,
  container_id TEXT,
  pod_uid TEXT,
  job_id TEXT,
  unit TEXT,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  last_memory_mib INTEGER,
  peak_memory_mib INTEGER,
  -- SM share: the mean of the pmon values the sets carried
  sm_pct_sum REAL NOT NULL DEFAULT 0,
  sm_pct_count INTEGER NOT NULL DEFAULT 0,
  -- 1 while the host's newest set lists it
  open INTEGER NOT NULL,
  UNIQUE (host, gpu_uuid, mig_uuid, pid, start_ms)
);
CREATE INDEX process_sessions_gpu ON process_sessions (gpu_uuid, last_seen_ms);
CREATE INDEX process_sessions_open ON process_sessions (open, host);
CREATE INDEX process_sessions_last ON process_sessions (last_seen_ms);

-- The newest process set stored per host: an older one (a replay) extends sessions but closes none.
CREATE TABLE process_sets (
  host TEXT PRIMARY KEY,
  boot_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL
);
