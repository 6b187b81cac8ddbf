// The spool's SQLite file: pragmas, schema and prepared statements (thin; no policy here).
import Database from "better-sqlite3";
import { ensurePrivateDatabase } from "../../shared/private-files.js";

/** "gput" in ASCII: marks a file as a gputel spool, so a mistyped path never writes into another database. */
export const SPOOL_APPLICATION_ID = 0x67707574;
export const SPOOL_SCHEMA_VERSION = 1;

export type SpoolSynchronous = "normal" | "full";

export interface SpoolDbOptions {
  synchronous: SpoolSynchronous;
  /** SQLite's max_page_count for this connection (tests simulate a full disk with it). */
  maxPageCount?: number | undefined;
  /** Run PRAGMA quick_check at open (reads the whole file once). */
  checkOnOpen: boolean;
}

export interface StoredFrame {
  id: number;
  bootId: string;
  seq: number;
  timestampMs: number;
  payload: Uint8Array;
}

/** An SQLite error thrown by us for a failed integrity check, classified like SQLite's own. */
export class SpoolCheckError extends Error {
  readonly code = "SQLITE_CORRUPT";
}

/** Raised when the file is a valid database that is not a spool; never moved aside. */
export class NotASpoolError extends Error {}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    boot_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    size INTEGER NOT NULL,
    payload BLOB NOT NULL
  );
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

export function openSpoolDb(path: string, options: SpoolDbOptions): Database.Database {
  ensurePrivateDatabase(path); // 0600 whatever the umask; SQLite gives -wal and -shm the same mode
  const db = new Database(path);
  try {
    // The first read of the header: a garbage file fails here with SQLITE_NOTADB.
    const applicationId = db.pragma("application_id", { simple: true }) as number;
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number };
    if (applicationId !== SPOOL_APPLICATION_ID && (applicationId !== 0 || tables.n > 0)) {
      throw new NotASpoolError(`${path} is an SQLite database but not a gputel spool`);
    }
    if (options.checkOnOpen && tables.n > 0) {
      const result = db.pragma("quick_check(1)", { simple: true });
      if (result !== "ok") throw new SpoolCheckError(`quick_check: ${String(result)}`);
    }
    // Only effective before the first table exists; lets a drained spool give disk space back.
    if (tables.n === 0) db.pragma("auto_vacuum = INCREMENTAL");
    // Shared locking on purpose: locking_mode = EXCLUSIVE saves the ~6 fcntl() calls of each write
    // transaction (~13 µs a frame, measured 2026-12-05: invisible in agent.cpu_pct, README "Figures")
    // but locks every other reader out while the agent runs (sqlite3 on a live spool, tests).
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    // A WAL that grew during a long backlog is cut back after checkpoints.
    db.pragma("journal_size_limit = 16777216");
    // Reads are sequential at the head and writes at the tail: 2 MiB of page cache is plenty
    // (better-sqlite3 defaults to 16 MiB, memory an agent on every GPU server need not hold).
    db.pragma("cache_size = -2048");
    if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(options.maxPageCount)}`);
    db.exec(SCHEMA);
    if (applicationId === 0) {
      db.pragma(`application_id = ${SPOOL_APPLICATION_ID}`);
      db.pragma(`user_version = ${SPOOL_SCHEMA_VERSION}`);
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

export class SpoolStatements {
  readonly insert: Database.Statement<[string, number, number, number, Uint8Array]>;
  readonly deleteById: Database.Statement<[number], { size: number }>;
  readonly oldest: Database.Statement<[number, number], { id: number; size: number }>;
  readonly scan: Database.Statement<[number, number], StoredFrame>;
  readonly totals: Database.Statement<[], { count: number; bytes: number }>;
  readonly lastId: Database.Statement<[], { seq: number }>;
  readonly updateLastId: Database.Statement<[number]>;
  readonly insertLastId: Database.Statement<[number]>;
  readonly getMeta: Database.Statement<[string], { value: number }>;
  readonly setMeta: Database.Statement<[string, number]>;

  constructor(readonly db: Database.Database) {
    this.insert = db.prepare(
      "INSERT INTO frames (boot_id, seq, timestamp_ms, size, payload) VALUES (?, ?, ?, ?, ?)",
    );
    this.deleteById = db.prepare("DELETE FROM frames WHERE id = ? RETURNING size");
    this.oldest = db.prepare("SELECT id, size FROM frames WHERE id > ? ORDER BY id LIMIT ?");
    this.scan = db.prepare(
      `SELECT id, boot_id AS bootId, seq, timestamp_ms AS timestampMs, payload
       FROM frames WHERE id >= ? AND id < ? ORDER BY id`,
    );
    this.totals = db.prepare("SELECT count(*) AS count, coalesce(sum(size), 0) AS bytes FROM frames");
    this.lastId = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'frames'");
    this.updateLastId = db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'frames'");
    this.insertLastId = db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('frames', ?)");
    this.getMeta = db.prepare("SELECT value FROM meta WHERE key = ?");
    this.setMeta = db.prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
  }

  meta(key: string): number {
    return this.getMeta.get(key)?.value ?? 0;
  }

  /** The id the last append got (0 for a new file); AUTOINCREMENT never hands an id out twice. */
  lastAssignedId(): number {
    return this.lastId.get()?.seq ?? 0;
  }

  /** Continues ids after a replaced file, so a late PUBACK for an old id cannot delete a new frame. */
  continueIdsAfter(lastId: number): void {
    if (this.updateLastId.run(lastId).changes === 0) this.insertLastId.run(lastId);
  }

  /** Gives freed pages back to the file system once a spool has drained (auto_vacuum = INCREMENTAL). */
  releaseFreePages(minPages: number): number {
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    if (free < minPages) return 0;
    this.db.pragma("incremental_vacuum");
    return free;
  }
}
