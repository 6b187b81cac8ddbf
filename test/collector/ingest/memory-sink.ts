// The one in-memory IngestSink test double for ingest tests (the storage boundary mocked in exactly
// one file). Idempotent on (host, boot, seq) like the real store; failures and slowness injectable.

import type { EventWriteResult, IngestSink, WriteResult } from "../../../collector/ingest/sink.js";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import type { ValidEvent } from "../../../collector/ingest/validate-event.js";
import type { IInventory, IStatus } from "../../../shared/proto.js";

export class MemorySink implements IngestSink {
  readonly frames: ValidFrame[] = [];
  readonly statuses: IStatus[] = [];
  readonly inventories: IInventory[] = [];
  readonly rejects = new Map<string, number>();
  /** Number of writeFrames calls, successful or not. */
  calls = 0;
  commits = 0;
  rejectCalls = 0;
  /** While > 0, each writeFrames call throws and decrements it. */
  failNext = 0;
  /** While true, every write throws (a full disk). */
  failing = false;
  /** Synchronous delay per writeFrames call (a slow fsync), in ms. */
  delayMs = 0;
  private readonly keys = new Set<string>();

  writeFrames(frames: readonly ValidFrame[], _receivedAtMs: number): WriteResult {
    this.calls += 1;
    if (this.delayMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, this.delayMs);
    if (this.failing || this.failNext > 0) {
      this.failNext = Math.max(0, this.failNext - 1);
      throw new Error("SQLITE_FULL: database or disk is full");
    }
    let stored = 0;
    for (const frame of frames) {
      const key = `${frame.host}/${frame.boot_id}/${frame.seq}`;
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      this.frames.push(frame);
      stored += 1;
    }
    this.commits += 1;
    return { stored, duplicates: frames.length - stored };
  }

  writeInventory(inventory: IInventory): void {
    if (this.failing) throw new Error("SQLITE_FULL: database or disk is full");
    this.inventories.push(inventory);
  }

  writeStatus(status: IStatus): void {
    if (this.failing) throw new Error("SQLITE_FULL: database or disk is full");
    this.statuses.push(status);
  }

  readonly events: ValidEvent[] = [];

  writeEvents(events: readonly ValidEvent[]): EventWriteResult {
    if (this.failing) throw new Error("SQLITE_FULL: database or disk is full");
    const fresh: ValidEvent[] = [];
    for (const event of events) {
      const key = `event/${event.host}/${event.kernelBootId}/${event.kernelSeq}`;
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      fresh.push(event);
    }
    this.events.push(...fresh);
    return { stored: fresh.length, duplicates: events.length - fresh.length, fresh };
  }

  /** Keeps every event, however old. */
  eventHorizonMs(): number {
    return Number.NEGATIVE_INFINITY;
  }

  countReject(host: string, reason: string, count = 1): void {
    this.rejectCalls += 1;
    const key = `${host}:${reason}`;
    this.rejects.set(key, (this.rejects.get(key) ?? 0) + count);
  }

  rejectCount(reason: string): number {
    let total = 0;
    for (const [key, n] of this.rejects) if (key.endsWith(`:${reason}`)) total += n;
    return total;
  }

  has(host: string, seq: number): boolean {
    return this.frames.some((f) => f.host === host && f.seq === seq);
  }
}
