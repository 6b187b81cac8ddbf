-- Cumulative usage per GPU at rollup bucket edges (collector/store/usage-edges.ts): a range's
-- usage is the difference of two edges, so a report reads a few rows per GPU, not every bucket.
-- A row at edge_ms holds the sums of the tier's buckets of that GPU that start before edge_ms:
-- since the start of the enclosing bucket of the next coarser tier, or, for the
-- coarsest tier, since the start of its 90-day era (so sums stay far below 2^53). A row exists at
-- bucket_ms + step_ms for every stored bucket. Integers only (ms, centiwatt x ms, utilization sum
-- and count), like the rollups, so differences are exact.
-- Filled from the rollups at open when missing or built for other tiers (store_meta key
-- usage_edges_steps), then kept by every merge into the rollups table.
CREATE TABLE usage_edges (
  step_ms INTEGER NOT NULL,
  gpu_id INTEGER NOT NULL,
  edge_ms INTEGER NOT NULL,
  -- The nine sums as little-endian float64 (integers, exact below 2^53): one value to read back,
  -- which a report reads for every GPU a few times (separate columns cost twice as much).
  sums BLOB NOT NULL,
  PRIMARY KEY (step_ms, gpu_id, edge_ms)
) WITHOUT ROWID;
-- Retention finds a fine tier's expired rows by time (prune.ts).
CREATE INDEX usage_edges_time ON usage_edges(step_ms, edge_ms);
