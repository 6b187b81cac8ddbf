-- Raw tier: sealed per-GPU compressed column blocks (see collector/store/chunk-codec.ts).
-- Blocks of late samples may overlap others in time; readers merge by timestamp.
CREATE TABLE raw_blocks (
  id INTEGER PRIMARY KEY,
  gpu_id INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  -- present metric values in the block (for bytes-per-sample figures)
  values_count INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX raw_blocks_gpu ON raw_blocks(gpu_id, end_ms);
CREATE INDEX raw_blocks_end ON raw_blocks(end_ms);

-- Samples not yet sealed into a block, one row per GPU and timestamp: the open window is on
-- disk once committed. raw = 0 marks a sample older than the raw retention (rollups only).
-- A GPU's rows are deleted in the transaction that seals them.
CREATE TABLE raw_recent (
  gpu_id INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  raw INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (gpu_id, ts_ms)
) WITHOUT ROWID;
