// The agent's durable spool: every frame is written here before it is published and deleted only
// when its PUBACK arrives (docs/design.md §4; mqtt.js's in-memory store is not the source of truth, §9).
//
//   Spool.open({ path, maxBytes?, logger, now?, synchronous?, backlog?, checkOnOpen?, maxPageCount? }): Spool
//   spool.append({ seq, bootId, timestampMs, payload }): number     id; durable when it returns
//   spool.reconnected(): void                  on EVERY connect, the first included: what is pending
//                                              becomes backlog, frames appended from now on are live
//   spool.nextLive(max = 1): SpoolEntry[]       live frames not yet handed out, oldest first, one
//                                              message each, not rate limited
//   spool.nextBacklog(): BacklogPoll            { kind: "batch", entries, bytes } of the oldest backlog
//                                              frames | { kind: "wait", waitMs } (rate limit) | { kind: "empty" }
//   spool.ack(ids): number                      PUBACK arrived: they leave the spool (returns how many)
//   spool.flushAcked(): number                  deletes acknowledged frames from the file now
//   spool.nack(ids) / spool.nackAll(): number   connection lost before PUBACK: pending again
//   spool.takeDroppedSinceReport(): number      frames dropped by the bound since the last call
//   spool.droppedTotal, spool.stats(): SpoolStats, spool.close()
//
// Policy: frames are live or backlog by id (see replay-state.ts). Backlog batches hold up to
// backlog.maxFrames (100) frames and backlog.maxBytes (256 KiB less 4 KiB headroom, exact encoded
// FrameBatch size) and go out at backlog.framesPerSecond (200) on average: a token bucket of one
// batch, on the injected clock. Entries handed out are in flight (in memory) until ack/nack; after
// a restart everything still in the file is pending again and is backlog, oldest first. The
// publisher wraps a batch with shared/codec.ts encodeFrameBatchFromEncoded(entries.map((e) => e.payload)).
// Past maxBytes (sum of payload bytes) the oldest frames not in flight are dropped, in the same
// transaction as the append; droppedTotal is persisted, and so is what takeDroppedSinceReport()
// has handed over (with the next append: the frame that carries the count).
//
// Errors: GputelError GPUTEL_E_SPOOL (open failure, full disk, write failure; the spool stays
// usable). A corrupt file (SQLITE_CORRUPT / SQLITE_NOTADB, at open or in use) is moved aside to
// <path>.corrupt-<timestamp>, logged as GPUTEL_E_SPOOL_CORRUPT, and a fresh file takes over.
//
// Durability: WAL with synchronous=NORMAL by default. A returned append survives a crash or SIGKILL
// of the agent; after a power loss the file is consistent but the appends since the last WAL
// checkpoint (at most ~1000 pages, a few minutes of frames at 1 s intervals) may be gone.
// synchronous: "full" fsyncs every append and closes that gap.
import { type ErrorCode, errorMessage, GputelError } from "../../shared/errors.js";
import { type Logger, LogThrottle } from "../../shared/logger.js";
import { TokenBucket } from "../../shared/token-bucket.js";
import {
  addToBatch,
  type BatchLimits,
  DEFAULT_BATCH_MAX_BYTES,
  DEFAULT_BATCH_MAX_FRAMES,
} from "./batch-plan.js";
import { excessBytes, planEviction } from "./bound.js";
import { isCorruptError, isFullError } from "./corrupt.js";
import { RecentFrames } from "./recent-frames.js";
import { ReplayState, type Stream } from "./replay-state.js";
import type { SpoolSynchronous, StoredFrame } from "./spool-db.js";
import { openOrReplace, replaceCorrupt } from "./spool-open.js";
import type { SpoolStore } from "./spool-store.js";

export const DEFAULT_SPOOL_MAX_BYTES = 512 * 1024 * 1024;
export const DEFAULT_BACKLOG_FRAMES_PER_SECOND = 200;

