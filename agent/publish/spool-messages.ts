// What the frame and event queues share: a durable spool (agent/spool) read as publisher messages.
// Live entries go first, then the backlog oldest first at the spool's replay rate; an entry leaves
// the spool only when the PUBACK of the message that carried it arrives. Subclasses say only how
// entries become messages.
import type { Spool, SpoolEntry } from "../spool/spool.js";
import type { QueuedMessage } from "./frame-queue.js";

/**
 * Acknowledged entries leave the file with the next append's transaction; when no append comes
 * (a quiet events spool, a stopped source) they are deleted on their own, between one and two of
 * these after their ack. It bounds what a crash makes the agent send again (stored once by the
 * collector).
 */
export const ACK_FLUSH_MS = 5_000;

export abstract class SpoolMessages {
  private backlogWaitMs: number | undefined;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(protected readonly spool: Spool) {}

  /** The live entries (at most `max` messages' worth) as messages. */
  protected abstract liveMessages(max: number): QueuedMessage[];
  /** One backlog batch as one message. */
  protected abstract batchMessage(entries: readonly SpoolEntry[]): QueuedMessage;

  take(max: number): QueuedMessage[] {
    const messages = this.liveMessages(max);
    this.backlogWaitMs = undefined;
    while (messages.length < max) {
      const poll = this.spool.nextBacklog();
      if (poll.kind === "wait") this.backlogWaitMs = poll.waitMs;
      if (poll.kind !== "batch") break;
      messages.push(this.batchMessage(poll.entries));
    }
    return messages;
  }

  ack(ids: readonly number[]): void {
    this.spool.ack(ids);
    this.scheduleFlush();
  }

  nack(ids: readonly number[]): void {
    this.spool.nack([...ids]);
  }

  markReconnected(): void {
    this.spool.reconnected();
  }

  msUntilMore(): number | undefined {
    return this.backlogWaitMs;
  }

  droppedTotal(): number {
    return this.spool.droppedTotal;
  }

  pending(): number {
    return this.spool.stats().pendingFrames;
  }

  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.spool.close();
  }

  /** Deletes acknowledged entries ACK_FLUSH_MS after an ack unless an append did it meanwhile. */
  private scheduleFlush(): void {
    if (this.flushTimer || this.spool.ackedInFile === 0) return;
    const appendsAtAck = this.spool.appendCount;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (this.spool.appendCount !== appendsAtAck) {
        this.scheduleFlush(); // those went with an append; wait again for the newer ones
        return;
      }
      try {
        this.spool.flushAcked();
      } catch {
        // Kept as acknowledged: the next append's transaction deletes them, and reports its failure.
      }
    }, ACK_FLUSH_MS);
    this.flushTimer.unref();
  }
}
