-- Rollup tiers, one table for all steps. Header columns are summed in SQL by the aggregate
-- query; per-metric count/min/max/sum/last live in data (collector/store/rollup-acc.ts).
-- energy_cwms: power integrated over time in centiwatt x ms (Wh = energy_cwms / 360000000).
CREATE TABLE rollups (
  step_ms INTEGER NOT NULL,
  gpu_id INTEGER NOT NULL,
  bucket_ms INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  busy_ms INTEGER NOT NULL,
  idle_ms INTEGER NOT NULL,
  idle_held_ms INTEGER NOT NULL,
  unknown_ms INTEGER NOT NULL,
  energy_cwms INTEGER NOT NULL,
  energy_idle_cwms INTEGER NOT NULL,
  temp_max INTEGER,
  util_sum INTEGER NOT NULL,
  util_count INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (step_ms, gpu_id, bucket_ms)
) WITHOUT ROWID;
CREATE INDEX rollups_time ON rollups(step_ms, bucket_ms);