export interface SpoolOptions {
  path: string;
  /** Bound on the sum of stored payload bytes; past it the oldest frames are dropped. */
  maxBytes?: number;
  logger: Logger;
  now?: () => number;
  synchronous?: SpoolSynchronous;
  backlog?: { framesPerSecond?: number; maxFrames?: number; maxBytes?: number };
  /** PRAGMA quick_check when opening an existing file (default true). */
  checkOnOpen?: boolean;
  /** Tests: SQLite max_page_count, to simulate a full disk. */
  maxPageCount?: number;
}

export interface SpoolFrame {
  seq: number;
  bootId: string;
  timestampMs: number;
  /** The encoded protobuf Frame. */
  payload: Uint8Array;
}

export type SpoolEntry = StoredFrame;

export type BacklogPoll =
  | { kind: "batch"; entries: SpoolEntry[]; bytes: number }
  | { kind: "wait"; waitMs: number }
  | { kind: "empty" };

export interface SpoolStats {
  pendingFrames: number;
  pendingBytes: number;
  inFlightFrames: number;
  inFlightBytes: number;
  maxBytes: number;
  droppedTotal: number;
  droppedSinceOpen: number;
  corruptRecoveries: number;
}

export class Spool {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly batchLimits: BatchLimits;
  private readonly fullLog: LogThrottle;
  private readonly bucket: TokenBucket;
  /** While the rate says wait, polls answer from this deadline instead of re-reading a batch. */
  private backlogNotBefore = 0;
  private droppedSinceOpen = 0;
  /** Frames dropped by the bound since the last log line about it (that line is once a minute). */
  private droppedSinceLog = 0;
  private corruptRecoveries = 0;
  private closed = false;
  /** Appends since open: whether the acknowledged frames have left the file with one since. */
  appendCount = 0;
  /** The newest frames as appended: what live (and a short backlog) is served from. */
  private readonly recent: RecentFrames;

  private constructor(
    private store: SpoolStore,
    private readonly state: ReplayState,
    private readonly options: Required<Pick<SpoolOptions, "maxBytes" | "path">> & SpoolOptions,
  ) {
    this.log = options.logger.child({ component: "agent.spool" });
    this.now = options.now ?? Date.now;
    this.batchLimits = {
      maxFrames: options.backlog?.maxFrames ?? DEFAULT_BATCH_MAX_FRAMES,
      maxBytes: options.backlog?.maxBytes ?? DEFAULT_BATCH_MAX_BYTES,
    };
    this.fullLog = new LogThrottle(60_000, this.now);
    // Capacity of one full batch: batches go out whole, at the configured average rate.
    const rate = options.backlog?.framesPerSecond ?? DEFAULT_BACKLOG_FRAMES_PER_SECOND;
    this.bucket = new TokenBucket(rate, Math.max(1, this.batchLimits.maxFrames));
    this.recent = new RecentFrames(store.lastId + 1);
  }

  /** Opens or creates the spool; a corrupt file is moved aside and a fresh one started. */
  static open(options: SpoolOptions): Spool {
    const maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    if (!(maxBytes > 0))
      throw new GputelError("GPUTEL_E_SPOOL", "Spool maxBytes must be positive", { maxBytes });
    const full = { ...options, maxBytes };
    const store = openOrReplace(full, options.logger.child({ component: "agent.spool" }));
    return new Spool(store, new ReplayState(store.lastId + 1), full);
  }

  get droppedTotal(): number {
    return this.store.droppedTotal;
  }

  stats(): SpoolStats {
    return {
      pendingFrames: this.store.count,
      pendingBytes: this.store.bytes,
      inFlightFrames: this.state.inFlightCount,
      inFlightBytes: this.state.inFlightBytes,
      maxBytes: this.options.maxBytes,
      droppedTotal: this.store.droppedTotal,
      droppedSinceOpen: this.droppedSinceOpen,
      corruptRecoveries: this.corruptRecoveries,
    };
  }

  /** Stores a frame (dropping the oldest past the bound) and returns its id. Throws GPUTEL_E_SPOOL. */
  append(frame: SpoolFrame): number {
    this.assertOpen();
    const size = frame.payload.byteLength;
    if (size > this.options.maxBytes) {
      throw new GputelError("GPUTEL_E_SPOOL", "Frame is larger than the spool bound", {
        bytes: size,
        maxBytes: this.options.maxBytes,
      });
    }
    // On a corrupt file the frame goes into the fresh one: the newest frame is not lost with the rest.
    const write = () => this.appendOnce(frame, size);
    return this.guard("append", write, write);
  }

