// The collector's storage engine (SQLite, WAL). Raw samples live in per-GPU compressed column
// blocks sealed per window (raw_blocks) plus the unsealed samples (raw_recent); rollup tiers are
// updated incrementally from the same samples. Query functions live in store-query.ts.
//
// Public API:
//   Store.open(path: string, options?: StoreOptions): Store      opens, migrates, recovers
//   store.writeFrames(frames, receivedAtMs): WriteResult           FrameSink (one transaction)
//   store.writeInventory(inventory, receivedAtMs): void            FrameSink
//   store.writeStatus(status, receivedAtMs): void                  FrameSink
//   store.countReject(host, reason, count?): void                  FrameSink
//   store.sealStale(nowMs, maxGpus?): number                       seals windows of silent GPUs
//   store.pruneStep(nowMs): { deleted: number; more: boolean }     bounded retention step
//   store.latest() / latestOne(id) / series() / samples() / aggregate() / stats() / frameCount() / rejectCounts()  (store-query.ts)
//   store.close(): void                                            closes without sealing (safe)

import type { Database as Db } from "better-sqlite3";
import Database from "better-sqlite3";
import { errorMessage, GputelError } from "../../shared/errors.js";
import { type Logger, silentLogger } from "../../shared/logger.js";
import type { IInventory, IStatus } from "../../shared/proto.js";
import { AgentState } from "../../shared/proto.js";
import { DEFAULT_IDLE_THRESHOLDS, type IdleThresholds } from "../flags/classify.js";
import { LeaseStore } from "./leases.js";
import { migrate } from "./migrate.js";
import { Pruner } from "./prune.js";
import { RawWriter } from "./raw-writer.js";
import type { FrameSink, ValidFrame, WriteResult } from "./sink.js";
import { type HostRow, prepareStatements, type Statements } from "./statements.js";
import * as query from "./store-query.js";
import { DEFAULT_TIER_RULES, parseTierRules, type TierConfig } from "./tiers.js";
import { TokenStore } from "./tokens.js";

export interface StoreOptions {
  /** Retention rules, e.g. ["48h:raw", "30d:1m", "2y:1h"] (the default). */
  tiers?: readonly string[];
  /** Idle thresholds per host, so sites or labels can override the defaults. */
  idleThresholds?: (host: string, site: string, labels: Readonly<Record<string, string>>) => IdleThresholds;
  /** Raw block window per GPU (default 10 min). */
  rawWindowMs?: number;
  /** A window is sealed early once it holds this many samples (default 2048). */
  maxBlockSamples?: number;
  /** A silent GPU's window is sealed this long after it ends (default 2 min). */
  graceMs?: number;
  /** Rows per DELETE inside a pruneStep (default 100). */
  pruneBatch?: number;
  /** Wall-clock milliseconds, for reject counters' last_ms (tests inject a fake one). */
  now?: () => number;
  /** Monotonic milliseconds for the retention step's time budget (tests inject a fake one). */
  clock?: () => number;
  migrationsDir?: string;
  logger?: Logger;
}

export class Store implements FrameSink {
  readonly tiers: TierConfig;
  /** @internal */ readonly stmts: Statements;
  /** @internal */ readonly raw: RawWriter;
  /** Leases and their history (leases.ts). */
  readonly leases: LeaseStore;
  /** API tokens with roles (tokens.ts). */
  readonly tokens: TokenStore;
  private readonly log: Logger;
  private bootsSweptMs = 0;
  private pruner: Pruner | undefined;

  private constructor(
    readonly db: Db,
    tiers: TierConfig,
    readonly options: Required<
      Pick<StoreOptions, "rawWindowMs" | "maxBlockSamples" | "graceMs" | "pruneBatch">
    > &
      StoreOptions,
  ) {
    this.tiers = tiers;
    this.stmts = prepareStatements(db);
    this.leases = new LeaseStore(db);
    this.tokens = new TokenStore(db);
    this.log = (options.logger ?? silentLogger()).child({ component: "collector.store" });
    this.raw = new RawWriter(
      db,
      this.stmts,
      this.tiers,
      options,
      options.idleThresholds ?? (() => DEFAULT_IDLE_THRESHOLDS),
    );
  }

