// The write path: frame idempotence, the open raw windows and late samples per GPU, rollup
// deltas, and sealing them into raw_blocks / rollups. Unsealed samples are appended to
// raw_recent in one row per batch, so everything committed is on disk; load() rebuilds the
// memory from the database (at open, and after a failed transaction).
//
// Invariant: rollups table = sealed samples + samples older than the raw retention (those
// skip raw and are merged at once); memory deltas = the unsealed samples, which are exactly
// the raw_recent entries not found in a block.
import type { Database } from "better-sqlite3";
import { gpuIdOf } from "../../shared/gpu-id.js";
import type { WriteResult } from "../ingest/sink.js";
import type { ValidFrame } from "../ingest/validate.js";
import { classifySample, type IdleThresholds } from "../usage/classify.js";
import { chunkSample, chunkTimestamps, decodeChunk, encodeChunk } from "./chunk-codec.js";
import { type GpuMem, hasUnsealed, setLatest, windowStart } from "./gpu-state.js";
import { type HostMem, Registry, type ThresholdsFn } from "./registry.js";
import { applySample } from "./rollup-acc.js";
import { RollupDeltas, type TierDeltas } from "./rollup-deltas.js";
import { flushDelta } from "./rollup-rows.js";
import {
  classifyView,
  encodeRecentRow,
  forEachRecentEntry,
  METRIC_COUNT,
  RECENT_ROW_FORMAT,
  type StoredSample,
  scaleSampleInto,
  writeRecentEntry,
} from "./sample.js";
import { SeqRanges } from "./seq-ranges.js";
import type { Statements } from "./statements.js";
import type { StoreOptions } from "./store.js";
import type { TierConfig } from "./tiers.js";
import { UsageEdges } from "./usage-edges.js";
import { ByteWriter } from "./varint.js";

/** Per rollup tier, accumulated apart (samples older than the raw retention: tiers differ). */
type Deltas = RollupDeltas[];

/** A GPU's sealed sample times read so far while restoring: every block's from fromTs up to its sealed end. */
interface SealedTimes {
  fromTs: number;
  times: Set<number>;
}

export class RawWriter {
  readonly registry: Registry;
  /** Cumulative usage at bucket edges, kept in step with every merge into the rollups. */
  readonly edges: UsageEdges;
  framesStored = 0;
  /** Present metric values in the raw tier (sealed and unsealed). */
  valuesStored = 0;
  private readonly batch = new ByteWriter(1 << 16);
  private readonly blockCache = new Map<number, Set<number>>();
  private nextRowId = 1;
  /** raw_recent rows below this id are deleted; a seal since the last release may move it. */
  private releasedBelow = 0;
  private sealedSinceRelease = false;
  /** Whether the batch being written appended a sample (its raw_recent row is needed). */
  private rowUsed = false;
  /** The sample being written: one object for all (what keeps a sample copies it). */
  private readonly sample: StoredSample = {
    ts: 0,
    intervalMs: 0,
    state: 0,
    vals: new Float64Array(METRIC_COUNT),
  };

  constructor(
    private readonly db: Database,
    private readonly stmts: Statements,
    private readonly tiers: TierConfig,
    private readonly opts: Required<Pick<StoreOptions, "rawWindowMs" | "maxBlockSamples" | "graceMs">> &
      Pick<StoreOptions, "readOnly">,
    thresholdsFor: ThresholdsFn,
  ) {
    this.registry = new Registry(
      db,
      stmts,
      tiers.rollups.map((t) => t.stepMs),
      opts.rawWindowMs,
      thresholdsFor,
    );
    this.edges = new UsageEdges(
      db,
      tiers.rollups.map((t) => t.stepMs),
    );
  }

  get gpus(): ReadonlyMap<string, GpuMem> {
    return this.registry.gpus;
  }

  get gpusById(): ReadonlyMap<number, GpuMem> {
    return this.registry.gpusById;
  }

  get hostsById(): ReadonlyMap<number, HostMem> {
    return this.registry.hostsById;
  }

  /** Rebuilds memory from disk: registry, unsealed samples, rollup deltas, latest values. */
  load(): void {
    this.registry.load();
    this.blockCache.clear();
    this.releasedBelow = 0;
    this.framesStored = 0;
    this.valuesStored = (
      this.db.prepare("SELECT coalesce(sum(values_count), 0) AS v FROM raw_blocks").get() as { v: number }
    ).v;
    const maxId = this.maxRecentId();
    this.nextRowId = maxId + 1;
    this.restoreRecent(0);
    this.releaseRows();
    this.latestFromBlocks();
  }

