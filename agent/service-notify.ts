// What the agent tells systemd (Type=notify; shared/sd-notify.ts sends it). READY=1 after the
// first sample and the broker connection (the contract). While it samples but the broker is away
// at start, EXTEND_TIMEOUT_USEC every 30 s, so TimeoutStartSec= does not kill an agent that
// spools all along. WATCHDOG=1 on every tick of a timer on the event loop, and from nothing else:
// a wedged loop stops the pings and is restarted, while an interval longer than the watchdog's
// (interval: 60s) or a driver that answers no sample for a while (the supervisor reports and
// restarts nvidia-smi) does not restart the agent. A frame's ping would put the next one up to two
// periods (all of WatchdogSec=) away, so frames send none. Time between extensions is measured on
// a monotonic clock: a wall clock stepped back must not hold them (or systemd's timeout) off.
import type { Logger } from "../shared/logger.js";
import type { SdNotify } from "../shared/sd-notify.js";

/** How often the agent asks for more start time while the broker is away, and how much. */
export const START_EXTEND_EVERY_MS = 30_000;
export const START_EXTEND_BY_MS = 90_000;

export interface ServiceNotifierOptions {
  notify: SdNotify;
  /** The watchdog ping period (watchdogIntervalMs); undefined: no watchdog. */
  watchdogMs: number | undefined;
  /** Whether the broker connection is up now. */
  connected: () => boolean;
  /** The configured interval, as written (for systemd's STATUS=). */
  interval: string;
  logger: Logger;
  /** A monotonic clock, ms (default performance.now). */
  now?: () => number;
}

export class ServiceNotifier {
  private timer: NodeJS.Timeout | undefined;
  private lastExtend: number | undefined;
  private ready = false;
  /** GPUs in the latest frame; undefined until the first sample. */
  private gpus: number | undefined;

  constructor(private readonly options: ServiceNotifierOptions) {}

  /** Starts the timer (only under systemd): pings, and readiness when frames are far apart. */
  start(): void {
    const { notify, watchdogMs } = this.options;
    if (!notify.enabled) return;
    const period = Math.min(watchdogMs ?? START_EXTEND_EVERY_MS, START_EXTEND_EVERY_MS);
    // Each ping forks systemd-notify (shared/sd-notify.ts), a cost the agent pays in CPU: one per
    // watchdog period, not one per tick of a timer that also serves the start-up extensions.
    const pingEvery = watchdogMs === undefined ? 0 : Math.max(1, Math.floor(watchdogMs / period));
    let ticks = 0;
    this.timer = setInterval(() => {
      if (pingEvery > 0 && ticks++ % pingEvery === 0) void notify.watchdog();
      this.tick();
    }, period);
    // The agent's own handles (the broker connection, nvidia-smi) keep it running: this timer
    // must not keep alive an agent whose stop failed half-way.
    this.timer.unref();
  }

  /** A frame was sampled (and handed to the spool): readiness, never a watchdog ping. */
  sampled(gpus: number): void {
    this.gpus = gpus;
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    // Without systemd the sends are no-ops, but "Agent ready" is still logged.
    const { notify, logger } = this.options;
    const now = (this.options.now ?? performance.now.bind(performance))();
    const gpus = this.gpus;
    if (this.ready || gpus === undefined) return;
    if (this.options.connected()) {
      this.ready = true;
      void notify.ready(`sampling ${gpus} GPUs every ${this.options.interval}`);
      logger.info({ gpus }, "Agent ready");
    } else if (this.lastExtend === undefined || now - this.lastExtend >= START_EXTEND_EVERY_MS) {
      if (this.lastExtend === undefined)
        logger.info({ gpus }, "Sampling and spooling; ready once the broker connects");
      this.lastExtend = now;
      void notify.extendStartTimeout(
        START_EXTEND_BY_MS,
        `sampling ${gpus} GPUs, spooling; waiting for the broker`,
      );
    }
  }
}
