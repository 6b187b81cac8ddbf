// The nvidia-smi GpuSource: discovery and GPU list at start, ONE long-lived
// `--query-gpu … -lms N` child on the hot path, and short one-shot children (compute apps,
// lost-GPU probes, inventory) in one lane. The children themselves, timeouts, backoff and stuck
// detection are the supervisor's (../supervisor/); this file says what nvidia-smi's output means
// and what every GPU reports while it fails: no complete sample within 3 intervals → every GPU
// TIMEOUT; a crash → ERROR; a missing binary or an unloaded driver → sourceError, retried with
// backoff, never a crash loop.
import type { ErrorCode } from "../../../shared/errors.js";
import type { Logger } from "../../../shared/logger.js";
import { GpuState, type IGpuSample } from "../../../shared/proto.js";
import type { GpuSource, SourceHealth, SourceInventory, SourceSample } from "../source.js";
import type { ExitInfo, OneShotResult } from "../supervisor/child-process.js";
import { realClock } from "../supervisor/clock.js";
import { type FailureReport, SourceSupervisor } from "../supervisor/supervisor.js";
import { ComputeAppsPoller, type ComputeRowsListener } from "./compute-poller.js";
import { CsvStream, type KnownGpu, type StreamEvent } from "./csv-stream.js";
import {
  FALLBACK_KNOWN,
  parseHelpQueryGpu,
  planQuery,
  type QueryPlan,
  queryArgument,
  withoutField,
} from "./discovery.js";
import { refusedField } from "./error-lines.js";
import { SavedGpus } from "./gpu-identities.js";
import { keepIdentities, parseGpuList } from "./gpu-list.js";
import { HealthPoller } from "./health-poller.js";
import type { NvidiaSmiOptions, NvidiaSmiStats } from "./options.js";
import { LostGpuProbes } from "./probe.js";
import { type Failure, startFailure } from "./startup.js";
import { queryInventory } from "./xml-query.js";

export type { NvidiaSmiOptions, NvidiaSmiStats } from "./options.js";

export class NvidiaSmiSource implements GpuSource {
  readonly name = "nvidia-smi";
  private readonly log: Logger;
  private readonly sup: SourceSupervisor;
  private readonly compute: ComputeAppsPoller;
  private readonly probes: LostGpuProbes;
  private readonly healthPolls: HealthPoller | undefined;
  private healthPollsStarted = false;
  private readonly counters = { samples: 0, garbageLines: 0 };
  private onSample: (sample: SourceSample) => void = () => {};
  private plan: QueryPlan | undefined;
  private gpus: KnownGpu[] = [];
  /** The GPUs' UUIDs and bus ids kept across restarts (options.identitiesPath). */
  private savedGpus: SavedGpus | undefined;
  /** The stream child whose GPUs are still to be saved (after its first sample). */
  private unsavedStream: CsvStream | undefined;
  private streamSourceError: { code: ErrorCode; line: string } | undefined;
  /** Set while failing: repeated every interval until samples flow again. */
  private failure: Failure | undefined;
  private lastEmitAt = 0;

  constructor(private readonly options: NvidiaSmiOptions) {
    this.log = options.logger.child({ component: "agent.nvidia-smi" });
    this.sup = new SourceSupervisor({
      source: this.name,
      logger: this.log,
      launch: () => this.launch(),
      codes: { timeout: "GPUTEL_E_NVSMI_TIMEOUT", stuck: "GPUTEL_E_NVSMI_STUCK" },
      watchEveryMs: options.intervalMs,
      clock: options.clock ?? realClock(options.now),
      backoffMinMs: options.backoffMinMs ?? 1000,
      backoffMaxMs: options.backoffMaxMs ?? 60_000,
      stuckAfterMs: options.stuckAfterMs ?? 5000,
      drainTimeoutMs: this.oneShotTimeout() + 1000,
    });
    const run = (argv: string[], timeoutMs: number) => this.sup.oneShot(argv, timeoutMs);
    const now = () => this.sup.now();
    const compute = Math.min(this.oneShotTimeout(), options.computeAppsIntervalMs);
    this.compute = new ComputeAppsPoller(
      options.command,
      options.computeAppsIntervalMs,
      compute,
      run,
      this.log,
      now,
    );
    this.probes = new LostGpuProbes(options.command, this.oneShotTimeout(), run, this.log, now);
    if (options.healthIntervalMs !== undefined && options.nvlinkIntervalMs !== undefined)
      this.healthPolls = new HealthPoller({
        command: options.command,
        healthIntervalMs: options.healthIntervalMs,
        nvlinkIntervalMs: options.nvlinkIntervalMs,
        timeoutMs: options.inventoryTimeoutMs,
        run: (argv, timeoutMs, kind) => this.sup.oneShot(argv, timeoutMs, kind),
        log: this.log,
        now,
      });
  }