  /** Everything pending now is backlog; frames appended from now on are live. */
  reconnected(): void {
    this.state.reconnected(this.store.lastId + 1);
  }

  /** Up to `max` live frames not yet handed out, oldest first; they are in flight until ack/nack. */
  nextLive(max = 1): SpoolEntry[] {
    this.assertOpen();
    return this.guard(
      "read",
      () => this.pick("live", { maxFrames: max, maxBytes: Number.MAX_SAFE_INTEGER }).entries,
      () => [],
    );
  }

  /** The next backlog batch (oldest first, within the batch limits) if the rate allows it now. */
  nextBacklog(): BacklogPoll {
    this.assertOpen();
    return this.guard(
      "read",
      (): BacklogPoll => {
        const now = this.now();
        if (now < this.backlogNotBefore) return { kind: "wait", waitMs: this.backlogNotBefore - now };
        const batch = this.pick("backlog", this.batchLimits, false);
        if (batch.entries.length === 0) return { kind: "empty" };
        if (!this.bucket.tryTake(batch.entries.length, now)) {
          const waitMs = Math.max(1, this.bucket.waitMs(batch.entries.length, now));
          this.backlogNotBefore = now + waitMs;
          return { kind: "wait", waitMs };
        }
        this.state.handOut(
          "backlog",
          batch.entries.map((e) => ({ id: e.id, size: e.payload.byteLength })),
        );
        return { kind: "batch", entries: batch.entries, bytes: batch.bytes };
      },
      (): BacklogPoll => ({ kind: "empty" }),
    );
  }

  /**
   * PUBACK arrived: the frames leave the spool (deleted from the file with the next append). Ids
   * not handed out are deleted now; throws GPUTEL_E_SPOOL if that delete fails.
   */
  ack(ids: Iterable<number>): number {
    this.assertOpen();
    const list = [...ids];
    return this.guard(
      "ack",
      () => {
        this.recent.remove(list);
        const settled = this.state.settle(list);
        this.store.release(settled);
        let deleted = 0;
        if (settled.size !== list.length) {
          const others = list.filter((id) => !settled.has(id) && !this.store.isReleased(id));
          deleted = this.wrapWrite("ack", () => this.store.deleteIds(others));
        }
        this.giveBackPages();
        return settled.size + deleted;
      },
      () => {
        this.state.settle(list);
        return 0;
      },
    );
  }

  /** Acknowledged frames not yet deleted from the file. */
  get ackedInFile(): number {
    return this.store.releasedCount;
  }

  /** Deletes the acknowledged frames from the file now (the next append would); returns how many. */
  flushAcked(): number {
    if (this.closed || this.store.releasedCount === 0) return 0;
    return this.guard(
      "ack",
      () => this.wrapWrite("ack", () => this.store.flushReleased()),
      () => 0,
    );
  }

  nack(ids: Iterable<number>): number {
    return this.state.nack(ids);
  }

  nackAll(): number {
    return this.state.nackAll();
  }

