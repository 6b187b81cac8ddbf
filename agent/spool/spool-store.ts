// The spool's rows and counters: one SQLite file plus the running totals kept in step with it.
// Every write is one transaction, and the in-memory totals change only after it commits, with one
// exception: acknowledged frames (release) leave the totals at once and the file with the next
// write, normally the next append's transaction, so a frame costs one write transaction, not two.
// Until then they are never handed out again; a crash in between resends them after the restart,
// and the collector stores a frame, event or process set once by (host, boot id, seq).
import type Database from "better-sqlite3";
import type { SpoolFrame } from "./spool.js";
import { openSpoolDb, SpoolStatements, type SpoolSynchronous, type StoredFrame } from "./spool-db.js";

/** What survives a corrupt file being replaced: ids go on, and drop counts are not forgotten. */
export interface CarriedCounters {
  lastId: number;
  droppedTotal: number;
  droppedReported: number;
}

export interface StoreOptions {
  path: string;
  synchronous?: SpoolSynchronous;
  checkOnOpen?: boolean;
  maxPageCount?: number;
}

/** Give pages back to the file system once this many bytes were freed and the spool is empty. */
const VACUUM_AFTER_BYTES = 4 * 1024 * 1024;
// At the bound one append usually drops one frame: read a few candidates, not hundreds.
const EVICTION_PAGE = 32;

export class SpoolStore {
  count = 0;
  bytes = 0;
  lastId = 0;
  droppedTotal = 0;
  private droppedReported = 0;
  private countersDirty = false;
  private freedSinceVacuum = 0;
  /** Acknowledged frames (id → size) not yet deleted from the file; already out of count and bytes. */
  private readonly released = new Map<number, number>();

  // Built once: better-sqlite3's transaction() makes four wrappers and their properties per call.
  private readonly inTransaction: <T>(body: () => T) => T;

  private constructor(
    private readonly db: Database.Database,
    private readonly sql: SpoolStatements,
  ) {
    const run = db.transaction((body: () => unknown) => body());
    this.inTransaction = <T>(body: () => T): T => run(body) as T;
  }

  static open(options: StoreOptions, carried?: CarriedCounters): SpoolStore {
    const db = openSpoolDb(options.path, {
      synchronous: options.synchronous ?? "normal",
      checkOnOpen: options.checkOnOpen ?? true,
      maxPageCount: options.maxPageCount,
    });
    try {
      const store = new SpoolStore(db, new SpoolStatements(db));
      store.load(carried);
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Stores one frame and drops `evict` (oldest first) in the same transaction; returns the new id. */
  insert(frame: SpoolFrame, size: number, evict: readonly number[]): number {
    let freed = 0;
    let dropped = 0;
    const id = this.inTransaction(() => {
      // Acknowledged frames first: the pages they free take the new frame on a full disk.
      this.deleteReleased();
      for (const old of evict) {
        const row = this.sql.deleteById.get(old);
        if (row) {
          freed += row.size;
          dropped += 1;
        }
      }
      const result = this.sql.insert.run(frame.bootId, frame.seq, frame.timestampMs, size, frame.payload);
      if (dropped > 0 || this.countersDirty) {
        this.sql.setMeta.run("dropped_total", this.droppedTotal + dropped);
        this.sql.setMeta.run("dropped_reported", this.droppedReported);
      }
      return Number(result.lastInsertRowid);
    });
    this.count += 1 - dropped;
    this.bytes += size - freed;
    this.lastId = id;
    this.droppedTotal += dropped;
    this.countersDirty = false;
    this.released.clear();
    return id;
  }

  /** Acknowledged frames (id → size): out of the totals now, out of the file with the next write. */
  release(frames: ReadonlyMap<number, number>): void {
    for (const [id, size] of frames) {
      this.released.set(id, size);
      this.count -= 1;
      this.bytes -= size;
      this.freedSinceVacuum += size;
    }
  }

  /** Acknowledged, so never to be handed out again, whether or not it is still in the file. */
  isReleased(id: number): boolean {
    return this.released.has(id);
  }

  get releasedCount(): number {
    return this.released.size;
  }

  /** Deletes the acknowledged frames from the file now, in one transaction; returns how many. */
  flushReleased(): number {
    if (this.released.size === 0) return 0;
    const deleted = this.inTransaction(() => this.deleteReleased());
    this.released.clear();
    return deleted;
  }

  /** Deletes frames now; ids already gone (dropped, replaced file) are ignored. */
  deleteIds(ids: readonly number[]): number {
    let freed = 0;
    let deleted = 0;
    this.inTransaction(() => {
      for (const id of ids) {
        const row = this.sql.deleteById.get(id);
        if (row) {
          freed += row.size;
          deleted += 1;
        }
      }
    });
    this.count -= deleted;
    this.bytes -= freed;
    this.freedSinceVacuum += freed;
    return deleted;
  }

  /** The oldest rows (id, size), oldest first, until those `skip` leaves out add up to `need` bytes. */
  oldestSizes(need: number, skip: (id: number) => boolean): { id: number; size: number }[] {
    const rows: { id: number; size: number }[] = [];
    let sum = 0;
    let after = 0;
    while (sum < need) {
      const page = this.sql.oldest.all(after, EVICTION_PAGE);
      const last = page.at(-1);
      if (!last) break;
      for (const row of page) {
        rows.push(row);
        if (!skip(row.id)) sum += row.size;
      }
      after = last.id;
    }
    return rows;
  }

  /** Frames with from <= id < below, oldest first (stop iterating early to stop reading). */
  scan(from: number, below: number): IterableIterator<StoredFrame> {
    return this.sql.scan.iterate(from, below);
  }

  /**
   * Once the spool drained after freeing enough, deletes what is released and gives pages back.
   * Throws when the file cannot be written (a full disk: the deletes need room in the WAL); the
   * released frames then stay released, and it is tried again at the next drained acknowledgement.
   */
  vacuumIfDrained(): void {
    if (this.count !== 0 || this.freedSinceVacuum < VACUUM_AFTER_BYTES) return;
    this.flushReleased();
    this.freedSinceVacuum = 0;
    this.sql.releaseFreePages(256);
  }

  private deleteReleased(): number {
    let deleted = 0;
    for (const id of this.released.keys()) if (this.sql.deleteById.get(id)) deleted += 1;
    return deleted;
  }

  takeUnreported(): number {
    const unreported = this.droppedTotal - this.droppedReported;
    if (unreported > 0) {
      this.droppedReported = this.droppedTotal;
      this.countersDirty = true;
    }
    return unreported;
  }

  carryOver(): CarriedCounters {
    return { lastId: this.lastId, droppedTotal: this.droppedTotal, droppedReported: this.droppedReported };
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // Closing a corrupt file can fail too; it is being moved aside or the process is ending.
    }
  }

  private load(carried: CarriedCounters | undefined): void {
    const totals = this.sql.totals.get() ?? { count: 0, bytes: 0 };
    this.count = totals.count;
    this.bytes = totals.bytes;
    this.lastId = this.sql.lastAssignedId();
    this.droppedTotal = this.sql.meta("dropped_total");
    this.droppedReported = this.sql.meta("dropped_reported");
    if (carried) {
      this.lastId = Math.max(this.lastId, carried.lastId);
      this.sql.continueIdsAfter(this.lastId);
      this.droppedTotal = Math.max(this.droppedTotal, carried.droppedTotal);
      this.droppedReported = Math.max(this.droppedReported, carried.droppedReported);
      this.countersDirty = true;
    }
  }
}
