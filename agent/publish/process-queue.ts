// The processes source's sets on their way to gputel/v1/<host>/processes: each ProcessSet is
// written to its own durable spool (processes.db) before it is published and leaves it only when
// its PUBACK arrives, so sessions that began and ended during a broker outage still reach the
// collector. A set is a snapshot and cannot be merged: every message carries exactly one (the
// spool is opened with backlog batches of one).
import { type IProcessSet, ProcessSet } from "../../shared/proto.js";
import type { SpoolEntry } from "../spool/spool.js";
import type { MessageQueue, QueuedMessage } from "./frame-queue.js";
import { SpoolMessages } from "./spool-messages.js";

export class ProcessSpoolQueue extends SpoolMessages implements MessageQueue {
  /** Stores the set durably; returns once it is on disk (throws if not). */
  append(set: IProcessSet): void {
    this.spool.append({
      seq: Number(set.seq ?? 0),
      bootId: set.boot_id ?? "",
      timestampMs: Number(set.timestamp_ms ?? 0),
      payload: ProcessSet.encode(set).finish(),
    });
  }

  protected liveMessages(max: number): QueuedMessage[] {
    return this.spool.nextLive(max).map((entry) => this.batchMessage([entry]));
  }

  protected batchMessage(entries: readonly SpoolEntry[]): QueuedMessage {
    // Backlog batches hold one entry (Spool opened with backlog.maxFrames 1); the newest wins
    // should a larger batch ever come, and every id is acknowledged with it.
    const last = entries[entries.length - 1];
    return { ids: entries.map((e) => e.id), payload: last?.payload ?? new Uint8Array() };
  }
}
