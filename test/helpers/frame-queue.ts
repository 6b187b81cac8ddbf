// An in-memory FrameQueue for publisher tests: hands out the given messages once and records
// which were acknowledged. No spool, no disk.
import type { FrameQueue, QueuedMessage } from "../../agent/publish/frame-queue.js";

export function memoryQueue(messages: QueuedMessage[] = []): FrameQueue & { acked: number[] } {
  const waiting = [...messages];
  const acked: number[] = [];
  return {
    acked,
    append: () => {},
    take: (max) => waiting.splice(0, max),
    ack: (ids) => {
      acked.push(...ids);
    },
    nack: () => {},
    markReconnected: () => {},
    msUntilMore: () => (waiting.length ? 0 : undefined),
    droppedTotal: () => 0,
    pending: () => waiting.length,
    close: () => {},
  };
}
