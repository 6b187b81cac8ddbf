// What the publisher needs from the durable spool (agent/spool): frames go in before they are
// published and leave only when their PUBACK arrives.
import type { IFrame } from "../../shared/proto.js";

export interface QueuedMessage {
  /** Spool ids of the frames in this message (one for a live frame, many for a backlog batch). */
  ids: number[];
  /** Encoded FrameBatch. */
  payload: Uint8Array;
}

/** A durable queue of one topic's messages (frames, or kernel-log events): what the publisher pumps. */
export interface MessageQueue {
  /** Up to `max` messages to publish now (live first, then backlog within its rate limit). */
  take(max: number): QueuedMessage[];
  /** PUBACK received: forget these frames. */
  ack(ids: readonly number[]): void;
  /** Not acknowledged (connection lost, refused): hand them out again later, oldest first. */
  nack(ids: readonly number[]): void;
  /** Called on every (re)connection: frames older than this are backlog from now on. */
  markReconnected(): void;
  /** Milliseconds until `take` may return more (backlog rate limit), or undefined if nothing waits. */
  msUntilMore(): number | undefined;
  /** Frames dropped by the bound over the spool's life (persisted across restarts). */
  droppedTotal(): number;
  /** Frames waiting (not acknowledged). */
  pending(): number;
  close(): void;
}

export interface FrameQueue extends MessageQueue {
  /** Stores the frame durably; returns once it is on disk. */
  append(frame: IFrame, encodedFrame: Uint8Array): void;
}
