// The remote_write exporter: a loop of its own, off the ingest path, that reads what the store
// committed (collector/store/capture-log.ts), cuts batches (series.ts), sends them (sender.ts) and moves the
// persistent cursor once every batch from the rows read was sent or dropped. A restart resumes
// at the cursor; a batch interrupted mid-row is sent again (receivers ignore an identical
// sample at the same timestamp), so delivery is at least once.
import { backoffMs } from "../../shared/backoff.js";
import { errorMessage } from "../../shared/errors.js";
import { type Logger, LogThrottle } from "../../shared/logger.js";
import type { CaptureLog } from "../store/capture-log.js";
import { readRecentRow } from "../store/sample.js";
import type { Store } from "../store/store.js";
import { classify, encodeBody, fetchPost, type PostFn, requestHeaders } from "./sender.js";
import { type Batch, type GpuIdentity, planBatches, SeriesLabels } from "./series.js";

export interface RemoteWriteOptions {
  /** Receiver endpoint: Prometheus/VictoriaMetrics `/api/v1/write`, Mimir `/api/v1/push`. */
  url: string;
  /** Mimir/Cortex tenant, sent as X-Scope-OrgID. */
  tenant?: string;
  headers?: Readonly<Record<string, string>>;
  /** Values per request at most. */
  batchSamples: number;
  /** Pause when everything was sent. */
  intervalMs: number;
  store: Store;
  logger: Logger;
  /** Queue bound in log rows (one per store write batch; default 200,000): the oldest go past it. */
  maxPendingRows?: number;
  rowsPerRead?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
  post?: PostFn;
  now?: () => number;
}

export interface RemoteWriteStats {
  samplesSent: number;
  samplesDropped: number;
  batchesSent: number;
  batchesDropped: number;
  backlogBatches: number;
  retries: number;
  rowsSkipped: number;
  pendingRows: number;
  lastError: string | undefined;
}

class Stopped extends Error {}

export class RemoteWriteExporter {
  private readonly log: Logger;
  private readonly throttle = new LogThrottle(60_000);
  private readonly capture: CaptureLog;
  private readonly lastSent = new Map<number, number>();
  private readonly seriesLabels = new SeriesLabels();
  private running = false;
  private loopDone: Promise<void> | undefined;
  /** Ends the idle pause early (drained(), stop()). */
  private wake: (() => void) | undefined;
  /** Ends a retry backoff early (stop() only). */
  private wakeBackoff: (() => void) | undefined;
  private readonly counters = {
    samplesSent: 0,
    samplesDropped: 0,
    batchesSent: 0,
    batchesDropped: 0,
    backlogBatches: 0,
    retries: 0,
    rowsSkipped: 0,
  };
  private lastError: string | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: RemoteWriteOptions) {
    this.log = options.logger.child({ component: "collector.remote-write" });
    this.capture = options.store.captureLog();
  }

  /** Switches the capture off and empties the queue (call when remote_write is not configured). */
  static disable(store: Store): void {
    store.captureLog().disable();
  }

  start(): void {
    this.capture.enable();
    this.running = true;
    this.loopDone = this.loop();
    this.log.info({ url: this.options.url, tenant: this.options.tenant }, "Remote write started");
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.wakeBackoff?.();
    await this.loopDone;
  }

  /** Resolves once everything committed before the call has been sent or dropped (tests, shutdown). */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.wake?.();
    });
  }

  stats(): RemoteWriteStats {
    const cursor = this.capture.cursor();
    return { ...this.counters, pendingRows: this.capture.pending(cursor.lastId), lastError: this.lastError };
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let more = false;
      const waiters = this.idleWaiters.splice(0);
      try {
        more = await this.step();
      } catch (error) {
        if (error instanceof Stopped) break;
        this.warn("step", "Remote write step failed", { err: errorMessage(error) });
      }
      if (more) {
        this.idleWaiters.unshift(...waiters);
        continue;
      }
      for (const resolve of waiters) resolve();
      if (this.idleWaiters.length > 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** One read of the queue; true when rows were handled (there may be more). */
  private async step(): Promise<boolean> {
    const o = this.options;
    const now = o.now ?? Date.now;
    let { lastId } = this.capture.cursor();
    const trimmed = this.capture.trim(lastId, o.maxPendingRows ?? 200_000, now());
    if (trimmed.rows > 0) {
      this.counters.rowsSkipped += trimmed.rows;
      lastId = trimmed.toId;
      this.warn("trim", "Remote write queue full; oldest rows dropped", { rows: trimmed.rows });
    }
    const rows = this.capture.read(lastId, o.rowsPerRead ?? 64);
    const last = rows[rows.length - 1];
    if (!last) return false;
    const entries = rows.flatMap((r) => readRecentRow(r.data, r.format));
    const { batches, unknown } = planBatches(
      entries,
      (id) => this.identity(id),
      this.lastSent,
      o.batchSamples,
      this.seriesLabels,
    );
    if (unknown > 0) this.warn("unknown", "Samples of an unknown GPU skipped", { samples: unknown });
    let sent = 0;
    let dropped = 0;
    for (const batch of batches) {
      if (await this.send(batch)) sent += batch.samples;
      else dropped += batch.samples;
    }
    this.capture.advance(last.id, sent, dropped, now());
    return true;
  }

  /** Sends one batch until it is accepted (true) or refused for good (false). */
  private async send(batch: Batch): Promise<boolean> {
    const o = this.options;
    const post = o.post ?? fetchPost(o.timeoutMs ?? 30_000);
    const body = encodeBody(batch.series);
    const headers = requestHeaders(o.tenant, o.headers ?? {});
    for (let attempt = 0; ; attempt++) {
      if (!this.running) throw new Stopped();
      const result = await post(o.url, body, headers);
      const outcome = classify(result.status);
      if (outcome === "sent") {
        this.counters.samplesSent += batch.samples;
        this.counters.batchesSent += 1;
        if (batch.backlog) this.counters.backlogBatches += 1;
        return true;
      }
      this.lastError = `${result.status} ${result.body}`.trim();
      if (outcome === "drop") {
        this.counters.samplesDropped += batch.samples;
        this.counters.batchesDropped += 1;
        this.warn("drop", "Remote write batch refused; dropped", {
          status: result.status,
          body: result.body,
          samples: batch.samples,
          backlog: batch.backlog,
        });
        return false;
      }
      this.counters.retries += 1;
      const delay = backoffMs(attempt, o.minBackoffMs ?? 500, o.maxBackoffMs ?? 30_000);
      this.warn("retry", "Remote write failed; retrying", {
        status: result.status,
        body: result.body,
        delay,
      });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeBackoff = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeBackoff = undefined;
    }
  }

  private identity(gpuId: number): GpuIdentity | undefined {
    const store = this.options.store;
    const g = store.gpu(gpuId);
    const h = g ? store.host(g.hostId) : undefined;
    if (!g || !h) return undefined;
    return { host: h.name, index: g.index, uuid: g.uuid, model: g.model, site: h.site, labels: h.labels };
  }

  private warn(key: string, message: string, fields: Record<string, unknown>): void {
    const suppressed = this.throttle.admit(key);
    if (suppressed === undefined) return;
    this.log.warn({ code: "GPUTEL_E_REMOTE_WRITE", url: this.options.url, suppressed, ...fields }, message);
  }
}
