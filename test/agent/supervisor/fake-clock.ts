// A hand-advanced Clock for supervisor tests: timers fire only inside advance(), in time order,
// so timeouts, backoff and stuck detection are tested without waiting for them. Child processes
// stay real: their exits arrive through Node's event loop as usual.
import type { Cancel, Clock } from "../../../agent/sources/supervisor/clock.js";

interface Timer {
  at: number;
  fn: () => void;
  everyMs?: number;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private t = 1_000_000;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): Cancel {
    return this.add({ at: this.t + ms, fn, cancelled: false });
  }

  every(ms: number, fn: () => void): Cancel {
    return this.add({ at: this.t + ms, fn, everyMs: ms, cancelled: false });
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.cancelled && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = due.at;
      if (due.everyMs !== undefined) due.at += due.everyMs;
      else due.cancelled = true;
      due.fn();
    }
    this.t = end;
    this.timers = this.timers.filter((x) => !x.cancelled);
  }

  /** Timers still pending (a stop must leave none). */
  pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }

  private add(timer: Timer): Cancel {
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }
}
