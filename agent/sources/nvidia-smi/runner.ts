// The nvidia-smi GpuSource: discovery and GPU list at start, ONE long-lived
// `--query-gpu … -lms N` child on the hot path, and a single lane of short one-shot children
// (compute apps, lost-GPU probes, inventory). Failure rules (docs/design.md §4): no complete sample within
// 3 intervals → SIGKILL, every GPU TIMEOUT, restart with capped backoff; a killed child that does
// not exit is counted as stuck and no other is started; a missing binary or an unloaded driver is
// logged once and reported in samples, retried with backoff, never a crash loop.
import { ERROR_CODES, type ErrorCode } from "../../../shared/errors.js";
import { type Logger, LogThrottle } from "../../../shared/logger.js";
import { GpuState, type IGpuSample } from "../../../shared/proto.js";
import type { GpuSource, SourceInventory, SourceSample } from "../source.js";
import { Backoff } from "./backoff.js";
import { type OneShotResult, runOneShot, type StreamChild, spawnStream } from "./child.js";
import { ComputeAppsPoller } from "./compute-poller.js";
import { CsvStream, type KnownGpu, type StreamEvent } from "./csv-stream.js";
import { FALLBACK_KNOWN, parseHelpQueryGpu, planQuery, type QueryPlan, queryArgument } from "./discovery.js";
import { parseGpuList } from "./gpu-list.js";
import { queryInventory } from "./inventory.js";
import type { NvidiaSmiOptions, NvidiaSmiStats } from "./options.js";
import { LostGpuProbes } from "./probe.js";
import { type Failure, startFailure } from "./startup.js";

export type { NvidiaSmiOptions, NvidiaSmiStats } from "./options.js";

export class NvidiaSmiSource implements GpuSource {
  readonly name = "nvidia-smi";
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly throttle: LogThrottle;
  private readonly backoff: Backoff;
  private readonly counters: NvidiaSmiStats = {
    samples: 0,
    restarts: 0,
    timeouts: 0,
    exits: 0,
    stuckChildren: 0,
    garbageLines: 0,
    startFailures: 0,
  };
  private onSample: (sample: SourceSample) => void = () => {};
  private running = false;
  private plan: QueryPlan | undefined;
  private gpus: KnownGpu[] = [];
  private parser: CsvStream | undefined;
  private stream: StreamChild | undefined;
  private streamHealthySince: number | undefined;
  private streamKilled = false;
  private streamSourceError: { code: ErrorCode; line: string } | undefined;
  private stuck = false;
  private lastProgressAt = 0;
  private lastEmitAt = 0;
  private failure: Failure | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private computeTimer: NodeJS.Timeout | undefined;
  private launchTimer: NodeJS.Timeout | undefined;
  private lane: Promise<unknown> = Promise.resolve();
  private oneShotPid: number | undefined;
  private readonly compute: ComputeAppsPoller;
  private readonly probes: LostGpuProbes;

  constructor(private readonly options: NvidiaSmiOptions) {
    this.log = options.logger.child({ component: "agent.nvidia-smi" });
    this.now = options.now ?? Date.now;
    this.throttle = new LogThrottle(10 * 60_000, this.now);
    this.backoff = new Backoff(options.backoffMinMs ?? 1000, options.backoffMaxMs ?? 60_000);
    this.compute = new ComputeAppsPoller(
      options.command,
      options.computeAppsIntervalMs,
      Math.min(this.oneShotTimeout(), options.computeAppsIntervalMs),
      (argv, t) => this.oneShot(argv, t),
      this.log,
      this.now,
    );
    this.probes = new LostGpuProbes(
      options.command,
      this.oneShotTimeout(),
      (argv, t) => this.oneShot(argv, t),
      this.log,
      this.now,
    );
  }

