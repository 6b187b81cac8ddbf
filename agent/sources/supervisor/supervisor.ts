// The part of a source that is the same for every program it runs (nvidia-smi today, the
// kernel log and slow polls next): at most one long-lived child, one-shot children in lanes,
// a watchdog that kills a child gone silent, stuck (D-state) detection, relaunch with capped
// backoff, and failure reporting that logs a repeating failure once per period and counts it.
// What a line means, and what the source reports while it fails, stays in the source.
import { ERROR_CODES, type ErrorCode, errorMessage } from "../../../shared/errors.js";
import { type Logger, LogThrottle } from "../../../shared/logger.js";
import { Backoff } from "./backoff.js";
import { type ExitInfo, type OneShotResult, type StreamChild, spawnStream } from "./child-process.js";
import { type Cancel, type Clock, realClock } from "./clock.js";
import type { SourceHealth } from "./health.js";
import { OneShotLanes } from "./one-shot-lanes.js";

export interface SupervisorOptions {
  /** The source's registry name: log field and the `source` of its counters. */
  source: string;
  logger: Logger;
  /** Discovery and start of the source's children; called at start and after each backoff. */
  launch: () => Promise<void>;
  /** The source's codes for a silent child killed, and for a child that does not die. */
  codes: { timeout: ErrorCode; stuck: ErrorCode };
  /** How often the watchdog looks at the stream's silence. */
  watchEveryMs: number;
  clock?: Clock;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** How long a SIGKILLed child may take to exit before it counts as stuck. Default 5 s. */
  stuckAfterMs?: number;
  /** A repeating failure is logged at most once per period. Default 10 min. */
  logPeriodMs?: number;
  /** How long stop() waits for queued one-shots. Default 11 s. */
  drainTimeoutMs?: number;
}

/** A failure the source found, reported under its code (ERROR_CODES gives the message). */
export interface FailureReport {
  code: ErrorCode;
  detail: string;
}

export interface StreamSpec {
  /** The program to run (no shell), its stdout and stderr read line by line. */
  argv: string[];
  /**
   * Instead of spawning `argv`: opens another line producer with the same life cycle (a reader
   * of a device such as /dev/kmsg, tests). `argv` then only names it in logs.
   */
  open?: (onLine: (line: string) => void) => StreamChild;
  /** Each line of stdout and stderr; lines of a child already killed or replaced are dropped. */
  onLine(line: string): void;
  /** Silence allowed before the first record (program start-up can take seconds). */
  firstRecordTimeoutMs: number;
  /** Silence allowed between records once the first has come. */
  recordTimeoutMs: number;
  /** The watchdog killed the child after `silentMs` without a record. */
  onTimeout(silentMs: number): void;
  /** The child exited by itself: what to report. */
  onExit(info: ExitInfo): FailureReport;
}

interface Stream {
  child: StreamChild;
  spec: StreamSpec;
  killed: boolean;
  healthySince: number | undefined;
  lastProgressAt: number;
}

export class SourceSupervisor {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly throttle: LogThrottle;
  private readonly backoff: Backoff;
  private readonly lanes: OneShotLanes;
  private readonly health: SourceHealth;
  private readonly timers: Cancel[] = [];
  private cancelRelaunch: Cancel | undefined;
  private stream: Stream | undefined;
  private stuckStream = false;
  private active = false;

  constructor(private readonly options: SupervisorOptions) {
    this.clock = options.clock ?? realClock();
    this.log = options.logger;
    this.throttle = new LogThrottle(options.logPeriodMs ?? 10 * 60_000, () => this.clock.now());
    this.backoff = new Backoff(options.backoffMinMs ?? 1000, this.backoffMaxMs());
    this.health = {
      name: options.source,
      restarts: 0,
      timeouts: 0,
      exits: 0,
      stuckChildren: 0,
      startFailures: 0,
      lastError: "",
      lastErrorMs: 0,
      stuck: false,
    };
    this.lanes = new OneShotLanes(this.clock, this.stuckAfterMs(), {
      timedOut: () => {
        this.health.timeouts += 1;
      },
      stuck: (pid, kind) => this.onStuck(pid, `${kind} child`),
      unstuck: (pid) => this.onUnstuck(pid),
    });
  }

