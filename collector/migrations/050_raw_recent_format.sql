-- raw_recent rows say how their data is written (collector/store/sample.ts readRecentRow):
-- 1, rows from before issue 19, the entries bare; 2, the entries deflated.
ALTER TABLE raw_recent ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
