// Another process's write lock (an operator's `sqlite3` shell, a backup, `gputel export`): how
// long the collector's writes wait for it, and how a write that gave up is recognised. Every wait
// blocks the collector's event loop (HTTP, MQTT keepalives, the dashboard), so the writes made on
// it wait briefly and leave the waiting to a timer or to the client (docs/reliability.md).

/**
 * better-sqlite3's default wait, kept for what runs outside the event loop's hot paths (opening
 * the store, migrations, the flag engine's writes right after an ingest commit) and for the CLI's
 * own connections (`gputel token`, `gputel approve-move`), which wait out the collector's commits.
 */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * The wait of ingest's writes, the API's writes and the periodic maintenance: long enough for the
 * collector's own short transactions, short enough that the event loop does not visibly stall.
 */
export const SHORT_BUSY_TIMEOUT_MS = 50;

/** Whether error (or an error it wraps, as GPUTEL_E_STORE does) is SQLite's "database is locked". */
export function isStoreBusy(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("SQLITE_BUSY")) return true;
  }
  return false;
}