  /**
   * Reader only (the read worker, at each newer snapshot): the memory load() would build, without
   * decoding every unsealed sample again. load() took 4.5 s at 10,000 GPUs with a 10-minute window
   * of 10 s frames (bench: api.reader_refresh_10k_gpus_ms), and a live collector commits between
   * any two snapshots. The samples held stay; those a block now holds (the writer sealed them)
   * go, and their GPU's deltas are summed again from the rest; raw_recent rows newer than the
   * last read are added as load() adds them. False when that cannot follow the database
   * (Registry.refresh, or rows gone from the top of raw_recent): the caller then calls load().
   * valuesStored stays the figure of the last load() (the writer's store answers stats).
   */
  refresh(): boolean {
    if (!this.registry.refresh()) return false;
    // Row ids only grow while a reader lives: its writer (the same process) numbers rows on from
    // max(id) + 1. A top below the last row read (the top rows released, or numbered again by
    // another writer): load(), which then has little or nothing to decode.
    const maxId = this.maxRecentId();
    if (maxId < this.nextRowId - 1) return false;
    this.blockCache.clear();
    const oldestRow = this.minRecentId();
    for (const g of this.registry.gpus.values()) {
      g.sealedEnd = -1; // the writer may have sealed since: read again when asked
      if (!hasUnsealed(g)) continue;
      // The writer deletes a row only once every GPU sealed past it, and a seal takes all a GPU
      // holds: its oldest row gone, g was sealed since, even where retention has deleted the
      // blocks too (a reader unasked for longer than the raw retention), which dropSealed misses.
      if (g.firstRow < oldestRow) forgetHeld(g);
      else this.dropSealed(g);
    }
    const fromId = this.nextRowId;
    this.nextRowId = maxId + 1;
    this.restoreRecent(fromId);
    this.releaseRows();
    this.latestFromBlocks();
    return true;
  }

  private maxRecentId(): number {
    return (this.db.prepare("SELECT coalesce(max(id), 0) AS m FROM raw_recent").get() as { m: number }).m;
  }

  /** The oldest raw_recent row left (the rows below it the writer released); 0 when none is. */
  private minRecentId(): number {
    return (this.db.prepare("SELECT coalesce(min(id), 0) AS m FROM raw_recent").get() as { m: number }).m;
  }

  /**
   * Puts back the samples of raw_recent rows from fromId on that no block holds yet, row by row:
   * at 10,000 GPUs x a 10-minute window at 1 s, decoding them all before restoring any held 6
   * million sample objects at once (about 4.5 GB at the peak, against the 360 MB they take held).
   */
  private restoreRecent(fromId: number): void {
    const rows = this.db
      .prepare("SELECT id, data, format FROM raw_recent WHERE id >= ? ORDER BY id")
      .raw(true);
    const restored = new Map<GpuMem, SealedTimes>();
    const scratch = this.sample; // restoreSample copies what it keeps (append, setLatest)
    for (const [rowId, data, format] of rows.iterate(fromId) as Iterable<[number, Buffer, number]>) {
      forEachRecentEntry(data, format, scratch, (gpuId, sample) => {
        const g = this.registry.gpusById.get(gpuId);
        if (!g) return;
        let sealed = restored.get(g);
        if (!sealed) {
          sealed = { fromTs: Number.POSITIVE_INFINITY, times: new Set() };
          restored.set(g, sealed);
        }
        this.restoreSample(g, sample, rowId, sealed);
      });
    }
    for (const g of restored.keys()) this.windowAfterRestore(g);
  }

  /** One sample of a raw_recent row back into g, unless a block holds it or g holds it already. */
  private restoreSample(g: GpuMem, s: StoredSample, rowId: number, sealed: SealedTimes): void {
    const sealedEnd = this.sealedEnd(g);
    if (s.ts <= sealedEnd) {
      // Rows still hold samples sealed since (a row goes only when all of its samples are): the
      // blocks that may hold them are read once per stretch of time, not once per sample.
      if (s.ts < sealed.fromTs) {
        const upTo = Math.min(sealedEnd, sealed.fromTs);
        for (const b of this.stmts.blocksCovering.all(g.id, s.ts, upTo) as { data: Buffer }[])
          for (const ts of chunkTimestamps(b.data)) sealed.times.add(ts);
        sealed.fromTs = s.ts;
      }
      if (sealed.times.has(s.ts)) return;
    }
    if (s.ts <= g.maxTs && g.unsealed.has(s.ts)) return;
    this.append(g, s, rowId);
    this.applyRaw(g, s, this.registry.hostsById.get(g.hostId)?.thresholds);
    if (!g.latest || g.latest.ts <= s.ts) setLatest(g, s);
    this.valuesStored += presentCount(s);
  }

