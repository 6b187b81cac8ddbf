// Adapts the durable spool (agent/spool) to the publisher's FrameQueue: live frames go out one per
// message; the backlog goes out oldest first as FrameBatch messages at the spool's rate limit.
import { encodeFrameBatchFromEncoded } from "../../shared/codec.js";
import type { IFrame } from "../../shared/proto.js";
import type { Spool } from "../spool/spool.js";
import type { FrameQueue, QueuedMessage } from "./frame-queue.js";

export class SpoolQueue implements FrameQueue {
  private backlogWaitMs: number | undefined;

  constructor(private readonly spool: Spool) {}

  append(frame: IFrame, encodedFrame: Uint8Array): void {
    this.spool.append({
      seq: Number(frame.seq ?? 0),
      bootId: frame.boot_id ?? "",
      timestampMs: Number(frame.timestamp_ms ?? 0),
      payload: encodedFrame,
    });
  }

  take(max: number): QueuedMessage[] {
    const messages: QueuedMessage[] = this.spool
      .nextLive(max)
      .map((entry) => ({ ids: [entry.id], payload: encodeFrameBatchFromEncoded([entry.payload]) }));
    this.backlogWaitMs = undefined;
    while (messages.length < max) {
      const poll = this.spool.nextBacklog();
      if (poll.kind === "wait") this.backlogWaitMs = poll.waitMs;
      if (poll.kind !== "batch") break;
      messages.push({
        ids: poll.entries.map((entry) => entry.id),
        payload: encodeFrameBatchFromEncoded(poll.entries.map((entry) => entry.payload)),
      });
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