  get running(): boolean {
    return this.active;
  }

  now(): number {
    return this.clock.now();
  }

  async start(): Promise<void> {
    if (this.active) return;
    this.active = true;
    this.every(this.options.watchEveryMs, () => this.watch());
    await this.relaunch();
  }

  /**
   * Kills the stream child, cancels every timer, waits (bounded) for the one-shots, then kills
   * those still running and answers those still queued ESTOPPED without running them: a hung
   * nvidia-smi must not hold the stop for the sum of the queued commands' timeouts.
   */
  async stop(): Promise<void> {
    this.active = false;
    for (const cancel of this.timers.splice(0)) cancel();
    this.cancelRelaunch?.();
    this.cancelRelaunch = undefined;
    const stream = this.stream;
    if (stream?.child.isRunning()) {
      stream.killed = true;
      stream.child.kill();
      await this.within(stream.child.exited, this.stuckAfterMs());
    }
    await this.within(this.lanes.drained(), this.options.drainTimeoutMs ?? 11_000);
    this.lanes.stop();
    await this.within(this.lanes.drained(), this.stuckAfterMs());
  }

  /** Runs `fn` every `ms` while the source runs (polls, repeated failure reports). */
  every(ms: number, fn: () => void): void {
    this.timers.push(this.clock.every(ms, () => this.active && fn()));
  }

  /** A short command; one at a time per `kind` (see OneShotLanes). Never rejects. */
  oneShot(argv: readonly string[], timeoutMs: number, kind = "one-shot"): Promise<OneShotResult> {
    return this.lanes.run(argv, timeoutMs, kind);
  }

  /** Starts the long-lived child, unless one is alive or stuck (never two): then undefined. */
  startStream(spec: StreamSpec): StreamChild | undefined {
    if (!this.active || this.stuckStream || this.stream?.child.isRunning()) return undefined;
    let stream: Stream | undefined;
    const onLine = (line: string) => {
      if (stream && this.stream === stream && !stream.killed) spec.onLine(line);
    };
    const child = spec.open
      ? spec.open(onLine)
      : spawnStream(spec.argv, onLine, { leftoverGraceMs: this.stuckAfterMs(), clock: this.clock });
    stream = { child, spec, killed: false, healthySince: undefined, lastProgressAt: this.now() };
    this.stream = stream;
    const started = stream;
    void child.exited.then((info) => this.onStreamExit(started, info));
    return child;
  }

  /** The source read a complete record from the stream: the watchdog's deadline moves on. */
  progress(): void {
    const stream = this.stream;
    if (!stream) return;
    stream.lastProgressAt = this.now();
    stream.healthySince ??= stream.lastProgressAt;
  }

  /**
   * A failure the source found (a start-up command failed, the output says the driver is gone):
   * counted, logged once per period per code, and a relaunch scheduled after backoff.
   */
  reportFailure(report: FailureReport, phase: "start" | "run"): void {
    if (phase === "start") this.health.startFailures += 1;
    this.noteError(report.detail);
    const suppressed = this.throttle.admit(`fail:${report.code}`);
    if (suppressed !== undefined)
      this.log.error({ code: report.code, detail: report.detail, suppressed }, ERROR_CODES[report.code]);
    this.scheduleRelaunch();
  }

  /** Admits one log line per period for `key`; returns the count suppressed since, or undefined. */
  admitLog(key: string): number | undefined {
    return this.throttle.admit(key);
  }

  /** The counters since the supervisor was made (reported in the agent's status). */
  stats(): SourceHealth {
    return { ...this.health, stuck: this.stuckStream || this.lanes.anyStuck() };
  }

  /** Pids alive now: the stream child and the running one-shot of each lane. */
  childPids(): { stream?: number; oneShot?: number; lanes: Map<string, number> } {
    const lanes = this.lanes.pids();
    const pids: { stream?: number; oneShot?: number; lanes: Map<string, number> } = { lanes };
    const stream = this.stream?.child;
    if (stream?.isRunning() && stream.pid !== undefined) pids.stream = stream.pid;
    const oneShot = lanes.get("one-shot");
    if (oneShot !== undefined) pids.oneShot = oneShot;
    return pids;
  }