  async start(onSample: (sample: SourceSample) => void): Promise<void> {
    if (this.sup.running) return;
    this.onSample = onSample;
    this.healthPollsStarted = false;
    if (this.options.identitiesPath !== undefined)
      this.savedGpus = new SavedGpus(this.options.identitiesPath);
    this.lastEmitAt = this.sup.now();
    this.sup.every(this.options.intervalMs, () => this.repeatFailure());
    this.sup.every(this.options.computeAppsIntervalMs, () => void this.compute.poll());
    await this.sup.start();
  }

  stop(): Promise<void> {
    return this.sup.stop();
  }

  onComputeRows(listener: ComputeRowsListener): void {
    this.compute.onRows(listener);
  }

  inventory(): Promise<SourceInventory> {
    return queryInventory(
      this.options.command,
      this.options.inventoryTimeoutMs,
      (argv, timeoutMs) => this.sup.oneShot(argv, timeoutMs),
      this.gpus,
    );
  }

  stats(): NvidiaSmiStats {
    const { restarts, timeouts, exits, stuckChildren, startFailures } = this.sup.stats();
    return { ...this.counters, restarts, timeouts, exits, stuckChildren, startFailures };
  }

  health(): SourceHealth {
    return this.sup.stats();
  }

  /** Pids of the children alive now: at most one stream child and one one-shot child. */
  childPids(): { stream?: number; oneShot?: number } {
    const { stream, oneShot } = this.sup.childPids();
    return { ...(stream !== undefined ? { stream } : {}), ...(oneShot !== undefined ? { oneShot } : {}) };
  }

  private oneShotTimeout(): number {
    return this.options.oneShotTimeoutMs ?? 10_000;
  }

  /** Discovery (once), GPU list, then the stream child. Failures are reported, then retried. */
  private async launch(): Promise<void> {
    const cmd = this.options.command;
    if (!this.plan) {
      const help = await this.sup.oneShot([...cmd, "--help-query-gpu"], this.oneShotTimeout());
      if (!this.sup.running || this.startFailed(help, "--help-query-gpu")) return;
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
    const list = await this.sup.oneShot([...cmd, "-L"], this.oneShotTimeout());
    if (!this.sup.running || this.startFailed(list, "-L")) return;
    const parsed = parseGpuList(list.stdout + list.stderr);
    // The UUIDs of GPUs lost since they were read: this run's first, then those saved before it.
    const gpus = parsed.sourceError
      ? []
      : keepIdentities(
          this.savedGpus?.gpus ?? [],
          { ...parsed, gpus: keepIdentities(this.gpus, parsed) },
          { busOnly: true },
        );
    if (parsed.sourceError || gpus.length === 0) {
      const line = parsed.sourceError?.line ?? "No devices were found";
      const failure = { state: GpuState.GPU_STATE_ERROR, detail: line, sourceError: line };
      this.fail(failure, parsed.sourceError?.code ?? "GPUTEL_E_NVSMI_NO_DEVICES", "start");
      return;
    }
    this.gpus = gpus;
    if (!this.compute.hasResult) await this.compute.poll();
    if (!this.sup.running) return;
    this.spawnStreamChild(
      this.plan,
      [...parsed.lost, ...parsed.lostByBus].map((l) => l.line),
    );
  }

  /**
   * Keeps the GPUs' UUIDs and bus ids for the next start (once per stream child, after its first
   * sample, and when it ends); a GPU saved before and not read since stays saved.
   */
  private saveGpus(gpus: readonly KnownGpu[]): void {
    this.unsavedStream = undefined;
    try {
      this.savedGpus?.update(gpus);
    } catch (error) {
      if (this.sup.admitLog("save-gpus") !== undefined)
        this.log.warn(
          { err: String(error), path: this.options.identitiesPath },
          "GPU identities not saved; a GPU lost before a restart may be reported without its UUID",
        );
    }
  }

  /** Reports a failed start-up command; true when it failed. */
  private startFailed(result: OneShotResult, what: string): boolean {
    const failed = startFailure(result, what, this.options.command[0] ?? "");
    if (failed) this.fail(failed.failure, failed.code, "start");
    return failed !== undefined;
  }

  /**
   * Starts the stream; `lostLines` (from -L) mark the GPUs they name lost from the first
   * iteration (a line naming no known GPU, by index or bus id, marks none).
   */
  private spawnStreamChild(plan: QueryPlan, lostLines: readonly string[]): void {
    const parser = new CsvStream(plan, this.gpus);
    this.unsavedStream = parser;
    for (const line of lostLines) parser.push(line, this.sup.now());
    // Those lines mark their GPUs lost; the group they opened is no iteration of the stream's
    // (kept, the stream's own first lost line would close it with the other GPUs missing: ERROR),
    // and a line that named no known GPU is not to be applied to whatever GPU the stream misses.
    parser.reset();
    this.streamSourceError = undefined;
    const child = this.sup.startStream({
      argv: [
        ...this.options.command,
        `--query-gpu=${queryArgument(plan)}`,
        "--format=csv,noheader,nounits",
        "-lms",
        String(this.options.intervalMs),
      ],
      onLine: (line) => this.handle(parser.push(line, this.sup.now())),
      firstRecordTimeoutMs: this.firstSampleTimeout(),
      recordTimeoutMs: 3 * this.options.intervalMs,
      onTimeout: (silentMs) => {
        parser.reset();
        const detail = `nvidia-smi gave no complete sample within ${silentMs} ms`;
        this.failure = { state: GpuState.GPU_STATE_TIMEOUT, detail };
        this.emitFailure(this.failure);
      },
      onExit: (info) => this.onStreamExit(parser, info),
    });
    if (!child) return;
    const fields = plan.fields.length;
    this.log.info(
      { pid: child.pid, gpus: this.gpus.length, fields, intervalMs: this.options.intervalMs },
      "Started nvidia-smi stream",
    );
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
          if (this.sup.admitLog(`lost:${event.index}`) !== undefined) {
            this.log.warn({ gpu: event.index, detail: event.line }, "GPU lost");
          }
          break;
        case "garbage": {
          this.counters.garbageLines += 1;
          const suppressed = this.sup.admitLog("garbage");
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
    this.sup.progress();
    this.failure = undefined;
    this.probes.apply(gpus, missing);
    this.compute.apply(gpus);
    this.healthPolls?.apply(gpus);
    this.emit({ timestampMs, gpus });
    if (this.unsavedStream) this.saveGpus(this.unsavedStream.knownGpus());
    this.startHealthPolls();
  }

  /**
   * After the first sample (the slow `-q -x` must never delay it), then every period: `-q -x` in
   * its lane, the NVLink polls one after the other in theirs, so a slow one holds back neither
   * sampling nor the other lane.
   */
  private startHealthPolls(): void {
    const polls = this.healthPolls;
    if (!polls || this.healthPollsStarted) return;
    this.healthPollsStarted = true;
    for (const poll of polls.polls) {
      void polls.poll(poll.kind);
      this.sup.every(poll.periodMs, () => void polls.poll(poll.kind));
    }
  }

  private emit(sample: SourceSample): void {
    this.lastEmitAt = this.sup.now();
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
      timestampMs: this.sup.now(),
      gpus,
      ...(failure.sourceError ? { sourceError: failure.sourceError } : {}),
    });
  }

