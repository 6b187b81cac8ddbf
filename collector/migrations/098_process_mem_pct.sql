-- A process session's memory share (issue 17): the mean of the pmon `mem` values (memory
-- bandwidth utilization, percent) its sets carried, kept as the SM share is (085_processes.sql:
-- a sum and a count, grown only by a newer sighting). Sessions stored before this know none.
ALTER TABLE process_sessions ADD COLUMN mem_pct_sum REAL NOT NULL DEFAULT 0;
ALTER TABLE process_sessions ADD COLUMN mem_pct_count INTEGER NOT NULL DEFAULT 0;