  private async relaunch(): Promise<void> {
    this.cancelRelaunch = undefined;
    if (!this.active || this.stuckStream || this.stream?.child.isRunning()) return;
    try {
      await this.options.launch();
    } catch (error) {
      // A bug in the source's launch, not a fault of the program: still no crash loop.
      this.noteError(errorMessage(error));
      this.log.error({ err: errorMessage(error) }, `${this.options.source} launch threw`);
      this.scheduleRelaunch();
    }
  }

  private scheduleRelaunch(): void {
    if (!this.active || this.cancelRelaunch || this.stuckStream) return;
    this.cancelRelaunch = this.clock.after(this.backoff.next(), () => {
      this.health.restarts += 1;
      void this.relaunch();
    });
  }

  private watch(): void {
    const stream = this.stream;
    if (!stream || stream.killed || !stream.child.isRunning()) return;
    const limit =
      stream.healthySince === undefined ? stream.spec.firstRecordTimeoutMs : stream.spec.recordTimeoutMs;
    const silentMs = this.now() - stream.lastProgressAt;
    if (silentMs > limit) this.timeout(stream, silentMs);
  }

  private timeout(stream: Stream, silentMs: number): void {
    const { child } = stream;
    this.health.timeouts += 1;
    this.noteError(`${this.options.source} gave no complete record within ${silentMs} ms`);
    const suppressed = this.throttle.admit("timeout");
    if (suppressed !== undefined)
      this.log.warn(
        { code: this.options.codes.timeout, pid: child.pid, suppressed },
        `${this.options.source} timed out; killing it`,
      );
    stream.killed = true;
    child.kill();
    stream.spec.onTimeout(silentMs);
    const cancel = this.clock.after(this.stuckAfterMs(), () => {
      if (!child.isRunning()) return;
      this.stuckStream = true;
      this.onStuck(child.pid, "stream child");
    });
    void child.exited.then(cancel);
  }

  private onStreamExit(stream: Stream, info: ExitInfo): void {
    if (this.stream !== stream) return;
    if (this.stuckStream) {
      this.stuckStream = false;
      this.onUnstuck(stream.child.pid);
    }
    const healthyFor = stream.healthySince === undefined ? 0 : this.now() - stream.healthySince;
    if (healthyFor >= this.backoffMaxMs()) this.backoff.reset();
    if (!this.active) return;
    if (stream.killed) {
      this.scheduleRelaunch();
      return;
    }
    const report = stream.spec.onExit(info);
    this.health.exits += 1;
    this.reportFailure(report, "run");
  }

  private onStuck(pid: number | undefined, what: string): void {
    this.health.stuckChildren += 1;
    this.noteError(`${this.options.source} ${what} (pid ${pid}) did not exit after SIGKILL`);
    this.log.error({ code: this.options.codes.stuck, pid, what }, ERROR_CODES[this.options.codes.stuck]);
  }

  private onUnstuck(pid: number | undefined): void {
    this.log.info({ pid }, `Stuck ${this.options.source} child exited at last`);
  }

  private noteError(detail: string): void {
    this.health.lastError = detail;
    this.health.lastErrorMs = this.now();
  }

  /** Waits for `promise`, at most `ms`; the timer is cancelled either way (nothing keeps Node up). */
  private async within(promise: Promise<unknown>, ms: number): Promise<void> {
    let cancel: Cancel = () => {};
    const timer = new Promise<void>((resolve) => {
      cancel = this.clock.after(ms, resolve);
    });
    try {
      await Promise.race([promise, timer]);
    } finally {
      cancel();
    }
  }

  private stuckAfterMs(): number {
    return this.options.stuckAfterMs ?? 5000;
  }

  private backoffMaxMs(): number {
    return this.options.backoffMaxMs ?? 60_000;
  }
}
