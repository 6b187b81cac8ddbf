// The Xids a member of a share group parked (table from collector/migrations/099_parked_xids.sql):
// the flag engine's ParkedXidRecords (collector/flags/types.ts). A row names its events row by the
// event's own key (host, kernel boot, kernel sequence), which the engine's events carry, so the
// event is stored once; a restart reads the parked ones back joined with their events.
import type { Database, Statement } from "better-sqlite3";
import type { XidAction } from "../../shared/xid/xid.js";
import type { ParkedXid, ParkedXidRecords } from "../flags/types.js";
import type { ValidEvent } from "../ingest/validate-event.js";
import { type EventColumns, toEvent } from "./event-store.js";

interface ParkedRow extends EventColumns {
  agent_boot_id: string;
  parked_ms: number;
}

/** The event as ingest handed it to the flag engine (validate-event.ts), from its stored row. */
function toParked(r: ParkedRow): ParkedXid {
  const { id: _id, receivedMs: _receivedMs, action, ...event } = toEvent(r);
  // The action was judged once at ingest and stored as judged (validate-event.ts).
  return {
    event: { ...event, agentBootId: r.agent_boot_id, action: action as XidAction },
    atMs: r.parked_ms,
  };
}

export class ParkedXids implements ParkedXidRecords {
  private statements?: { park: Statement; unpark: Statement };

  constructor(private readonly db: Database) {}

  private prepared() {
    this.statements ??= {
      park: this.db.prepare(
        `INSERT INTO parked_xids (host, kernel_boot_id, kernel_seq, parked_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (host, kernel_boot_id, kernel_seq) DO NOTHING`,
      ),
      unpark: this.db.prepare(
        "DELETE FROM parked_xids WHERE host = ? AND kernel_boot_id = ? AND kernel_seq = ?",
      ),
    };
    return this.statements;
  }

  /** In the caller's transaction (the flag engine's batch). */
  park(event: ValidEvent, atMs: number): void {
    this.prepared().park.run(event.host, event.kernelBootId, event.kernelSeq, atMs);
  }

  /** In the caller's transaction: raised, lapsed or dropped. */
  unpark(events: readonly ValidEvent[]): void {
    const { unpark } = this.prepared();
    for (const e of events) unpark.run(e.host, e.kernelBootId, e.kernelSeq);
  }

  /**
   * The Xids parked at or after sinceMs, in the order they were parked; those parked before it
   * lapsed while the collector was down and go, as do those whose event retention has pruned.
   */
  load(sinceMs: number): ParkedXid[] {
    return this.db.transaction(() => {
      this.db.prepare("DELETE FROM parked_xids WHERE parked_ms < ?").run(sinceMs);
      const rows = this.db
        .prepare(
          `SELECT e.*, p.parked_ms
           FROM parked_xids p
           JOIN events e ON e.host = p.host AND e.kernel_boot_id = p.kernel_boot_id
                        AND e.kernel_seq = p.kernel_seq
           ORDER BY p.rowid`,
        )
        .all() as ParkedRow[];
      this.db
        .prepare(
          `DELETE FROM parked_xids WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.host = parked_xids.host
             AND e.kernel_boot_id = parked_xids.kernel_boot_id AND e.kernel_seq = parked_xids.kernel_seq)`,
        )
        .run();
      return rows.map(toParked);
    })();
  }
}
