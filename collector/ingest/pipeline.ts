// Ingest shared by both broker modes: check each message, gather accepted ones into batches
// (max frames or max delay), write a batch with one IngestSink call, then settle every submit.
// A submit resolves only after its rows are committed (or it was rejected and counted), so the
// broker layer acknowledges on resolve. A storage failure holds everything back and retries the
// same batch with backoff; past the retry budget its submits reject so the clients re-send.

import { backoffMs } from "../../shared/backoff.js";
import { errorMessage, GputelError } from "../../shared/errors.js";
import { type Logger, LogThrottle } from "../../shared/logger.js";
import type { IInventory, IStatus } from "../../shared/proto.js";
import { Admission, type ClaimEvent } from "./admission.js";
import { type CheckedMessage, checkMessage } from "./check.js";
import { DEFAULT_LIMITS, type IngestLimits } from "./limits.js";
import { RateGate } from "./rate-gate.js";
import { type Rejection, UNKNOWN_HOST } from "./reasons.js";
import type { FleetView, IngestSink } from "./sink.js";
import { IngestStats, type IngestStatsSnapshot } from "./stats.js";
import type { ValidFrame } from "./validate.js";
import type { ValidEvent } from "./validate-event.js";
import { expiredSetRejections, type ValidProcessSet } from "./validate-processes.js";

/** What became of a submitted message, once it is committed or rejected. */
export interface SubmitResult {
  /** False when nothing of it was stored: it was rejected whole, for the reasons below. */
  stored: boolean;
  /** Every rejection: of the whole message, of some of its frames or GPU entries, of a value. */
  rejections: readonly Rejection[];
}

/** Distinct (host, reason) reject counters held between commits; past it they go under "-". */
const MAX_PENDING_REJECT_KEYS = 1000;

export interface IngestPipelineOptions {
  sink: IngestSink;
  logger: Logger;
  /** Write once this many frames wait (default 2000). */
  maxBatchFrames?: number;
  /** Or once the oldest waiting message is this old (default 2 ms: commits are synchronous, so
   *  whatever arrives during one commit forms the next batch anyway). */
  maxDelayMs?: number;
  /** Beyond this many waiting messages, submits reject at once (default 100,000). */
  maxQueuedMessages?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** How long one batch is retried before its submits reject (default 10 s). */
  retryBudgetMs?: number;
  /** Rejects are logged at most once per period per reason, fleet-wide; storage failures once per period (default 60 s). */
  logPeriodMs?: number;
  /** What one agent may add (default DEFAULT_LIMITS). */
  limits?: IngestLimits;
  /** The store's hosts and GPU owners: with it, limits.max_hosts, max_gpus_per_host and GPU ownership apply. */
  fleet?: FleetView;
  /** Called after each commit with the GPU claims it refused or accepted as moves; errors are logged. */
  onClaims?: (events: readonly ClaimEvent[]) => void;
  maxFutureMs?: number;
  now?: () => number;
  /** Called after each commit with what it stored (the flag engine's one input); errors are logged. */
  onCommitted?: (committed: Committed) => void;
}

/** What one write stored: inventories and statuses (each committed on its own), then frames, then events. */
export interface Committed {
  receivedAtMs: number;
  inventories: readonly IInventory[];
  statuses: readonly IStatus[];
  frames: readonly ValidFrame[];
  /** Kernel-log events newly stored (a re-sent event is not handed on again). */
  events?: readonly ValidEvent[];
  /** Process sets stored (the idle-held flag's holders). */
  processes?: readonly ValidProcessSet[];
}

/** How a submitted message ended, for the broker layer (which refuses what was rejected). */
export interface SubmitResult {
  /** Whether any of it (a frame, the status, the inventory) was committed. */
  stored: boolean;
  /** The message's rejections (one per rejected frame of a batch); empty when all of it was stored. */
  rejections: readonly Rejection[];
}

interface Pending {
  checked: CheckedMessage;
  submittedAt: number;
  resolve: (result: SubmitResult) => void;
  reject: (error: Error) => void;
  admitted?: boolean;
  sideWritten?: boolean;
}

export class IngestPipeline {
  private readonly stats = new IngestStats();
  private readonly log: Logger;
  private readonly rejectLog: LogThrottle;
  private readonly storeLog: LogThrottle;
  private readonly now: () => number;
  private readonly limits: IngestLimits;
  private readonly rate: RateGate;
  private readonly admission: Admission | undefined;
  private queue: Pending[] = [];
  /** Reject counts not yet handed to the sink ("host\u0000reason" → n): written with the next batch. */
  private readonly pendingRejects = new Map<string, number>();
  private queuedFrames = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerIsImmediate = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The batch that retryTimer will try again: stop() settles it, or its submits would never settle. */
  private retrying: Pending[] | undefined;
  private running = false;
  private failingSince: number | undefined;
  private attempts = 0;

