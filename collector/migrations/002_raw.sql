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

-- Samples not yet sealed into a block: one append-only row per write batch holding that
-- batch's samples (collector/store/sample.ts writeRecentEntry), so the open windows are on
-- disk once committed while each commit writes a few sequential pages. A row is deleted in
-- the transaction that seals the last of its samples still unsealed.
CREATE TABLE raw_recent (
  id INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
