// A token bucket (pure: the caller passes the time): the agent's backlog replay rate and the collector's
// per-host frame rate. Tokens are frames: `ratePerSecond` a second on average, `capacity` at most at once.

export class TokenBucket {
  private tokens: number;
  private lastMs: number | undefined;

  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
  ) {
    if (!(ratePerSecond > 0) || !(capacity >= 1)) {
      throw new RangeError(
        `token bucket needs rate > 0 and capacity >= 1 (got ${ratePerSecond}, ${capacity})`,
      );
    }
    // Starts full: the first batch after a reconnect goes out at once.
    this.tokens = capacity;
  }

  /** Tokens available at `nowMs` (refilled since the last call; a clock that steps back refills nothing). */
  available(nowMs: number): number {
    if (this.lastMs !== undefined && nowMs > this.lastMs) {
      this.tokens = Math.min(
        this.capacity,
        this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1000,
      );
    }
    if (this.lastMs === undefined || nowMs > this.lastMs) this.lastMs = nowMs;
    return this.tokens;
  }

  /** Takes `n` tokens if they are there; returns whether it did. Asking for more than `capacity` takes `capacity`. */
  tryTake(n: number, nowMs: number): boolean {
    const need = Math.min(n, this.capacity);
    if (this.available(nowMs) + 1e-9 < need) return false;
    this.tokens = Math.max(0, this.tokens - need);
    return true;
  }

  /** Milliseconds until `n` tokens (at most `capacity`) will be there; 0 when they are now. */
  waitMs(n: number, nowMs: number): number {
    const missing = Math.min(n, this.capacity) - this.available(nowMs);
    return missing <= 1e-9 ? 0 : Math.ceil((missing * 1000) / this.ratePerSecond);
  }
}
