// Exponential restart delay, capped: 1 s, 2 s, 4 s … 60 s by default. Pure.
import { backoffMs } from "../../../shared/backoff.js";

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** The delay before the next attempt; each call doubles the following one up to the cap. */
  next(): number {
    const delay = backoffMs(this.attempt, this.minMs, this.maxMs);
    this.attempt += 1;
    return delay;
  }

  /** After a healthy run: the next failure starts again from the minimum. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
