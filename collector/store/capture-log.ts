// The exporter's on-disk queue and cursor (collector/migrations/030_remote_write.sql). A trigger
// copies each raw_recent row the store inserts into remote_write_log in the store's own
// transaction, so "committed" and "queued for remote_write" are one and the same; the store's
// code is untouched. The cursor moves, and sent rows are deleted, in one transaction.
import type { Database } from "better-sqlite3";

const TRIGGER = `CREATE TRIGGER IF NOT EXISTS remote_write_capture AFTER INSERT ON raw_recent
BEGIN INSERT INTO remote_write_log (data, format) VALUES (NEW.data, NEW.format); END`;

export interface LogRow {
  id: number;
  data: Buffer;
  /** raw_recent's row format (sample.ts readRecentRow). */
  format: number;
}

export interface CursorRow {
  lastId: number;
  samplesSent: number;
  samplesDropped: number;
}

export class CaptureLog {
  private readonly statements: ReturnType<typeof prepare>;

  constructor(
    private readonly db: Database,
    private readonly name = "default",
  ) {
    this.statements = prepare(db);
  }

  /** Starts copying committed samples (idempotent). */
  enable(): void {
    this.db.exec(TRIGGER);
  }

  /** Stops copying and forgets what was queued (remote_write switched off). */
  disable(): void {
    this.db.transaction(() => {
      this.db.exec("DROP TRIGGER IF EXISTS remote_write_capture");
      this.db.exec("DELETE FROM remote_write_log");
    })();
  }

  cursor(): CursorRow {
    const row = this.statements.cursor.get(this.name) as CursorRow | undefined;
    return row ?? { lastId: 0, samplesSent: 0, samplesDropped: 0 };
  }

  /** Up to maxRows rows after the cursor, oldest first. */
  read(afterId: number, maxRows: number): LogRow[] {
    return this.statements.read.all(afterId, maxRows) as LogRow[];
  }

  /** Rows waiting to be sent. */
  pending(afterId: number): number {
    return (this.statements.pending.get(afterId) as { n: number }).n;
  }

  /** Moves the cursor to toId and deletes the rows up to it; adds to the persisted counters. */
  advance(toId: number, sent: number, dropped: number, nowMs: number): void {
    this.db.transaction(() => {
      this.statements.advance.run(this.name, toId, nowMs, sent, dropped);
      this.statements.deleteUpTo.run(toId);
    })();
  }

  /**
   * Keeps the queue bounded while the receiver is away: past maxRows, the oldest rows are
   * skipped (cursor moved past them, rows deleted). Returns the rows dropped.
   */
  trim(afterId: number, maxRows: number, nowMs: number): { rows: number; toId: number } {
    // Ids only grow (AUTOINCREMENT), so the newest id bounds the queue's length: the exact
    // count, a scan of the whole queue, is needed only when that bound is past maxRows.
    const newest = (this.statements.newestId.get() as { id: number | null }).id ?? afterId;
    if (newest - afterId <= maxRows) return { rows: 0, toId: afterId };
    const excess = this.pending(afterId) - maxRows;
    if (excess <= 0) return { rows: 0, toId: afterId };
    const toId = (this.statements.nthAfter.get(afterId, excess - 1) as { id: number }).id;
    this.advance(toId, 0, 0, nowMs);
    return { rows: excess, toId };
  }
}

function prepare(db: Database) {
  return {
    cursor: db.prepare(
      "SELECT last_id AS lastId, samples_sent AS samplesSent, samples_dropped AS samplesDropped FROM remote_write_cursor WHERE name = ?",
    ),
    read: db.prepare("SELECT id, data, format FROM remote_write_log WHERE id > ? ORDER BY id LIMIT ?"),
    pending: db.prepare("SELECT count(*) AS n FROM remote_write_log WHERE id > ?"),
    newestId: db.prepare("SELECT max(id) AS id FROM remote_write_log"),
    nthAfter: db.prepare("SELECT id FROM remote_write_log WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?"),
    advance: db.prepare(
      `INSERT INTO remote_write_cursor (name, last_id, updated_ms, samples_sent, samples_dropped)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET last_id = max(last_id, excluded.last_id), updated_ms = excluded.updated_ms,
         samples_sent = samples_sent + excluded.samples_sent, samples_dropped = samples_dropped + excluded.samples_dropped`,
    ),
    deleteUpTo: db.prepare("DELETE FROM remote_write_log WHERE id <= ?"),
  };
}
