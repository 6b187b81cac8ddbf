// The collector's storage engine (SQLite, WAL). Raw samples live in per-GPU compressed column
// blocks sealed per window (raw_blocks) plus the unsealed samples (raw_recent); rollup tiers are
// updated incrementally from the same samples. Query functions live in store-query.ts.
//
// Public API:
//   Store.open(path: string, options?: StoreOptions): Store      opens, migrates, recovers
//   store.writeFrames(frames, receivedAtMs): WriteResult           IngestSink (one transaction)
//   store.writeInventory(inventory, receivedAtMs): void            IngestSink
//   store.writeStatus(status, receivedAtMs): void                  IngestSink
//   store.countReject(host, reason, count?): void                  IngestSink
//   store.agentSources(): AgentSourceRow[]                         agents' sources' health (statuses)
//   store.sealStale(nowMs, maxGpus?): number                       seals windows of silent GPUs
//   store.pruneStep(nowMs): { deleted: number; more: boolean }     bounded retention step
//   store.latest(keys?) / latestOne(id) / series() / samples() / aggregate() / stats() / frameCount() / rejectCounts()  (store-query.ts)
//   store.gpuTotals(range, ids?, { maxTemperature? }) / usageTable(…) (the same, flat) / host(id) / gpu(id) / idleThresholds(host)     sums and registry reads
//   store.windowTotals(windows) / gpuByUuid(uuid) / rebuildUsageEdges()   per-(GPU, window) sums from the usage edges
//   store.gpuIdSpans(parts)                                        GPU id spans for an aggregate split over read threads
//   store.fleetGpus() (memory) / hostRows() / hostStatuses() / hostMoves() / hostHistories(gpuIds) / inventory() / inventoryOf(uuid) / databaseBytes()  (fleet-reads.ts)
//   store.flagStore(): FlagStore;  store.captureLog(): CaptureLog      the other tables of this file
//   store.exportReads(): ExportReads                               slice-at-a-time reads for `gputel export`
//   store.writeEvents(events, receivedAtMs) / store.events(): EventStore  kernel-log events (event-store.ts)
//   store.parkedXids(): ParkedXids                                 Xids a share-group member parked (parked-xids.ts)
//   store.eventHorizonMs(nowMs) / pruneEvents(nowMs, batch?)        events older than the longest tier go
//   store.writeProcesses(set, receivedAtMs) / store.processes(): ProcessStore  process sessions (process-store.ts)
//   store.processHorizonMs(nowMs) / pruneProcesses(nowMs, batch?)  sessions last seen before the longest tier go
//   store.shortWait(fn): T                                         fn waiting briefly for another process's lock (busy.ts)
//   store.close(): void                                            closes without sealing (safe)
//   Store.openReader(path, options?): Store                        a read-only second connection
//   reader.read(fn, maxAgeMs?): T / reader.release()               fn on one snapshot (reader only)

import type { Database as Db, Statement } from "better-sqlite3";
import Database from "better-sqlite3";
import { errorMessage, GputelError } from "../../shared/errors.js";
import { type Logger, silentLogger } from "../../shared/logger.js";
import type { MetricKey } from "../../shared/metrics.js";
import { ensurePrivateDatabase } from "../../shared/private-files.js";
import type { IInventory, IStatus } from "../../shared/proto.js";
import { AgentState } from "../../shared/proto.js";
import { UNKNOWN_HOST } from "../ingest/reasons.js";
import type { EventWriteResult, FleetView, IngestSink, WriteResult } from "../ingest/sink.js";
import type { ValidFrame } from "../ingest/validate.js";
import type { ValidEvent } from "../ingest/validate-event.js";
import type { ValidProcessSet } from "../ingest/validate-processes.js";
import { DEFAULT_IDLE_THRESHOLDS, type IdleThresholds } from "../usage/classify.js";
import type { AggregateGroup } from "../usage/usage-sums.js";
import { type AgentSourceRow, AgentSourceTable } from "./agent-sources.js";
import { BUSY_TIMEOUT_MS, SHORT_BUSY_TIMEOUT_MS } from "./busy.js";
import { CaptureLog } from "./capture-log.js";
import { EventStore } from "./event-store.js";
import { ExportReads } from "./export-reads.js";
import { FlagStore } from "./flag-store.js";
import { type FleetGpu, FleetReads, type HostMove, type InventoryRow } from "./fleet-reads.js";
import { StoreFleetView } from "./fleet-view.js";
import { LeaseStore } from "./leases.js";
import { checkMetricLayout } from "./metric-layout.js";
import { MigDeviceStore } from "./mig-devices.js";
import { migrate } from "./migrate.js";
import { ParkedXids } from "./parked-xids.js";
import { ProcessStore } from "./process-store.js";
import { Pruner } from "./prune.js";
import { RawWriter } from "./raw-writer.js";
import { type HostRow, prepareStatements, type Statements } from "./statements.js";
import { type GpuTotals, gpuTotals, type IdSpan, idSpans, usageTable } from "./store-aggregate.js";
import * as query from "./store-query.js";
import { DEFAULT_TIER_RULES, parseTierRules, type TierConfig } from "./tiers.js";
import { TokenStore } from "./tokens.js";
import type { UsageTable } from "./usage-table.js";
import { type GpuWindow, windowTotals } from "./window-totals.js";