  static open(path: string, options: StoreOptions = {}): Store {
    const tiers = parseTierRules(options.tiers ?? DEFAULT_TIER_RULES); // invalid rules fail before the file is touched
    const db = new Database(path);
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      db.pragma("cache_size = -65536");
      migrate(db, options.migrationsDir);
      const store = new Store(db, tiers, {
        ...options,
        tiers: options.tiers ?? DEFAULT_TIER_RULES,
        rawWindowMs: options.rawWindowMs ?? 600_000,
        maxBlockSamples: options.maxBlockSamples ?? 2048,
        graceMs: options.graceMs ?? 120_000,
        pruneBatch: options.pruneBatch ?? 100,
      });
      store.raw.load();
      store.log.info({ path, gpus: store.raw.gpus.size }, "Store opened");
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Throws GPUTEL_E_STORE (nothing committed) when the batch cannot be written. */
  writeFrames(frames: readonly ValidFrame[], receivedAtMs: number): WriteResult {
    return this.guarded(() => this.raw.writeFrames(frames, receivedAtMs), { frames: frames.length });
  }

  writeInventory(inventory: IInventory, receivedAtMs: number): void {
    this.guarded(() => this.raw.registry.writeInventory(inventory, receivedAtMs));
  }

  writeStatus(status: IStatus, receivedAtMs: number): void {
    const host = status.host ?? "";
    if (host === "") return;
    this.guarded(() => {
      const h = this.raw.registry.ensureHost(host, undefined, undefined, receivedAtMs);
      // Read back from the hosts table (hostRows), not kept in memory.
      this.stmts.updateHostStatus.run(
        status.state === AgentState.AGENT_STATE_ONLINE ? "online" : "offline",
        status.reason ?? "",
        Number(status.timestamp_ms ?? 0) || receivedAtMs,
        status.boot_id ?? "",
        status.agent_version ?? "",
        status.interval_ms ?? null,
        h.id,
      );
    });
  }

  countReject(host: string, reason: string, count = 1): void {
    this.stmts.countReject.run(host, reason, count, (this.options.now ?? Date.now)());
  }

  /** Seals the windows of GPUs that stopped reporting (at most maxGpus); returns how many. */
  sealStale(nowMs: number, maxGpus = 200): number {
    return this.guarded(() => this.raw.sealStale(nowMs, maxGpus));
  }

  /** Seals every open window now (tests, benches, a clean shutdown that wants compact blocks). */
  sealAll(): void {
    this.guarded(() => this.raw.sealStale(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
  }

  /**
   * One bounded retention step (also seals the windows of GPUs that went silent); about
   * 15 ms of work (one DELETE batch may run past it). Call again soon while `more` is true.
   */
  pruneStep(nowMs: number): { deleted: number; more: boolean } {
    const clock = this.options.clock ?? (() => performance.now());
    const started = clock();
    // Sealing a window costs about 1 ms (deflate, rollup merges): a few at a time.
    let sealing = true;
    while (sealing && clock() - started < 8) sealing = this.sealStale(nowMs, 4) === 4;
    if (sealing) return { deleted: 0, more: true };
    const budget = Math.max(4, 15 - (clock() - started));
    this.pruner ??= new Pruner(this.db, this.tiers);
    const result = this.pruner.step(nowMs, this.options.pruneBatch, budget, clock);
    if (nowMs - this.bootsSweptMs >= 60_000) {
      // frame_seen rows go after the raw retention; so do their copies in memory.
      this.raw.forgetBoots(nowMs - this.tiers.rawRetentionMs);
      this.bootsSweptMs = nowMs;
    }
    this.raw.valuesStored -= result.rawValues;
    return { deleted: result.deleted, more: result.more };
  }

  latest(): query.LatestGpu[] {
    return query.latest(this);
  }

  latestOne(id: string): query.LatestGpu | undefined {
    return query.latestOne(this, id);
  }

  series(
    uuid: string,
    metricKeys: readonly string[],
    fromMs: number,
    toMs: number,
    stepMs: number,
  ): query.Series {
    return query.series(this, uuid, metricKeys, fromMs, toMs, stepMs);
  }

  samples(uuid: string, fromMs: number, toMs: number): query.RawSample[] {
    return query.samples(this, uuid, fromMs, toMs);
  }

  aggregate(request: query.AggregateRequest): query.AggregateGroup[] {
    return query.aggregate(this, request);
  }

  stats(): query.StoreStats {
    return query.stats(this);
  }

  frameCount(): number {
    return this.raw.framesStored;
  }

  rejectCounts(): query.RejectCount[] {
    return query.rejectCounts(this);
  }

  hostRows(): HostRow[] {
    return this.stmts.allHosts.all() as HostRow[];
  }

  /** Checkpoints the WAL into the main file (benches, backups). */
  checkpoint(): void {
    this.db.pragma("wal_checkpoint(TRUNCATE)");
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs fn in a transaction; on failure memory may hold part of it, so it is rebuilt from disk. */
  private guarded<T>(fn: () => T, detail: Record<string, unknown> = {}): T {
    try {
      return this.db.transaction(fn)();
    } catch (error) {
      this.raw.load();
      throw new GputelError("GPUTEL_E_STORE", `Store write failed: ${errorMessage(error)}`, detail, {
        cause: error,
      });
    }
  }
}
