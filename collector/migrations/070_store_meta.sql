-- Facts about how this database's rows are laid out, checked at every open (metric-layout.ts).
CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