  async start(onSample: (sample: SourceSample) => void): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.onSample = onSample;
    this.lastEmitAt = this.now();
    this.tickTimer = setInterval(() => this.tick(), this.options.intervalMs);
    this.computeTimer = setInterval(() => void this.compute.poll(), this.options.computeAppsIntervalMs);
    await this.launch();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.tickTimer);
    clearInterval(this.computeTimer);
    clearTimeout(this.launchTimer);
    const stream = this.stream;
    if (stream?.isRunning()) {
      this.streamKilled = true;
      stream.kill();
      await Promise.race([stream.exited, delay(this.options.stuckAfterMs ?? 5000)]);
    }
    // One-shot children have their own timeouts; wait for the lane to drain.
    await Promise.race([this.lane.catch(() => {}), delay(this.oneShotTimeout() + 1000)]);
  }

  inventory(): Promise<SourceInventory> {
    return queryInventory(this.options.command, this.options.inventoryTimeoutMs, (argv, timeoutMs) =>
      this.oneShot(argv, timeoutMs),
    );
  }

  stats(): NvidiaSmiStats {
    return { ...this.counters };
  }

  /** Pids of the children alive now: at most one stream child and one one-shot child. */
  childPids(): { stream?: number; oneShot?: number } {
    const pids: { stream?: number; oneShot?: number } = {};
    if (this.stream?.isRunning() && this.stream.pid !== undefined) pids.stream = this.stream.pid;
    if (this.oneShotPid !== undefined) pids.oneShot = this.oneShotPid;
    return pids;
  }

  /** Short commands run one at a time, never overlapping each other. */
  private oneShot(argv: string[], timeoutMs: number): Promise<OneShotResult> {
    const run = this.lane.then(() =>
      runOneShot(argv, {
        timeoutMs,
        killGraceMs: this.options.stuckAfterMs ?? 5000,
        onSpawn: (pid) => {
          this.oneShotPid = pid;
        },
        onExit: () => {
          this.oneShotPid = undefined;
        },
      }),
    );
    this.lane = run.catch(() => {});
    return run;
  }

  private oneShotTimeout(): number {
    return this.options.oneShotTimeoutMs ?? 10_000;
  }

  /** Discovery (once), GPU list, then the stream child. Failures are reported, then retried. */
  private async launch(): Promise<void> {
    this.launchTimer = undefined;
    if (!this.running || this.stuck || this.stream?.isRunning()) return;
    const cmd = this.options.command;
    if (!this.plan) {
      const help = await this.oneShot([...cmd, "--help-query-gpu"], this.oneShotTimeout());
      if (!this.running) return;
      if (this.startFailed(help, "--help-query-gpu")) return;
      let known = parseHelpQueryGpu(help.stdout);
      if (!known.has("index")) {
        this.log.warn(
          { code: "GPUTEL_E_NVSMI_OUTPUT" },
          "Field discovery found no fields; using the fields every driver knows",
        );
        known = new Set(FALLBACK_KNOWN);
      }
      this.plan = planQuery(known);
      if (this.plan.notQueried.length > 0) {
        this.log.info(
          { notQueried: this.plan.notQueried.map((d) => d.key) },
          "Fields unknown to this driver are not queried",
        );
      }
    }
    const list = await this.oneShot([...cmd, "-L"], this.oneShotTimeout());
    if (!this.running) return;
    if (this.startFailed(list, "-L")) return;
    const parsed = parseGpuList(list.stdout + list.stderr);
    if (parsed.sourceError || parsed.gpus.length === 0) {
      const line = parsed.sourceError?.line ?? "No devices were found";
      this.fail(
        { state: GpuState.GPU_STATE_ERROR, detail: line, sourceError: line },
        parsed.sourceError?.code ?? "GPUTEL_E_NVSMI_NO_DEVICES",
        true,
      );
      return;
    }
    this.gpus = parsed.gpus;
    if (!this.compute.hasResult) await this.compute.poll();
    if (!this.running) return;
    this.spawnStreamChild(parsed.lost);
  }

  /** Reports a failed start-up command; true when it failed. */
  private startFailed(result: OneShotResult, what: string): boolean {
    const failed = startFailure(result, what, this.options.command[0] ?? "");
    if (failed) this.fail(failed.failure, failed.code, true);
    return failed !== undefined;
  }

  private spawnStreamChild(lost: { index: number; line: string }[]): void {
    const plan = this.plan;
    if (!plan) return;
    this.parser = new CsvStream(plan, this.gpus);
    for (const l of lost) this.parser.push(l.line, this.now());
    const argv = [
      ...this.options.command,
      `--query-gpu=${queryArgument(plan)}`,
      "--format=csv,noheader,nounits",
      "-lms",
      String(this.options.intervalMs),
    ];
    this.streamKilled = false;
    this.streamSourceError = undefined;
    this.streamHealthySince = undefined;
    this.lastProgressAt = this.now();
    const parser = this.parser;
    const child = spawnStream(argv, (line) => {
      if (this.stream === child && !this.streamKilled) this.handle(parser.push(line, this.now()));
    });
    this.stream = child;
    this.log.info(
      {
        pid: child.pid,
        gpus: this.gpus.length,
        fields: plan.fields.length,
        intervalMs: this.options.intervalMs,
      },
      "Started nvidia-smi stream",
    );
    void child.exited.then((info) => this.onStreamExit(child, info.code, info.signal, info.error));
  }

  private handle(events: StreamEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case "sample":
          this.emitReading(event.timestampMs, event.gpus, event.missing);
          break;
        case "source-error":
          this.streamSourceError ??= { code: event.code, line: event.line };
          break;
        case "gpu-lost":
          if (this.throttle.admit(`lost:${event.index}`) !== undefined) {
            this.log.warn({ gpu: event.index, detail: event.line }, "GPU lost");
          }
          break;
        case "garbage": {
          this.counters.garbageLines += 1;
          const suppressed = this.throttle.admit("garbage");
          if (suppressed !== undefined) {
            this.log.warn(
              { code: "GPUTEL_E_NVSMI_OUTPUT", line: event.line.slice(0, 200), suppressed },
              "Unparseable nvidia-smi line",
            );
          }
          break;
        }
      }
    }
  }

  private emitReading(timestampMs: number, gpus: IGpuSample[], missing: number[]): void {
    const now = this.now();
    this.lastProgressAt = now;
    this.streamHealthySince ??= now;
    this.failure = undefined;
    this.probes.apply(gpus, missing);
    this.compute.apply(gpus);
    this.emit({ timestampMs, gpus });
  }

  private emit(sample: SourceSample): void {
    this.lastEmitAt = this.now();
    this.counters.samples += 1;
    try {
      this.onSample(sample);
    } catch (error) {
      this.log.error({ err: error }, "Sample consumer threw");
    }
  }

  /** A sample with every known GPU in the failure's state and no values. */
  private emitFailure(failure: Failure): void {
    const gpus: IGpuSample[] = this.gpus.map((g) => ({
      index: g.index,
      uuid: g.uuid,
      pci_bus_id: g.pciBusId ?? "",
      state: failure.state,
      state_detail: failure.detail,
      absent: [],
    }));
    this.emit({
      timestampMs: this.now(),
      gpus,
      ...(failure.sourceError ? { sourceError: failure.sourceError } : {}),
    });
  }

  /** Reports a failure now and every interval until samples flow again; retries after backoff. */
  private fail(failure: Failure, code: ErrorCode, atStart: boolean): void {
    if (atStart) this.counters.startFailures += 1;
    this.failure = failure;
    const suppressed = this.throttle.admit(`fail:${code}`);
    if (suppressed !== undefined) {
      this.log.error({ code, detail: failure.detail, suppressed }, ERROR_CODES[code]);
    }
    this.emitFailure(failure);
    this.scheduleLaunch();
  }

  private scheduleLaunch(): void {
    if (!this.running || this.launchTimer || this.stuck) return;
    const wait = this.backoff.next();
    this.launchTimer = setTimeout(() => {
      this.counters.restarts += 1;
      void this.launch();
    }, wait);
  }

  private tick(): void {
    if (!this.running) return;
    const now = this.now();
    const stream = this.stream;
    if (stream?.isRunning() && !this.streamKilled) {
      const limit =
        this.streamHealthySince === undefined ? this.firstSampleTimeout() : 3 * this.options.intervalMs;
      if (now - this.lastProgressAt > limit) {
        this.timeout(stream);
        return;
      }
    }
    if (this.failure && now - this.lastEmitAt >= this.options.intervalMs * 0.9)
      this.emitFailure(this.failure);
  }

  private firstSampleTimeout(): number {
    return this.options.firstSampleTimeoutMs ?? Math.max(3 * this.options.intervalMs, 10_000);
  }

  private timeout(stream: StreamChild): void {
    this.counters.timeouts += 1;
    const detail = `nvidia-smi gave no complete sample within ${this.now() - this.lastProgressAt} ms`;
    const suppressed = this.throttle.admit("timeout");
    if (suppressed !== undefined)
      this.log.warn(
        { code: "GPUTEL_E_NVSMI_TIMEOUT", pid: stream.pid, suppressed },
        "nvidia-smi timed out; killing it",
      );
    this.streamKilled = true;
    stream.kill();
    this.parser?.reset();
    this.failure = { state: GpuState.GPU_STATE_TIMEOUT, detail };
    this.emitFailure(this.failure);
    const stuckTimer = setTimeout(() => {
      if (!stream.isRunning()) return;
      this.stuck = true;
      this.counters.stuckChildren += 1;
      this.log.error({ code: "GPUTEL_E_NVSMI_STUCK", pid: stream.pid }, ERROR_CODES.GPUTEL_E_NVSMI_STUCK);
    }, this.options.stuckAfterMs ?? 5000);
    void stream.exited.then(() => clearTimeout(stuckTimer));
  }

  private onStreamExit(
    child: StreamChild,
    code: number | null,
    signal: NodeJS.Signals | null,
    error?: NodeJS.ErrnoException,
  ): void {
    if (this.stream !== child) return;
    if (this.stuck) {
      this.stuck = false;
      this.log.info({ pid: child.pid }, "Stuck nvidia-smi child exited at last");
    }
    const healthyFor = this.streamHealthySince === undefined ? 0 : this.now() - this.streamHealthySince;
    if (healthyFor >= (this.options.backoffMaxMs ?? 60_000)) this.backoff.reset();
    if (!this.running) return;
    if (this.streamKilled) {
      this.scheduleLaunch();
      return;
    }
    // Values printed before the exit are real; GPUs missing from that last iteration are ERROR.
    if (this.parser) this.handle(this.parser.flush());
    this.counters.exits += 1;
    const src = this.streamSourceError;
    if (src && src.code !== "GPUTEL_E_NVSMI_OUTPUT") {
      this.fail(
        { state: GpuState.GPU_STATE_ERROR, detail: src.line, sourceError: src.line },
        src.code,
        false,
      );
      return;
    }
    const detail = error
      ? error.message
      : `nvidia-smi exited with ${signal ? `signal ${signal}` : `code ${code}`}${src ? `: ${src.line}` : ""}`;
    this.fail(
      { state: GpuState.GPU_STATE_ERROR, detail },
      error?.code === "ENOENT" ? "GPUTEL_E_NVSMI_MISSING" : "GPUTEL_E_NVSMI_EXIT",
      false,
    );
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
