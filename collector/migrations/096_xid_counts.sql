-- Running Xid counts per GPU, code and action: what /metrics exposes as gputel_xid_events_total
-- and gputel_gpu_xid_events_total. Raised when an event is first stored (a re-sent one changes
-- nothing), never lowered when events retention prunes the events themselves, so a Prometheus
-- counter does not fall while the collector runs nor across its restarts.
CREATE TABLE xid_counts (
  host TEXT NOT NULL,
  -- '' for a bus id the host's inventory did not know (events.gpu_uuid NULL): one key per such
  -- group, where NULL would make every row distinct
  gpu_uuid TEXT NOT NULL,
  code INTEGER NOT NULL,
  action TEXT NOT NULL,
  application_level INTEGER NOT NULL,
  -- the GPU's index as the last stored event that named one gave it (for the events counted in
  -- below, the largest they name): a label for /metrics, not part of the key
  gpu_index INTEGER,
  count INTEGER NOT NULL,
  PRIMARY KEY (host, gpu_uuid, code, action, application_level)
) WITHOUT ROWID;

-- The events already stored are counted in.
INSERT INTO xid_counts (host, gpu_uuid, code, action, application_level, gpu_index, count)
  SELECT host, COALESCE(gpu_uuid, ''), code, action, application_level, MAX(gpu_index), COUNT(*)
  FROM events WHERE kind = 'xid'
  GROUP BY host, COALESCE(gpu_uuid, ''), code, action, application_level;