/**
 * The read connection maps the file: reports seek a few usage-edge rows per GPU all over the
 * file, and a mapped page is read in place instead of copied into the 64 MB page cache first (a
 * 30-day report over 10,000 GPUs read 157 MB through it each time; its edge reads took about
 * half as long mapped). This SQLite build caps the map at 2 GB (SQLITE_MAX_MMAP_SIZE; a larger
 * value is clamped), so pages past the first 2 GB of a bigger file are read as before. Never on
 * the writer; and the store never shrinks the file (no VACUUM), which could fault a mapping.
 */
const READER_MMAP_BYTES = 2 ** 31;

export interface StoreOptions {
  /** The `retention` setting: rules such as ["48h:raw", "30d:1m", "2y:1h"] (the default). */
  retention?: readonly string[];
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
  /** Set by openReader: never writes (raw_recent rows are left to the writer to delete). */
  readOnly?: boolean;
}

/**
 * The writer's SQLite page cache. Its working set is small: the tails of raw_recent and
 * raw_blocks, the hosts and frame_seen rows every batch updates, and per seal one GPU's leaf
 * pages of rollups and usage_edges (each seal reads those few from the OS's file cache when
 * they are not here). With 64 MiB the cache filled up to that with pages of no further use,
 * a tenth of the collector's memory at 10,000 GPUs (issue 19); 16 MiB writes as fast.
 */
const WRITER_CACHE_KIB = 16_384;

export class Store implements IngestSink {
  readonly tiers: TierConfig;
  /** Inside shortWait: the connection waits SHORT_BUSY_TIMEOUT_MS, else BUSY_TIMEOUT_MS (set at open). */
  private waitingShort = false;
  /** @internal */ readonly stmts: Statements;
  /** @internal */ readonly raw: RawWriter;
  /** Hosts, GPU owners and approvals for ingest's limits and claims. */
  readonly fleet: FleetView;
  /** Leases and their history (leases.ts). */
  readonly leases: LeaseStore;
  /** API tokens with roles (tokens.ts). */
  readonly tokens: TokenStore;
  /** Each GPU's MIG devices from its latest inventory. */
  readonly migDevices: MigDeviceStore;
  private readonly log: Logger;
  private readonly sources: AgentSourceTable;
  private bootsSweptMs = 0;
  private pruner: Pruner | undefined;
  private fleetReads: FleetReads | undefined;
  /** Reader only: the snapshot's PRAGMA data_version the memory was rebuilt from. */
  private loadedVersion: number | undefined;
  private snapshotRead: Statement | undefined;
  /** Reader only: when read() began the snapshot it keeps (clock ms); undefined when none. */
  private snapshotAt: number | undefined;
  private exportReader: ExportReads | undefined;
  private eventStore: EventStore | undefined;
  private parked: ParkedXids | undefined;
  private processStore: ProcessStore | undefined;

