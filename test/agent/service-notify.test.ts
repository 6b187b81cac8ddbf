// The rules of what the agent tells systemd (agent/service-notify.ts), on a fake clock with a fake
// SdNotify that records each datagram: WATCHDOG=1 at least every half WatchdogSec= whatever the
// frames do, from the event loop's timer alone; READY=1 within one timer period of the broker
// connecting however far apart frames are; EXTEND_TIMEOUT_USEC renewed before it lapses while the
// broker is away, even when the wall clock steps back; and a timer that keeps no process alive.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ServiceNotifier,
  type ServiceNotifierOptions,
  START_EXTEND_BY_MS,
  START_EXTEND_EVERY_MS,
} from "../../agent/service-notify.js";
import { silentLogger } from "../../shared/logger.js";
import { SdNotify } from "../../shared/sd-notify.js";

/** Records what would be sent, with the fake clock's time. */
class RecordingNotify extends SdNotify {
  readonly sent: { atMs: number; lines: readonly string[] }[] = [];

  constructor() {
    super({ env: { NOTIFY_SOCKET: "/run/fake-notify.sock" } });
  }

  override send(assignments: readonly string[]): Promise<boolean> {
    this.sent.push({ atMs: Date.now(), lines: assignments });
    return Promise.resolve(true);
  }

  times(prefix: string): number[] {
    return this.sent.filter((s) => s.lines.some((l) => l.startsWith(prefix))).map((s) => s.atMs);
  }
}

const SECOND = 1000;
const START = Date.UTC(2026, 11, 7, 12, 0, 0);

let notifier: ServiceNotifier | undefined;
afterEach(() => {
  notifier?.stop();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function started(options: Partial<ServiceNotifierOptions> & { watchdogMs: number | undefined }) {
  vi.useFakeTimers({ now: START });
  const notify = new RecordingNotify();
  notifier = new ServiceNotifier({
    notify,
    connected: () => false,
    interval: "60s",
    logger: silentLogger(),
    ...options,
  });
  notifier.start();
  return { notify, notifier };
}

function largestGap(times: readonly number[], fromMs: number, toMs: number): number {
  const all = [fromMs, ...times.filter((t) => t > fromMs && t < toMs), toMs];
  return Math.max(...all.slice(1).map((t, i) => t - (all[i] as number)));
}

describe("the agent's systemd notifications", () => {
  for (const watchdogSec of [2, 10, 60, 120])
    it(`pings well within WatchdogSec=${watchdogSec}s whenever frames come (the timer alone decides)`, () => {
      const half = (watchdogSec * SECOND) / 2;
      const { notify, notifier } = started({ watchdogMs: half });
      // A frame just after each timer tick, then none for a while (a slow interval, a silent driver).
      vi.advanceTimersByTime(1);
      for (let i = 0; i < 5; i++) {
        notifier.sampled(8);
        vi.advanceTimersByTime(half);
      }
      vi.advanceTimersByTime(3 * half);
      const end = Date.now();
      // systemd kills past WatchdogSec without a ping: one comes at least every half of it.
      expect(largestGap(notify.times("WATCHDOG=1"), START, end)).toBeLessThanOrEqual(half);
    });

  it("pings once per half WatchdogSec=, not at every 30 s tick: each ping forks systemd-notify", () => {
    // The agent unit's WatchdogSec=120s: a ping a minute, though the timer ticks every 30 s.
    const { notify } = started({ watchdogMs: 60 * SECOND });
    vi.advanceTimersByTime(10 * 60 * SECOND);
    const pings = notify.times("WATCHDOG=1");
    expect(pings).toHaveLength(10);
    expect(largestGap(pings, START, Date.now())).toBe(60 * SECOND);
  });

  it("keeps pinging when the wall clock steps back (NTP) while nothing else happens", () => {
    const { notify } = started({ watchdogMs: SECOND });
    vi.advanceTimersByTime(5 * SECOND);
    vi.setSystemTime(Date.now() - 3600 * SECOND);
    const before = notify.times("WATCHDOG=1").length;
    vi.advanceTimersByTime(5 * SECOND);
    expect(notify.times("WATCHDOG=1").length - before).toBeGreaterThanOrEqual(5);
  });

  it("sends no ping but from its timer: a wedged event loop, whose timers never run, goes unpinged", () => {
    const { notify, notifier } = started({ watchdogMs: SECOND });
    vi.advanceTimersByTime(3 * SECOND);
    const before = notify.times("WATCHDOG=1").length;
    // The loop is stuck for 10 s: the wall clock moves, no timer runs; a late frame callback is
    // no proof of a healthy loop either.
    vi.setSystemTime(Date.now() + 10 * SECOND);
    notifier.sampled(8);
    expect(notify.times("WATCHDOG=1").length).toBe(before);
  });

  it("is ready within one timer period of the broker connecting, with frames a minute apart", () => {
    let connected = false;
    const { notify, notifier } = started({ watchdogMs: undefined, connected: () => connected });
    notifier.sampled(8);
    expect(notify.times("READY=1")).toEqual([]);
    vi.advanceTimersByTime(7 * SECOND);
    connected = true;
    const at = Date.now();
    vi.advanceTimersByTime(START_EXTEND_EVERY_MS);
    const [ready] = notify.times("READY=1");
    expect(ready).toBeDefined();
    expect((ready as number) - at).toBeLessThanOrEqual(START_EXTEND_EVERY_MS);
  });

  it("renews the start timeout before it lapses while the broker is away, though the wall clock steps back", () => {
    const { notify, notifier } = started({ watchdogMs: 4 * SECOND });
    notifier.sampled(8);
    vi.advanceTimersByTime(2 * START_EXTEND_EVERY_MS);
    vi.setSystemTime(Date.now() - 3600 * SECOND);
    // Measured on the timer's own clock: each extension must come before the last one lapses.
    const extendsBefore = notify.times("EXTEND_TIMEOUT_USEC=").length;
    vi.advanceTimersByTime(START_EXTEND_BY_MS);
    expect(notify.times("EXTEND_TIMEOUT_USEC=").length - extendsBefore).toBeGreaterThanOrEqual(
      Math.floor(START_EXTEND_BY_MS / START_EXTEND_EVERY_MS) - 1,
    );
  });

  it("keeps no process alive: its timer is unreferenced, so an agent whose stop failed half-way still exits", () => {
    const made: NodeJS.Timeout[] = [];
    vi.useFakeTimers({ now: START });
    const real = globalThis.setInterval;
    vi.spyOn(globalThis, "setInterval").mockImplementation(((fn: () => void, ms: number) => {
      const timer = real(fn, ms);
      made.push(timer);
      return timer;
    }) as typeof setInterval);
    notifier = new ServiceNotifier({
      notify: new RecordingNotify(),
      watchdogMs: SECOND,
      connected: () => true,
      interval: "1s",
      logger: silentLogger(),
    });
    notifier.start();
    expect(made).toHaveLength(1);
    expect(made[0]?.hasRef()).toBe(false);
  });
});