  /**
   * Each GPU's latest sample: its newest block's last one where that is newer than every sample
   * held (all of them after a seal; or a late sample is the only one held), as the writer's
   * setLatest keeps it. One index seek per GPU; a block is decoded only where it is newer.
   */
  private latestFromBlocks(): void {
    for (const g of this.registry.gpus.values()) {
      if (this.sealedEnd(g) <= (g.latest?.ts ?? Number.NEGATIVE_INFINITY)) continue;
      const data = this.stmts.lastBlock.get(g.id) as Buffer | undefined;
      if (!data) continue;
      const c = decodeChunk(data);
      setLatest(g, chunkSample(c, c.n - 1));
    }
  }

  /**
   * Forgets the held samples of g that a block holds now (one index seek when none does, the
   * usual case between two snapshots) and sums its deltas again from the samples left, in order.
   */
  private dropSealed(g: GpuMem): void {
    const sealed = new Set<number>();
    for (const b of this.stmts.blocksCovering.all(g.id, g.unsealed.minTs, g.maxTs) as { data: Buffer }[]) {
      for (const ts of chunkTimestamps(b.data)) sealed.add(ts);
    }
    if (sealed.size === 0) return;
    const held = g.unsealed.samples();
    const kept = held.filter((s) => !sealed.has(s.ts));
    if (kept.length === held.length) return;
    // The rows of the samples kept are not known here; the oldest row held before bounds them.
    const firstRow = g.firstRow;
    forgetHeld(g);
    const thresholds = this.registry.hostsById.get(g.hostId)?.thresholds;
    for (const s of kept) {
      this.append(g, s, firstRow);
      this.applyRaw(g, s, thresholds);
    }
    this.windowAfterRestore(g);
  }

  /** The window a GPU holding restored samples has open: the one of its newest sample. */
  private windowAfterRestore(g: GpuMem): void {
    if (hasUnsealed(g))
      g.windowEnd = windowStart(g.maxTs, g.phaseMs, this.opts.rawWindowMs) + this.opts.rawWindowMs;
  }

  private append(g: GpuMem, s: StoredSample, rowId: number): void {
    g.unsealed.append(s);
    if (s.ts > g.maxTs) g.maxTs = s.ts;
    if (rowId < g.firstRow) g.firstRow = rowId;
    this.rowUsed = true;
  }

  private sealedEnd(g: GpuMem): number {
    if (g.sealedEnd === -1) {
      const row = this.stmts.sealedEnd.get(g.id) as { e: number | null };
      g.sealedEnd = row.e ?? Number.NEGATIVE_INFINITY;
    }
    return g.sealedEnd;
  }

  writeFrames(frames: readonly ValidFrame[], nowMs: number): WriteResult {
    let stored = 0;
    let duplicates = 0;
    const touched = new Map<HostMem, Set<string>>();
    const rawCutoff = nowMs - this.tiers.rawRetentionMs;
    const rowId = this.nextRowId;
    const old = new Map<GpuMem, Deltas>();
    this.batch.length = 0;
    this.rowUsed = false;
    for (const frame of frames) {
      const h = this.registry.ensureHost(frame.host, frame.site ?? undefined, frame.labels, nowMs);
      let seen = h.seen.get(frame.boot_id);
      if (!seen) {
        const row = this.stmts.getSeen.get(h.id, frame.boot_id) as { ranges: string } | undefined;
        seen = row ? SeqRanges.parse(row.ranges) : new SeqRanges();
        h.seen.set(frame.boot_id, seen);
      }
      seen.touchedMs = nowMs;
      if (!seen.add(frame.seq)) {
        duplicates++;
        continue;
      }
      let boots = touched.get(h);
      if (!boots) {
        boots = new Set();
        touched.set(h, boots);
      }
      boots.add(frame.boot_id);
      if (frame.timestamp_ms > h.lastSeenMs) h.lastSeenMs = frame.timestamp_ms;
      let added = 0;
      const gpus = frame.gpus ?? [];
      for (const gpu of gpus) {
        const uuid = gpuIdOf(frame.host, gpu.uuid, gpu.index);
        const g = this.registry.ensureGpu(uuid, h, gpu.index ?? 0, nowMs);
        const s = this.sample;
        s.ts = frame.timestamp_ms;
        s.intervalMs = frame.interval_ms;
        s.state = gpu.state ?? 0;
        scaleSampleInto(gpu, s.vals);
        const ok = s.ts >= rawCutoff ? this.addRaw(g, h, s, rowId) : this.addOld(g, h, s, old, nowMs);
        if (ok) added++;
      }
      if (added > 0 || gpus.length === 0) stored++;
      else duplicates++;
    }
    if (this.rowUsed) {
      this.stmts.insertRecent.run(rowId, encodeRecentRow(this.batch.view()), RECENT_ROW_FORMAT);
      this.nextRowId++;
    }
    if (this.sealedSinceRelease) this.releaseRows();
    for (const [g, deltas] of old) this.flushDeltas(g, deltas);
    for (const [h, boots] of touched) {
      for (const boot of boots) this.stmts.putSeen.run(h.id, boot, String(h.seen.get(boot)), nowMs);
      this.stmts.updateHostSeen.run(h.lastSeenMs, h.id);
    }
    this.framesStored += stored;
    return { stored, duplicates };
  }

