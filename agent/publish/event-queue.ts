// The kernel-log source's events on their way to gputel/v1/<host>/event: each event is written to
// its own durable spool (agent/spool, a file beside the frames' spool) before it is published,
// and leaves it only when the PUBACK of the EventBatch that carried it arrives. Live events go
// out one batch per take; after an outage the backlog goes out oldest first, many per batch.
import { EventBatch, HealthEvent, type IHealthEvent, SCHEMA_VERSION } from "../../shared/proto.js";
import type { Spool, SpoolEntry } from "../spool/spool.js";
import type { MessageQueue, QueuedMessage } from "./frame-queue.js";
import { SpoolMessages } from "./spool-messages.js";

const LIVE_BATCH_EVENTS = 128;

export class EventSpoolQueue extends SpoolMessages implements MessageQueue {
  constructor(
    spool: Spool,
    private readonly identity: { host: string; bootId: string },
  ) {
    super(spool);
  }

  /** Stores the events durably, in order; returns once they are on disk (throws if not). */
  append(events: readonly IHealthEvent[]): void {
    for (const event of events) {
      this.spool.append({
        seq: Number(event.kernel_seq ?? 0),
        bootId: event.kernel_boot_id ?? "",
        timestampMs: Number(event.time_ms ?? 0),
        payload: HealthEvent.encode(event).finish(),
      });
    }
  }

  protected liveMessages(): QueuedMessage[] {
    // A kernel-log line is at most ~1 KiB: 128 of them stay far below the 256 KiB payload limit.
    const live = this.spool.nextLive(LIVE_BATCH_EVENTS);
    return live.length > 0 ? [this.batchMessage(live)] : [];
  }

  protected batchMessage(entries: readonly SpoolEntry[]): QueuedMessage {
    const batch = EventBatch.encode({
      schema_version: SCHEMA_VERSION,
      host: this.identity.host,
      boot_id: this.identity.bootId,
      events: entries.map((entry) => HealthEvent.decode(entry.payload)),
    }).finish();
    return { ids: entries.map((entry) => entry.id), payload: batch };
  }
}
