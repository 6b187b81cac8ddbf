// The time a supervisor runs on: the real clock in the agent, a hand-advanced one in tests, so
// that timeouts, backoff and stuck detection can be tested without waiting for them.

/** Cancels a timer; calling it again, or after the timer fired, does nothing. */
export type Cancel = () => void;

export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms`. */
  after(ms: number, fn: () => void): Cancel;
  /** Calls `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Cancel;
}

/** Node's timers; `now` may be replaced (the sources' `now` option). */
export function realClock(now: () => number = Date.now): Clock {
  return {
    now,
    after(ms, fn) {
      const timer = setTimeout(fn, ms);
      return () => clearTimeout(timer);
    },
    every(ms, fn) {
      const timer = setInterval(fn, ms);
      return () => clearInterval(timer);
    },
  };
}