  /** Frames dropped by the bound since the last call (persisted with the next append). */
  takeDroppedSinceReport(): number {
    return this.store.takeUnreported();
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flushAcked();
    } catch (error) {
      // They are sent again after the restart, and stored once.
      this.log.warn({ err: errorMessage(error) }, "Could not delete acknowledged frames at close");
    }
    this.closed = true;
    this.store.close();
  }

  /**
   * A drained spool gives its pages back. That is housekeeping: on a full disk it fails, and the
   * acknowledgement that triggered it still stands (the frames go with the next write that can).
   */
  private giveBackPages(): void {
    try {
      this.store.vacuumIfDrained();
    } catch (error) {
      if (isCorruptError(error)) throw error;
      const suppressed = this.fullLog.admit("vacuum");
      if (suppressed !== undefined) {
        this.log.warn(
          {
            code: "GPUTEL_E_SPOOL",
            path: this.options.path,
            reason: errorMessage(error),
            suppressed,
          },
          "Could not delete the drained spool's acknowledged frames; they go with the next write",
        );
      }
    }
  }

  private appendOnce(frame: SpoolFrame, size: number): number {
    const need = excessBytes(this.store.bytes, size, this.options.maxBytes);
    const evict = need > 0 ? this.chooseEvictions(need) : [];
    const id = this.wrapWrite("append", () => this.store.insert(frame, size, evict));
    this.appendCount += 1;
    this.recent.add({
      id,
      bootId: frame.bootId,
      seq: frame.seq,
      timestampMs: frame.timestampMs,
      payload: frame.payload,
    });
    if (evict.length > 0) {
      this.recent.remove(evict);
      this.state.settle(evict);
      this.droppedSinceOpen += evict.length;
      this.droppedSinceLog += evict.length;
      if (this.fullLog.admit("bound") !== undefined) {
        const dropped = this.droppedSinceLog;
        this.droppedSinceLog = 0;
        this.log.warn(
          {
            dropped,
            droppedTotal: this.store.droppedTotal,
            maxBytes: this.options.maxBytes,
          },
          "Spool bound reached; dropping the oldest frames",
        );
      }
    }
    return id;
  }

  /**
   * Oldest first, sparing frames in flight unless nothing else is left. Acknowledged frames still
   * in the file are no candidates: they are out of the bytes already and go in the same transaction.
   */
  private chooseEvictions(need: number): number[] {
    const released = (id: number) => this.store.isReleased(id);
    const spare = (id: number) => this.state.isInFlight(id) || released(id);
    let plan = planEviction(this.store.oldestSizes(need, spare), need, spare);
    if (plan.short) plan = planEviction(this.store.oldestSizes(need, released), need, released);
    return plan.ids;
  }

  private pick(
    stream: Stream,
    limits: BatchLimits,
    handOut = true,
  ): { entries: SpoolEntry[]; bytes: number } {
    const { from, below } = this.state.range(stream);
    const batch = { count: 0, bytes: 0 };
    const entries: SpoolEntry[] = [];
    const rows = this.recent.covers(from) ? this.recent.between(from, below) : this.store.scan(from, below);
    let exhausted = true;
    for (const row of rows) {
      if (this.state.isInFlight(row.id) || this.store.isReleased(row.id)) continue;
      if (!addToBatch(batch, row.payload.byteLength, limits)) {
        exhausted = false;
        break;
      }
      entries.push(row);
    }
    if (stream === "backlog" && exhausted && entries.length === 0) this.state.backlogExhausted(below);
    if (handOut)
      this.state.handOut(
        stream,
        entries.map((e) => ({ id: e.id, size: e.payload.byteLength })),
      );
    return { entries, bytes: batch.bytes };
  }

  private wrapWrite<T>(what: string, write: () => T): T {
    try {
      return write();
    } catch (error) {
      if (isCorruptError(error)) throw error;
      const code: ErrorCode = "GPUTEL_E_SPOOL";
      const message = isFullError(error) ? "Spool disk is full" : `Spool ${what} failed`;
      throw new GputelError(
        code,
        message,
        { path: this.options.path, reason: errorMessage(error) },
        { cause: error },
      );
    }
  }

  /** Runs `use`; on a corrupt file, moves it aside, starts a fresh one and runs `afterRecovery`. */
  private guard<T>(what: string, use: () => T, afterRecovery: () => T): T {
    try {
      return use();
    } catch (error) {
      if (!isCorruptError(error)) throw error;
      this.recover(what, error);
      return afterRecovery();
    }
  }

  private recover(what: string, error: unknown): void {
    const lost = this.store.count;
    const carried = this.store.carryOver();
    this.store.close();
    this.store = replaceCorrupt(this.options, this.log, error, { during: what, framesLost: lost }, carried);
    this.state.reset();
    this.recent.reset(this.store.lastId + 1);
    this.corruptRecoveries += 1;
  }

  private assertOpen(): void {
    if (this.closed) throw new GputelError("GPUTEL_E_SPOOL", "Spool is closed", { path: this.options.path });
  }
}
