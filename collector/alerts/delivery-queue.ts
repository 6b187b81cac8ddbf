// A bounded, asynchronous delivery queue: push() never blocks nor throws (ingest calls it), one
// message is in flight at a time (so an opening is delivered before its closing), a failure is
// retried with exponential backoff, and past the bound the oldest message is dropped and counted.
import { backoffMs } from "../../shared/backoff.js";

export interface DeliveryQueueOptions<T> {
  send: (item: T) => Promise<void>;
  maxQueue: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Called after each failed attempt (logging, throttled by the caller). */
  onFailure?: (error: unknown, attempt: number) => void;
  setTimer?: (fn: () => void, ms: number) => NodeJS.Timeout;
  clearTimer?: (timer: NodeJS.Timeout) => void;
}

export interface DeliveryStats {
  queued: number;
  sent: number;
  failedAttempts: number;
  dropped: number;
}

export class DeliveryQueue<T> {
  private readonly items: T[] = [];
  private running = false;
  private inFlight = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly counts = { sent: 0, failedAttempts: 0, dropped: 0 };
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: DeliveryQueueOptions<T>) {}

  start(): void {
    this.running = true;
    this.pump();
  }

  /** Stops sending; what is queued stays (and is lost at exit: alerts are re-derived from open flags). */
  stop(): void {
    this.running = false;
    if (this.timer) (this.options.clearTimer ?? clearTimeout)(this.timer);
    this.timer = null;
  }

  push(item: T): void {
    this.items.push(item);
    while (this.items.length > this.options.maxQueue) {
      // Never drop the message being sent: it is at the head while in flight.
      this.items.splice(this.inFlight ? 1 : 0, 1);
      this.counts.dropped += 1;
    }
    this.pump();
  }

  stats(): DeliveryStats {
    return { queued: this.items.length, ...this.counts };
  }

  /** Resolves when nothing is queued nor in flight (tests, shutdown). */
  idle(): Promise<void> {
    if (this.items.length === 0 && !this.inFlight) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (!this.running || this.inFlight || this.timer || this.items.length === 0) {
      if (this.items.length === 0 && !this.inFlight) this.wakeIdle();
      return;
    }
    const item = this.items[0] as T;
    this.inFlight = true;
    this.options.send(item).then(
      () => {
        this.inFlight = false;
        if (this.items[0] === item) this.items.shift();
        this.counts.sent += 1;
        this.attempt = 0;
        this.pump();
      },
      (error: unknown) => {
        this.inFlight = false;
        this.counts.failedAttempts += 1;
        this.attempt += 1;
        this.options.onFailure?.(error, this.attempt);
        if (!this.running) return;
        const delay = backoffMs(this.attempt - 1, this.options.retryInitialMs, this.options.retryMaxMs);
        this.timer = (this.options.setTimer ?? setTimeout)(() => {
          this.timer = null;
          this.pump();
        }, delay);
        this.timer.unref?.();
      },
    );
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