  constructor(private readonly options: IngestPipelineOptions) {
    this.now = options.now ?? Date.now;
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.rate = new RateGate(
      this.limits.maxFramesPerSecond,
      this.limits.maxFramesPerBatch,
      2 * this.limits.maxHosts,
    );
    this.admission = options.fleet ? new Admission(options.fleet, this.limits) : undefined;
    this.log = options.logger.child({ component: "collector.ingest" });
    this.rejectLog = new LogThrottle(options.logPeriodMs ?? 60_000, this.now);
    this.storeLog = new LogThrottle(options.logPeriodMs ?? 60_000, this.now);
  }

  start(): void {
    this.running = true;
  }

  /**
   * Commits what waits (one attempt), rejects what cannot be committed, clears timers. A batch
   * waiting for a storage retry, or whose last attempt here fails, is rejected at once, not tried
   * again: not acknowledged, the broker redelivers it after the restart.
   */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    this.timer = this.retryTimer = undefined;
    const left = this.retrying ?? [];
    this.retrying = undefined;
    if ((this.queue.length > 0 || this.pendingRejects.size > 0) && this.failingSince === undefined) {
      const last = this.takeBatch(Number.POSITIVE_INFINITY);
      if (!this.flushOnce(last)) left.push(...last);
    }
    left.push(...this.queue.splice(0));
    this.queuedFrames = 0;
    for (const p of left) p.reject(new GputelError("GPUTEL_E_STORE", "Collector stopping before commit"));
  }

  snapshot(): IngestStatsSnapshot {
    return this.stats.snapshot(this.queue.length, this.failingSince !== undefined);
  }

  /** Latency histogram of submit → commit, for the Prometheus exposition. */
  get commitLatency() {
    return this.stats.commitLatency;
  }

  /**
   * Resolves once the message's rows are committed, or at once when it was rejected (counted,
   * never valid later), with what was rejected and why. Rejects when storage cannot take it: do
   * not acknowledge it then (a storage failure is not a rejection: the client must re-send).
   */
  submit(topic: string, payload: Uint8Array, username: string | undefined): Promise<SubmitResult> {
    if (!this.running) return Promise.reject(new GputelError("GPUTEL_E_STORE", "Ingest is not running"));
    this.stats.messages += 1;
    const submittedAt = this.now();
    const checked = checkMessage(topic, payload, {
      username,
      nowMs: submittedAt,
      maxFutureMs: this.options.maxFutureMs,
      limits: this.limits,
    });
    // Events share the host's frame budget: an Xid storm is bounded like a frame flood.
    if (checked.events.length > 0 && !this.rate.admit(checked.host, checked.events.length, submittedAt)) {
      checked.rejections.push({
        host: checked.host,
        reason: "rate_limited",
        detail: `${checked.events.length} events past limits.max_frames_per_second ${this.limits.maxFramesPerSecond}`,
      });
      checked.events = [];
    }
    if (checked.frames.length > 0 && !this.rate.admit(checked.host, checked.frames.length, submittedAt)) {
      checked.rejections.push({
        host: checked.host,
        reason: "rate_limited",
        detail: `${checked.frames.length} frames past limits.max_frames_per_second ${this.limits.maxFramesPerSecond}`,
      });
      checked.frames = [];
    }
    // A process set, status or inventory costs a write as a frame does: one each from the same budget.
    for (const part of ["processes", "status", "inventory"] as const) {
      if (checked[part] === undefined || this.rate.admit(checked.host, 1, submittedAt)) continue;
      checked.rejections.push({
        host: checked.host,
        reason: "rate_limited",
        detail: `${part} past limits.max_frames_per_second ${this.limits.maxFramesPerSecond}`,
      });
      delete checked[part];
    }
    for (const rejection of checked.rejections) this.countReject(rejection);
    if (!hasContent(checked)) return Promise.resolve({ stored: false, rejections: checked.rejections });
    if (this.queue.length >= (this.options.maxQueuedMessages ?? 100_000)) {
      this.stats.overloaded += 1;
      return Promise.reject(new GputelError("GPUTEL_E_STORE", "Ingest queue full; not acknowledged"));
    }
    return new Promise<SubmitResult>((resolve, reject) => {
      this.queue.push({ checked, submittedAt, resolve, reject });
      this.queuedFrames += checked.frames.length;
      this.schedule();
    });
  }

  private countReject(rejection: Rejection): void {
    this.stats.countReject(rejection.reason);
    // Batched with the next commit: a flood of garbage must not cost a transaction per message.
    let key = `${rejection.host}\u0000${rejection.reason}`;
    if (!this.pendingRejects.has(key) && this.pendingRejects.size >= MAX_PENDING_REJECT_KEYS)
      key = `${UNKNOWN_HOST}\u0000${rejection.reason}`;
    this.pendingRejects.set(key, (this.pendingRejects.get(key) ?? 0) + 1);
    this.schedule();
    // One throttle per reason, not per host: garbage on 10,000 invented host topics is one line.
    const suppressed = this.rejectLog.admit(rejection.reason);
    if (suppressed !== undefined) {
      this.log.warn(
        {
          code: "GPUTEL_E_INGEST_REJECT",
          host: rejection.host,
          reason: rejection.reason,
          detail: rejection.detail,
          suppressed,
        },
        "Message rejected",
      );
    }
  }

  private schedule(): void {
    if (!this.running || this.retryTimer || (this.queue.length === 0 && this.pendingRejects.size === 0))
      return;
    const full = this.queuedFrames >= (this.options.maxBatchFrames ?? 2000);
    if (full && !this.timerIsImmediate) {
      clearTimeout(this.timer);
      this.timerIsImmediate = true;
      this.timer = setTimeout(() => this.flush(), 0);
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.options.maxDelayMs ?? 2);
    }
  }

  private takeBatch(maxFrames: number): Pending[] {
    let frames = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || frames < maxFrames)) {
      frames += this.queue[n]?.checked.frames.length ?? 0;
      n += 1;
    }
    this.queuedFrames -= frames;
    return this.queue.splice(0, n);
  }

  private flush(): void {
    this.timer = undefined;
    this.timerIsImmediate = false;
    if (!this.running || (this.queue.length === 0 && this.pendingRejects.size === 0)) return;
    this.attempt(this.takeBatch(this.options.maxBatchFrames ?? 2000), this.now());
  }

  private attempt(batch: Pending[], firstTryAt: number): void {
    this.retryTimer = undefined;
    this.retrying = undefined;
    if (!this.running) {
      for (const p of batch) p.reject(new GputelError("GPUTEL_E_STORE", "Collector stopping before commit"));
      return;
    }
    if (this.flushOnce(batch)) {
      this.schedule();
      return;
    }
    const delay = backoffMs(
      this.attempts,
      this.options.retryInitialMs ?? 100,
      this.options.retryMaxMs ?? 5000,
    );
    this.attempts += 1;
    if (this.now() - firstTryAt >= (this.options.retryBudgetMs ?? 10_000)) {
      const error = new GputelError("GPUTEL_E_STORE", "Database not writable; message not acknowledged");
      for (const p of batch) p.reject(error);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.flush();
      }, delay);
      return;
    }
    this.retrying = batch;
    this.retryTimer = setTimeout(() => this.attempt(batch, firstTryAt), delay);
  }

  /** One transaction for the batch's frames; true when committed and settled. */
  private flushOnce(batch: Pending[]): boolean {
    const { sink } = this.options;
    const receivedAt = this.now();
    const frames: ValidFrame[] = [];
    const inventories: IInventory[] = [];
    const statuses: IStatus[] = [];
    const claims: ClaimEvent[] = [];
    const events: ValidEvent[] = [];
    const processes: ValidProcessSet[] = [];
    let newEvents: readonly ValidEvent[] = [];
    try {
      this.admit(batch, receivedAt, claims);
      this.dropExpiredEvents(batch, receivedAt);
      this.dropExpiredProcessSets(batch, receivedAt);
      for (const p of batch) {
        // Inventory before frames, so storage knows the GPU models the frames refer to.
        if (!p.sideWritten) {
          if (p.checked.inventory) {
            sink.writeInventory(p.checked.inventory, receivedAt);
            inventories.push(p.checked.inventory);
          }
          if (p.checked.status) {
            sink.writeStatus(p.checked.status, receivedAt);
            statuses.push(p.checked.status);
          }
          p.sideWritten = true;
        }
        for (const frame of p.checked.frames) frames.push(frame);
        for (const event of p.checked.events) events.push(event);
        if (p.checked.processes) processes.push(p.checked.processes);
      }
      const result = frames.length > 0 ? sink.writeFrames(frames, receivedAt) : { stored: 0, duplicates: 0 };
      if (events.length > 0) {
        const written = sink.writeEvents(events, receivedAt);
        newEvents = written.fresh;
        this.stats.eventsStored += written.stored;
        this.stats.eventsDuplicate += written.duplicates;
      }
      for (const set of processes) sink.writeProcesses?.(set, receivedAt);
      // After the batch, so the hosts it created are known and keep their own reject rows.
      for (const [key, count] of this.pendingRejects) {
        const [host = "", reason = ""] = key.split("\u0000");
        sink.countReject(host, reason, count);
        this.pendingRejects.delete(key);
      }
      this.stats.framesStored += result.stored;
      this.stats.framesDuplicate += result.duplicates;
    } catch (error) {
      this.logStoreFailure(error);
      // Inventories and statuses written before the failure are committed (and not written again).
      this.committed({ receivedAtMs: receivedAt, inventories, statuses, frames: [] });
      return false;
    }
    this.recovered();
    const committedAt = this.now();
    if (batch.length > 0) this.stats.commits += 1;
    for (const f of frames)
      this.stats.noteSpoolDropped(f.host, f.timestamp_ms, Number(f.frames_dropped ?? 0));
    for (const p of batch) {
      if (p.checked.status) this.stats.statuses += 1;
      if (p.checked.inventory) this.stats.inventories += 1;
      this.stats.commitLatency.observe(committedAt - p.submittedAt);
      p.resolve({ stored: hasContent(p.checked), rejections: p.checked.rejections });
    }
    this.committed({ receivedAtMs: receivedAt, inventories, statuses, frames, events: newEvents, processes });
    if (claims.length > 0 && this.options.onClaims) {
      try {
        this.options.onClaims(claims);
      } catch (error) {
        this.log.error({ err: errorMessage(error) }, "onClaims hook failed");
      }
    }
    return true;
  }

  private committed(committed: Committed): void {
    const { inventories, statuses, frames } = committed;
    const events = (committed.events?.length ?? 0) + (committed.processes?.length ?? 0);
    if (!this.options.onCommitted || inventories.length + statuses.length + frames.length + events === 0)
      return;
    try {
      this.options.onCommitted(committed);
    } catch (error) {
      this.log.error({ err: errorMessage(error) }, "onCommitted hook failed");
    }
  }

  /** Host and GPU limits and GPU ownership, once per message, just before it is written. */
  private admit(batch: readonly Pending[], nowMs: number, claims: ClaimEvent[]): void {
    const admission = this.admission;
    if (!admission) return;
    admission.begin();
    for (const p of batch) {
      if (p.admitted) continue;
      const result = admission.admit(p.checked, nowMs);
      p.admitted = true;
      for (const rejection of result.rejections) {
        p.checked.rejections.push(rejection);
        this.countReject(rejection);
      }
      claims.push(...result.events);
    }
  }

  /**
   * An event older than the store keeps (a replayed kernel log, an old spool) would be stored and
   * counted again after retention pruned it, and pruned again: dropped, with the horizon the prune uses.
   */
  private dropExpiredEvents(batch: readonly Pending[], nowMs: number): void {
    const horizonMs = this.options.sink.eventHorizonMs(nowMs);
    for (const p of batch) {
      const { checked } = p;
      if (checked.events.every((e) => e.timeMs >= horizonMs)) continue;
      checked.events = checked.events.filter((e) => {
        if (e.timeMs >= horizonMs) return true;
        const rejection: Rejection = {
          host: checked.host,
          reason: "event_too_old",
          detail: `event ${e.kernelSeq} at ${new Date(e.timeMs).toISOString()}, before the retention horizon ${new Date(horizonMs).toISOString()}`,
        };
        checked.rejections.push(rejection);
        this.countReject(rejection);
        return false;
      });
    }
  }

  /**
   * A process set older than the store keeps (a spool replayed after a long outage, a duplicate)
   * would store again the sessions retention pruned: dropped, with the horizon the prune uses.
   */
  private dropExpiredProcessSets(batch: readonly Pending[], nowMs: number): void {
    const horizonMs = this.options.sink.processHorizonMs?.(nowMs);
    if (horizonMs === undefined) return;
    for (const p of batch) {
      const set = p.checked.processes;
      if (set === undefined) continue;
      const rejections = expiredSetRejections(set, horizonMs);
      if (rejections.length === 0) continue;
      delete p.checked.processes;
      for (const rejection of rejections) {
        p.checked.rejections.push(rejection);
        this.countReject(rejection);
      }
    }
  }

  private logStoreFailure(error: unknown): void {
    this.stats.storeFailures += 1;
    this.failingSince ??= this.now();
    const suppressed = this.storeLog.admit("store");
    if (suppressed !== undefined) {
      this.log.error(
        { code: "GPUTEL_E_STORE", err: errorMessage(error), suppressed, queued: this.queue.length },
        "Database write failed; holding acknowledgements back",
      );
    }
  }

  private recovered(): void {
    this.attempts = 0;
    if (this.failingSince === undefined) return;
    this.log.info({ failedForMs: this.now() - this.failingSince }, "Database writable again");
    this.failingSince = undefined;
  }
}

/** What a broker needs from ingest (tests may pass a stand-in). */
export type IngestTarget = Pick<IngestPipeline, "submit">;

function hasContent(checked: CheckedMessage): boolean {
  return (
    checked.frames.length > 0 ||
    checked.events.length > 0 ||
    checked.processes !== undefined ||
    checked.status !== undefined ||
    checked.inventory !== undefined
  );
}