  private constructor(
    /** @internal The database handle: SQL stays in collector/store (tests may read it). */
    readonly db: Db,
    tiers: TierConfig,
    readonly options: Required<
      Pick<StoreOptions, "rawWindowMs" | "maxBlockSamples" | "graceMs" | "pruneBatch">
    > &
      StoreOptions,
  ) {
    this.tiers = tiers;
    this.stmts = prepareStatements(db);
    this.sources = new AgentSourceTable(db);
    this.leases = new LeaseStore(db);
    this.migDevices = new MigDeviceStore(db);
    this.tokens = new TokenStore(db);
    this.log = (options.logger ?? silentLogger()).child({ component: "collector.store" });
    this.raw = new RawWriter(
      db,
      this.stmts,
      this.tiers,
      options,
      options.idleThresholds ?? (() => DEFAULT_IDLE_THRESHOLDS),
    );
    this.fleet = new StoreFleetView(this.raw.registry, this.stmts, (fn) => this.guarded(fn));
  }

  static open(path: string, options: StoreOptions = {}): Store {
    const tiers = parseTierRules(options.retention ?? DEFAULT_TIER_RULES); // invalid rules fail before the file is touched
    ensurePrivateDatabase(path); // 0600 (and its -wal/-shm), in a 0700 directory when created here
    const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    try {
      // New files only (an existing one keeps its page size): raw blocks of 1-3 KiB fill 8 KiB
      // pages far better than 4 KiB ones, where one block often left half a page empty.
      db.pragma("page_size = 8192");
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      db.pragma(`cache_size = -${WRITER_CACHE_KIB}`);
      migrate(db, options.migrationsDir);
      checkMetricLayout(db, path);
      const store = new Store(db, tiers, {
        ...options,
        retention: options.retention ?? DEFAULT_TIER_RULES,
        rawWindowMs: options.rawWindowMs ?? 600_000,
        maxBlockSamples: options.maxBlockSamples ?? 2048,
        graceMs: options.graceMs ?? 120_000,
        pruneBatch: options.pruneBatch ?? 100,
      });
      if (!store.raw.edges.current()) store.raw.edges.rebuild(); // 080 on an older file, or other tiers
      store.raw.load();
      store.log.info({ path, gpus: store.raw.gpus.size }, "Store opened");
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * A second, read-only connection to a database another Store writes (WAL): for heavy reads off
   * the ingest thread (collector/api/read-worker.ts). It never migrates nor writes; read() gives
   * each call one consistent snapshot, with the memory (registry, unsealed samples, deltas)
   * rebuilt from that snapshot whenever the writer committed since.
   */
  static openReader(path: string, options: StoreOptions = {}): Store {
    const tiers = parseTierRules(options.retention ?? DEFAULT_TIER_RULES);
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      db.pragma("cache_size = -65536");
      db.pragma(`mmap_size = ${READER_MMAP_BYTES}`);
      return new Store(db, tiers, {
        ...options,
        readOnly: true,
        retention: options.retention ?? DEFAULT_TIER_RULES,
        rawWindowMs: options.rawWindowMs ?? 600_000,
        maxBlockSamples: options.maxBlockSamples ?? 2048,
        graceMs: options.graceMs ?? 120_000,
        pruneBatch: options.pruneBatch ?? 100,
      });
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * Reader only: runs fn on one snapshot of the database. Inside a read transaction
   * PRAGMA data_version is the snapshot's own, so equal versions mean the memory already matches.
   * Rebuilding the memory costs about 1 s per 1,000 GPUs with a full raw window, so a snapshot
   * younger than maxAgeMs is kept for the next call (answers up to that old); release() ends it.
   * With maxAgeMs 0 (the default) every call gets a fresh snapshot and ends it.
   */
  read<T>(fn: () => T, maxAgeMs = 0): T {
    if (!this.options.readOnly) throw new GputelError("GPUTEL_E_STORE", "read() is for Store.openReader");
    const clock = this.options.clock ?? (() => performance.now());
    if (this.snapshotAt !== undefined && clock() - this.snapshotAt > maxAgeMs) this.release();
    if (this.snapshotAt === undefined) {
      this.db.exec("BEGIN");
      try {
        // The first read fixes the snapshot.
        this.snapshotRead ??= this.db.prepare("SELECT 1 FROM hosts LIMIT 1");
        this.snapshotRead.get();
        const version = this.db.pragma("data_version", { simple: true }) as number;
        if (version !== this.loadedVersion) {
          // After a failed or first load, everything; else only what the writer committed since.
          const loaded = this.loadedVersion !== undefined;
          this.loadedVersion = undefined;
          if (!loaded || !this.raw.refresh()) this.raw.load();
          this.loadedVersion = version;
        }
      } catch (error) {
        this.db.exec("ROLLBACK");
        throw error;
      }
      this.snapshotAt = clock();
    }
    try {
      return fn();
    } finally {
      if (maxAgeMs <= 0) this.release();
    }
  }

  /** Reader only: ends the snapshot read() keeps, so the writer's checkpoints can pass it. */
  release(): void {
    if (this.snapshotAt === undefined) return;
    this.snapshotAt = undefined;
    if (this.db.inTransaction) this.db.exec("COMMIT");
  }

  /** Throws GPUTEL_E_STORE (nothing committed) when the batch cannot be written. */
  writeFrames(frames: readonly ValidFrame[], receivedAtMs: number): WriteResult {
    return this.shortWait(() =>
      this.guarded(() => this.raw.writeFrames(frames, receivedAtMs), { frames: frames.length }),
    );
  }

  /** Kernel-log events, once each (event-store.ts); throws GPUTEL_E_STORE like writeFrames. */
  writeEvents(events: readonly ValidEvent[], receivedAtMs: number): EventWriteResult {
    return this.shortWait(() =>
      this.guarded(() => this.events().insert(events, receivedAtMs), { events: events.length }),
    );
  }

  /**
   * Events are kept as long as the coarsest rollups, so a report can always show what caused its
   * downtime: one older than this is pruned, and ingest refuses it (event_too_old).
   */
  eventHorizonMs(nowMs: number): number {
    return nowMs - this.longestRetentionMs();
  }

  /** Deletes at most `batch` events older than eventHorizonMs. */
  pruneEvents(nowMs: number, batch = 500): number {
    return this.guarded(() => this.events().prune(this.eventHorizonMs(nowMs), batch));
  }

  /** A host's process set: sessions opened, extended, closed (process-store.ts); throws GPUTEL_E_STORE. */
  writeProcesses(set: ValidProcessSet, receivedAtMs: number): void {
    this.shortWait(() =>
      this.guarded(() => this.processes().write(set, receivedAtMs), { processes: set.processes.length }),
    );
  }

  /**
   * Process sessions are kept as long as events, the coarsest rollups, so a process report covers
   * what the usage reports do: one last seen before this is pruned, and ingest refuses a set older
   * than this (process_too_old), which would only store again what the prune removed.
   */
  processHorizonMs(nowMs: number): number {
    return nowMs - this.longestRetentionMs();
  }

  /** Deletes at most `batch` process sessions last seen before processHorizonMs, closed or not. */
  pruneProcesses(nowMs: number, batch = 500): number {
    return this.guarded(() => this.processes().prune(this.processHorizonMs(nowMs), batch));
  }

  private longestRetentionMs(): number {
    return Math.max(this.tiers.rawRetentionMs, ...this.tiers.rollups.map((t) => t.retentionMs));
  }

  /** The process sessions in this database (collector/migrations/085_processes.sql). */
  processes(): ProcessStore {
    this.processStore ??= new ProcessStore(this.db);
    return this.processStore;
  }

  /** The events in this database (collector/migrations/060_health.sql). */
  events(): EventStore {
    this.eventStore ??= new EventStore(this.db);
    return this.eventStore;
  }

  writeInventory(inventory: IInventory, receivedAtMs: number): void {
    this.shortWait(() =>
      this.guarded(() => {
        this.raw.registry.writeInventory(inventory, receivedAtMs);
        this.migDevices.write(inventory, receivedAtMs);
      }),
    );
  }

  writeStatus(status: IStatus, receivedAtMs: number): void {
    const host = status.host ?? "";
    if (host === "") return;
    this.shortWait(() => this.writeStatusRows(host, status, receivedAtMs));
  }

  private writeStatusRows(host: string, status: IStatus, receivedAtMs: number): void {
    this.guarded(() => {
      const h = this.raw.registry.ensureHost(host, undefined, undefined, receivedAtMs);
      const statusMs = Number(status.timestamp_ms ?? 0) || receivedAtMs;
      // Read back from the hosts table (hostRows), not kept in memory.
      this.stmts.updateHostStatus.run(
        status.state === AgentState.AGENT_STATE_ONLINE ? "online" : "offline",
        status.reason ?? "",
        statusMs,
        status.boot_id ?? "",
        status.agent_version ?? "",
        status.interval_ms ?? null,
        h.id,
      );
      const sources = status.sources ?? [];
      if (sources.length > 0) this.sources.replace(h.id, sources, statusMs);
    });
  }

  /** Each agent's sources' health as its latest status reported it, by host then source. */
  agentSources(): AgentSourceRow[] {
    return this.sources.all();
  }

  /**
   * Per host only for hosts the store knows (bounded by limits.max_hosts); everything else under
   * "-", so garbage on 10,000 invented host topics adds one row per reason, not 10,000.
   */
  countReject(host: string, reason: string, count = 1): void {
    const known = this.raw.registry.hosts.has(host) ? host : UNKNOWN_HOST;
    this.shortWait(() => this.stmts.countReject.run(known, reason, count, (this.options.now ?? Date.now)()));
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
    this.pruner ??= new Pruner(this.db, this.tiers, this.raw.edges);
    const result = this.pruner.step(nowMs, this.options.pruneBatch, budget, clock);
    if (nowMs - this.bootsSweptMs >= 60_000) {
      // frame_seen rows go after the raw retention; so do their copies in memory.
      this.raw.forgetBoots(nowMs - this.tiers.rawRetentionMs);
      this.bootsSweptMs = nowMs;
    }
    if (result.rawBlocks > 0) this.raw.blocksPruned(result.rawValues);
    return { deleted: result.deleted, more: result.more };
  }

  latest(keys?: readonly MetricKey[]): query.LatestGpu[] {
    return query.latest(this, keys);
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

  aggregate(request: query.AggregateRequest): AggregateGroup[] {
    return query.aggregate(this, request);
  }

  /** `parts` spans of GPU ids that share this store's GPUs out evenly (aggregateSums, one each). */
  gpuIdSpans(parts: number): IdSpan[] {
    return idSpans(this.raw.gpusById.keys(), parts);
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

  /** Every host's status ("online", "offline"…): what the fleet summary counts, without the rows. */
  hostStatuses(): string[] {
    return this.stmts.hostStatuses.all() as string[];
  }

  /**
   * Per-GPU usage sums (integers) over [fromMs, toMs) by GPU id; `gpuIds` limits them. From the
   * cumulative edges unless `maxTemperature` asks for the range's highest temperature (a bucket scan).
   */
  gpuTotals(
    range: { fromMs: number; toMs: number },
    gpuIds?: readonly number[],
    options: { maxTemperature?: boolean } = {},
  ): Map<number, GpuTotals> {
    return gpuTotals(this, range, gpuIds, options);
  }

  /** gpuTotals' sums as one flat table (usage-table.ts), for callers that walk every GPU. */
  usageTable(
    range: { fromMs: number; toMs: number },
    gpuIds?: readonly number[],
    options: { maxTemperature?: boolean } = {},
  ): UsageTable {
    return usageTable(this, range, gpuIds, options);
  }

  /**
   * Recomputes the cumulative usage edges from the rollups table (usage-edges.ts): done at open
   * when they are missing or were built for other tiers; a bulk load that wrote rollup rows
   * directly (bench/report.ts) calls it after.
   */
  rebuildUsageEdges(): void {
    this.raw.edges.rebuild();
  }

  /** A GPU's id, model and host by UUID (from memory); undefined for a GPU never reported. */
  gpuByUuid(uuid: string): { id: number; model: string; hostId: number } | undefined {
    return this.raw.gpus.get(uuid);
  }

  /**
   * Usage of each (GPU, window) pair in its whole minutes (window-totals.ts: a few edge seeks
   * each, all windows in one statement); for the lease reports.
   */
  windowTotals(windows: readonly GpuWindow[]): GpuTotals[] {
    return windowTotals(this, windows);
  }

  /** A host by id, with its labels parsed (from memory). */
  host(id: number): { name: string; site: string; labels: Readonly<Record<string, string>> } | undefined {
    return this.raw.hostsById.get(id);
  }

  /** A GPU's UUID, model, host and slot by id (from memory). */
  gpu(id: number): { uuid: string; model: string; hostId: number; index: number } | undefined {
    return this.raw.gpusById.get(id);
  }

  /** The idle thresholds the write path classifies this host's samples with. */
  idleThresholds(host: string): IdleThresholds {
    return this.raw.registry.hosts.get(host)?.thresholds ?? DEFAULT_IDLE_THRESHOLDS;
  }

  /**
   * Every GPU the fleet has known, by id (from memory: the registry holds every gpus row, and a
   * reader's is rebuilt with its snapshot; reading the table took a tenth of a 10,000-GPU report).
   */
  fleetGpus(): FleetGpu[] {
    const out: FleetGpu[] = [];
    for (const g of this.raw.gpusById.values())
      out.push({ id: g.id, uuid: g.uuid, model: g.model, hostId: g.hostId, firstSeenMs: g.firstSeenMs });
    return out.sort((a, b) => a.id - b.id);
  }

  /** The inventory history of GPUs that have been on more than one host. */
  hostMoves(): HostMove[] {
    return this.reads().hostMoves();
  }

  /** The inventory histories of these GPUs (which host, from when), by GPU, oldest first (one statement). */
  hostHistories(gpuIds: readonly number[]): HostMove[] {
    return this.reads().hostHistories(gpuIds);
  }

  /** Open inventory rows: of every GPU, or of one by UUID. */
  inventory(): InventoryRow[] {
    return this.reads().inventory();
  }

  inventoryOf(uuid: string): InventoryRow | undefined {
    return this.reads().inventoryOf(uuid);
  }

  databaseBytes(): number {
    return this.reads().databaseBytes();
  }

  /** The Xids a share-group member parked (parked-xids.ts, collector/migrations/099_parked_xids.sql). */
  parkedXids(): ParkedXids {
    this.parked ??= new ParkedXids(this.db);
    return this.parked;
  }

  /** The flags' tables in this database (collector/migrations/010_flags.sql). */
  flagStore(): FlagStore {
    return new FlagStore(this.db);
  }

  /** The remote_write queue in this database (collector/migrations/030_remote_write.sql). */
  captureLog(): CaptureLog {
    return new CaptureLog(this.db);
  }

  /** Slice-at-a-time raw and rollup reads for exports (export-reads.ts). */
  exportReads(): ExportReads {
    this.exportReader ??= new ExportReads(this);
    return this.exportReader;
  }

  private reads(): FleetReads {
    this.fleetReads ??= new FleetReads(this.db);
    return this.fleetReads;
  }

  /** Checkpoints the WAL into the main file (benches, backups). */
  checkpoint(): void {
    this.db.pragma("wal_checkpoint(TRUNCATE)");
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * fn with a short wait (SHORT_BUSY_TIMEOUT_MS, busy.ts) for a lock another process holds, for
   * writes on the event loop: ingest's (its pipeline retries on a timer), the API's (answered
   * 503 store_busy) and the periodic maintenance (skipped until its next round). A write that gave
   * up throws an error isStoreBusy() recognises; nothing of it is committed.
   */
  shortWait<T>(fn: () => T): T {
    // Nested (an API write inside maintenance, say): the short wait is already set.
    if (this.waitingShort) return fn();
    this.db.pragma(`busy_timeout = ${SHORT_BUSY_TIMEOUT_MS}`);
    this.waitingShort = true;
    try {
      return fn();
    } finally {
      this.waitingShort = false;
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /**
   * Runs fn in a transaction; on failure memory may hold part of it, so it is rebuilt from disk.
   * The write lock is taken first (BEGIN IMMEDIATE): when another process holds it, fn has not
   * run and memory is untouched, so the rebuild (about 1 s per 1,000 GPUs) is not needed.
   */
  private guarded<T>(fn: () => T, detail: Record<string, unknown> = {}): T {
    let ran = false;
    try {
      return this.db
        .transaction(() => {
          ran = true;
          return fn();
        })
        .immediate();
    } catch (error) {
      if (ran) this.raw.load();
      throw new GputelError("GPUTEL_E_STORE", `Store write failed: ${errorMessage(error)}`, detail, {
        cause: error,
      });
    }
  }
}