  /** A sample within the raw retention; false when it is a duplicate (same GPU and timestamp). */
  private addRaw(g: GpuMem, h: HostMem, s: StoredSample, rowId: number): boolean {
    if (g.windowEnd !== 0 && s.ts >= g.windowEnd) this.seal(g);
    // Duplicates: among the unsealed samples (a scan only for out-of-order ones), then blocks.
    if (s.ts <= g.maxTs && g.unsealed.has(s.ts)) return false;
    if (this.inSealedBlock(g, s.ts)) return false;
    if (g.windowEnd === 0) {
      // The window follows the newest sample seen, so a late one does not open a window in the past.
      const newest = Math.max(s.ts, g.latest?.ts ?? s.ts);
      g.windowEnd = windowStart(newest, g.phaseMs, this.opts.rawWindowMs) + this.opts.rawWindowMs;
    }
    this.append(g, s, rowId);
    writeRecentEntry(this.batch, g.id, s);
    this.applyRaw(g, s, h.thresholds);
    if (!g.latest || g.latest.ts <= s.ts) setLatest(g, s);
    this.valuesStored += g.unsealed.lastValues;
    if (g.unsealed.count >= this.opts.maxBlockSamples) this.seal(g);
    return true;
  }

  /**
   * A sample older than the raw retention (a long replay): rollup tiers only, merged into the
   * rollups table in this transaction. Only the frame sequence guards against duplicates here.
   */
  private addOld(g: GpuMem, h: HostMem, s: StoredSample, old: Map<GpuMem, Deltas>, nowMs: number): boolean {
    let deltas = old.get(g);
    if (!deltas) {
      deltas = this.tiers.rollups.map(() => new RollupDeltas());
      old.set(g, deltas);
    }
    this.applyRollups(deltas, s, h.thresholds, nowMs);
    return true;
  }

  /**
   * A raw sample into the GPU's finest-tier delta, which the coarser tiers read merged: every
   * tier's retention holds a raw sample (tiers.ts), so each would take it.
   */
  private applyRaw(g: GpuMem, s: StoredSample, thresholds: IdleThresholds | undefined): void {
    const finest = this.tiers.rollups[0];
    if (!finest) return;
    const usage = thresholds ? classifySample(classifyView(s.state, s.vals), thresholds) : "unknown";
    const step = finest.stepMs;
    applySample(g.rollup.acc(s.ts - (((s.ts % step) + step) % step)), s.ts, s.intervalMs, s.vals, usage);
  }

  /** Adds the sample to the delta of each tier whose retention (counted back from nowMs) holds it. */
  private applyRollups(
    deltas: Deltas,
    s: StoredSample,
    thresholds: IdleThresholds | undefined,
    nowMs: number,
  ): void {
    const usage = thresholds ? classifySample(classifyView(s.state, s.vals), thresholds) : "unknown";
    const tiers = this.tiers.rollups;
    for (let t = 0; t < tiers.length; t++) {
      const tier = tiers[t] as { stepMs: number; retentionMs: number };
      if (s.ts < nowMs - tier.retentionMs) continue;
      const step = tier.stepMs;
      const bucket = s.ts - (((s.ts % step) + step) % step);
      const acc = (deltas[t] as RollupDeltas).acc(bucket);
      applySample(acc, s.ts, s.intervalMs, s.vals, usage);
    }
  }

  /** Merges deltas into the rollups table, every tier before any is cleared (coarser ones read the finest). */
  private flushDeltas(g: GpuMem, deltas: readonly TierDeltas[]): void {
    const tiers = this.tiers.rollups;
    for (let t = 0; t < tiers.length; t++) {
      const step = (tiers[t] as { stepMs: number }).stepMs;
      for (const [bucket, acc] of deltas[t] ?? [])
        flushDelta(this.stmts, step, g.id, bucket, acc, (by) => this.edges.added(t, g.id, bucket, by));
    }
  }