  /** Reports a failure now (and every interval until samples flow again); the supervisor retries. */
  private fail(failure: Failure, code: ErrorCode, phase: "start" | "run"): void {
    this.failure = failure;
    this.emitFailure(failure);
    this.sup.reportFailure({ code, detail: failure.detail }, phase);
  }

  private repeatFailure(): void {
    if (this.failure && this.sup.now() - this.lastEmitAt >= this.options.intervalMs * 0.9)
      this.emitFailure(this.failure);
  }

  private firstSampleTimeout(): number {
    return this.options.firstSampleTimeoutMs ?? Math.max(3 * this.options.intervalMs, 10_000);
  }

  /**
   * A field `--help-query-gpu` listed but the driver refused to query (nvidia-smi then refuses
   * the whole query and exits): the next stream runs without it, so one field does not fail the
   * rest. Undefined when `line` names no field of the plan.
   */
  private dropRefusedField(line: string): FailureReport | undefined {
    const field = refusedField(line);
    const plan = this.plan && field !== undefined ? withoutField(this.plan, field) : undefined;
    if (!plan || field === undefined) return undefined;
    this.plan = plan;
    this.log.warn(
      { code: "GPUTEL_E_NVSMI_OUTPUT", field },
      "nvidia-smi refuses a field it lists; not queried",
    );
    return { code: "GPUTEL_E_NVSMI_OUTPUT", detail: line };
  }

  /** The stream ended by itself: what it printed last decides the report. */
  private onStreamExit(parser: CsvStream, info: ExitInfo): FailureReport {
    // Values printed before the exit are real; GPUs missing from that last iteration are ERROR.
    this.handle(parser.flush());
    // The UUIDs and bus ids its rows gave: the next -L may list a GPU lost since with neither.
    this.gpus = parser.knownGpus();
    this.saveGpus(this.gpus);
    const src = this.streamSourceError;
    const refused = src && this.dropRefusedField(src.line);
    if (refused) return refused;
    if (src && src.code !== "GPUTEL_E_NVSMI_OUTPUT") {
      this.failure = { state: GpuState.GPU_STATE_ERROR, detail: src.line, sourceError: src.line };
      this.emitFailure(this.failure);
      return { code: src.code, detail: src.line };
    }
    const { code, signal, error } = info;
    const detail = error
      ? error.message
      : `nvidia-smi exited with ${signal ? `signal ${signal}` : `code ${code}`}${src ? `: ${src.line}` : ""}`;
    this.failure = { state: GpuState.GPU_STATE_ERROR, detail };
    this.emitFailure(this.failure);
    return { code: error?.code === "ENOENT" ? "GPUTEL_E_NVSMI_MISSING" : "GPUTEL_E_NVSMI_EXIT", detail };
  }
}
