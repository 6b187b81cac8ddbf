-- raw_recent rows say how their data is written (collector/store/sample.ts readRecentRow):
-- 1, rows from before issue 19, the entries bare; 2, the entries deflated. remote_write_log
-- copies each row with its format; the capture trigger is dropped here and created again,
-- copying the format too, when the exporter starts (collector/store/capture-log.ts).
ALTER TABLE raw_recent ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE remote_write_log ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
DROP TRIGGER IF EXISTS remote_write_capture;
