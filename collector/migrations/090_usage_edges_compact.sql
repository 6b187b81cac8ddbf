-- Usage edges (080) without their time index: retention now deletes each GPU's expired rows by
-- primary key, one sweep per parent bucket that passes (collector/store/usage-edges-prune.ts).
-- The index cost about 40 % of the edges' bytes and one more B-tree write per row.
-- The rows themselves are now written as varints (usage-edges.ts); the store rebuilds them from
-- the rollups at open, as store_meta's usage_edges_steps no longer names their format.
DROP INDEX IF EXISTS usage_edges_time;
