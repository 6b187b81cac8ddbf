// Streaming reads for `gputel export` (collector/export): one GPU's samples a time slice at a
// time, and where its next stored sample or bucket lies, so an export walks any range while
// holding one slice. Each call is synchronous: a slice is read in one go, so a seal running
// between two calls moves samples from memory into a block without a slice seeing them twice
// or not at all (every sample belongs to exactly one slice by its timestamp).
//
//   rawSlice(uuid, fromMs, toMs): StoredSample[]       sorted by time; scaled integers, NaN absent
//   nextRawMs(uuid, fromMs, toMs): number | undefined  a lower bound of the first raw sample >= fromMs
//   nextBucketMs(stepMs, uuid, fromMs, toMs)            the first rollup bucket in [fromMs, toMs)
// Rollup buckets themselves are read through store.series(), the one merge of stored rows and
// in-memory deltas.
import type { Statement } from "better-sqlite3";
import { chunkSample, decodeChunk } from "./chunk-codec.js";
import type { StoredSample } from "./sample.js";
import type { Store } from "./store.js";

export class ExportReads {
  private readonly firstBlock: Statement;
  private readonly firstBucket: Statement;

  constructor(private readonly store: Store) {
    // Lowest start among the blocks holding a sample at or after fromMs (raw_blocks_gpu index).
    this.firstBlock = store.db
      .prepare("SELECT min(start_ms) FROM raw_blocks WHERE gpu_id = ? AND end_ms >= ? AND start_ms < ?")
      .pluck(true);
    this.firstBucket = store.db
      .prepare(
        "SELECT min(bucket_ms) FROM rollups WHERE step_ms = ? AND gpu_id = ? AND bucket_ms >= ? AND bucket_ms < ?",
      )
      .pluck(true);
  }

  /** Every raw sample of the GPU in [fromMs, toMs), sorted by time (sealed blocks and unsealed ones). */
  rawSlice(uuid: string, fromMs: number, toMs: number): StoredSample[] {
    const g = this.store.raw.gpus.get(uuid);
    if (!g) return [];
    const out: StoredSample[] = [];
    for (const data of this.store.stmts.seriesBlocks.all(g.id, fromMs, toMs) as Buffer[]) {
      const c = decodeChunk(data);
      for (let k = 0; k < c.n; k++) {
        const ts = c.ts[k] as number;
        if (ts >= fromMs && ts < toMs) out.push(chunkSample(c, k));
      }
    }
    for (const s of g.unsealed.samples()) if (s.ts >= fromMs && s.ts < toMs) out.push(s);
    return out.sort((a, b) => a.ts - b.ts);
  }

  /**
   * A time at or before the GPU's first raw sample in [fromMs, toMs), never before fromMs;
   * undefined when it has none there. Cheap (one index lookup), so a sparse range is skipped.
   */
  nextRawMs(uuid: string, fromMs: number, toMs: number): number | undefined {
    const g = this.store.raw.gpus.get(uuid);
    if (!g) return undefined;
    let next = Number.POSITIVE_INFINITY;
    const start = this.firstBlock.get(g.id, fromMs, toMs) as number | null;
    if (start !== null) next = Math.max(fromMs, start);
    for (const s of g.unsealed.samples()) if (s.ts >= fromMs && s.ts < toMs && s.ts < next) next = s.ts;
    return Number.isFinite(next) ? next : undefined;
  }

  /** The first bucket start of the rollup tier `stepMs` in [fromMs, toMs) holding data for the GPU. */
  nextBucketMs(stepMs: number, uuid: string, fromMs: number, toMs: number): number | undefined {
    const g = this.store.raw.gpus.get(uuid);
    const tier = this.store.tiers.rollups.findIndex((t) => t.stepMs === stepMs);
    if (!g || tier < 0) return undefined;
    let next = Number.POSITIVE_INFINITY;
    const stored = this.firstBucket.get(stepMs, g.id, fromMs, toMs) as number | null;
    if (stored !== null) next = stored;
    const deltas = g.deltas[tier];
    if (deltas)
      for (const [bucket] of deltas) if (bucket >= fromMs && bucket < toMs && bucket < next) next = bucket;
    return Number.isFinite(next) ? next : undefined;
  }
}