  /** Whether a sealed block of this GPU already holds a sample at ts. */
  private inSealedBlock(g: GpuMem, ts: number): boolean {
    if (ts > this.sealedEnd(g)) return false;
    for (const b of this.stmts.blocksCovering.all(g.id, ts, ts) as { id: number; data: Buffer }[]) {
      let set = this.blockCache.get(b.id);
      if (!set) {
        set = new Set(chunkTimestamps(b.data));
        if (this.blockCache.size > 256) this.blockCache.clear();
        this.blockCache.set(b.id, set);
      }
      if (set.has(ts)) return true;
    }
    return false;
  }

  /**
   * Seals everything unsealed of one GPU: blocks written (sorted; late samples included, so a
   * block may overlap older ones in time), recent rows released, deltas merged.
   */
  seal(g: GpuMem): void {
    if (hasUnsealed(g)) {
      const samples = g.unsealed.samples().sort((a, b) => a.ts - b.ts);
      const max = this.opts.maxBlockSamples;
      // One block (the usual case): the unsealed samples' value count is the block's.
      if (samples.length <= max) this.insertBlock(g, samples, g.unsealed.values);
      else for (let i = 0; i < samples.length; i += max) this.insertBlock(g, samples.slice(i, i + max));
    }
    this.sealedSinceRelease = true;
    this.flushDeltas(g, g.deltas);
    forgetHeld(g);
  }

  /**
   * Deletes the raw_recent rows older than every GPU's oldest unsealed sample: a row goes once
   * nothing in it is unsealed (one number per GPU, not a row map per GPU: 10,000 GPUs hold
   * 600 rows each). Rows live about one window, as each row holds GPUs of several phases anyway.
   */
  private releaseRows(): void {
    this.sealedSinceRelease = false;
    let below = this.nextRowId;
    for (const g of this.registry.gpus.values()) if (g.firstRow < below) below = g.firstRow;
    if (below <= this.releasedBelow) return;
    // A read-only reader (the API's read worker) never deletes: the writer owns the rows.
    if (!this.opts.readOnly) this.stmts.deleteRecentBelow.run(below);
    this.releasedBelow = below;
  }

  private insertBlock(g: GpuMem, samples: readonly StoredSample[], counted?: number): void {
    let values = counted ?? 0;
    if (counted === undefined) for (const s of samples) values += presentCount(s);
    const first = (samples[0] as StoredSample).ts;
    const last = (samples[samples.length - 1] as StoredSample).ts;
    this.stmts.insertBlock.run(g.id, first, last, samples.length, values, encodeChunk(samples));
    if (last > this.sealedEnd(g)) g.sealedEnd = last;
  }

  /**
   * Raw blocks were deleted (retention): their present values leave the count, and the block
   * timestamps cached by row id go, since SQLite gives a deleted newest row's id to the next
   * block (a fleet silent past the raw retention), whose samples the cache would then misstate.
   */
  blocksPruned(values: number): void {
    this.valuesStored -= values;
    this.blockCache.clear();
  }

  /** Forgets in memory the sequence numbers of boots not heard from since olderThanMs. */
  forgetBoots(olderThanMs: number): void {
    for (const h of this.registry.hosts.values()) {
      for (const [boot, seen] of h.seen) if (seen.touchedMs < olderThanMs) h.seen.delete(boot);
    }
  }

  /** Seals GPUs whose window ended more than the grace ago (they stopped reporting). */
  sealStale(nowMs: number, maxGpus: number): number {
    let sealed = 0;
    for (const g of this.registry.gpus.values()) {
      if (sealed >= maxGpus) break;
      if (!hasUnsealed(g)) continue;
      if (g.windowEnd !== 0 && g.windowEnd + this.opts.graceMs > nowMs) continue;
      this.seal(g);
      sealed++;
    }
    if (this.sealedSinceRelease) this.releaseRows();
    return sealed;
  }
}

/** Forgets every sample g holds and their deltas (after a seal, or when a reader drops sealed ones). */
function forgetHeld(g: GpuMem): void {
  g.unsealed.clear();
  g.rollup.clear();
  g.maxTs = Number.NEGATIVE_INFINITY;
  g.firstRow = Number.POSITIVE_INFINITY;
  g.windowEnd = 0;
}

function presentCount(s: StoredSample): number {
  let n = 0;
  for (let m = 0; m < METRIC_COUNT; m++) if (!Number.isNaN(s.vals[m] as number)) n++;
  return n;
}
