// Adapts the durable spool (agent/spool) to the publisher's FrameQueue: live frames go out one per
// message; the backlog goes out oldest first as FrameBatch messages at the spool's rate limit.
import { encodeFrameBatchFromEncoded } from "../../shared/codec.js";
import type { IFrame } from "../../shared/proto.js";
import type { SpoolEntry } from "../spool/spool.js";
import type { FrameQueue, QueuedMessage } from "./frame-queue.js";
import { SpoolMessages } from "./spool-messages.js";

export class SpoolQueue extends SpoolMessages implements FrameQueue {
  append(frame: IFrame, encodedFrame: Uint8Array): void {
    this.spool.append({
      seq: Number(frame.seq ?? 0),
      bootId: frame.boot_id ?? "",
      timestampMs: Number(frame.timestamp_ms ?? 0),
      payload: encodedFrame,
    });
  }

  protected liveMessages(max: number): QueuedMessage[] {
    return this.spool
      .nextLive(max)
      .map((entry) => ({ ids: [entry.id], payload: encodeFrameBatchFromEncoded([entry.payload]) }));
  }

  protected batchMessage(entries: readonly SpoolEntry[]): QueuedMessage {
    return {
      ids: entries.map((entry) => entry.id),
      payload: encodeFrameBatchFromEncoded(entries.map((entry) => entry.payload)),
    };
  }
}
