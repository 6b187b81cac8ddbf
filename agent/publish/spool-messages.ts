// What the frame and event queues share: a durable spool (agent/spool) read as publisher messages.
// Live entries go first, then the backlog oldest first at the spool's replay rate; an entry leaves
// the spool only when the PUBACK of the message that carried it arrives. Subclasses say only how
// entries become messages.
import type { Spool, SpoolEntry } from "../spool/spool.js";
import type { QueuedMessage } from "./frame-queue.js";

export abstract class SpoolMessages {
  private backlogWaitMs: number | undefined;

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
    this.spool.ack([...ids]);
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
    this.spool.close();
  }
}
