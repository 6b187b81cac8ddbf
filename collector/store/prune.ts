// Retention in small steps: each call deletes rows in batches until a time budget is spent,
// so one step stays far below the 50 ms ingest may wait. The collector calls it from a timer
// and again soon while `more` is true.
//
// Granularity: a raw block goes once its last sample is past the raw retention (blocks hold
// about one window, 10 min by default); a rollup bucket goes once its end is past its tier's.
import type { Database, Statement } from "better-sqlite3";
import type { TierConfig } from "./tiers.js";
import type { UsageEdges } from "./usage-edges.js";
import { EdgePruner } from "./usage-edges-prune.js";

export interface PruneResult {
  deleted: number;
  more: boolean;
  /** Present metric values removed with the raw blocks (keeps the samples-stored figure true). */
  rawValues: number;
  /** Raw blocks removed: their row ids may be given to new blocks (RawWriter.blocksPruned). */
  rawBlocks: number;
}

/** The retention statements of one open database, prepared once; step() runs them in budget. */
export class Pruner {
  private readonly rawBlocks: Statement;
  private readonly rollups: Statement;
  private readonly frameSeen: Statement;
  private readonly edgePruner: EdgePruner | undefined;

  constructor(
    private readonly db: Database,
    private readonly tiers: TierConfig,
    edges?: UsageEdges,
  ) {
    this.edgePruner = edges
      ? new EdgePruner(
          db,
          edges,
          tiers.rollups.map((t) => t.stepMs),
        )
      : undefined;
    this.rawBlocks = db
      .prepare(
        "DELETE FROM raw_blocks WHERE id IN (SELECT id FROM raw_blocks WHERE end_ms < ? ORDER BY end_ms LIMIT ?) RETURNING values_count",
      )
      .pluck(true);
    this.rollups = db.prepare(
      `DELETE FROM rollups WHERE (step_ms, gpu_id, bucket_ms) IN
         (SELECT step_ms, gpu_id, bucket_ms FROM rollups WHERE step_ms = ? AND bucket_ms <= ? LIMIT ?)`,
    );
    this.frameSeen = db.prepare(
      "DELETE FROM frame_seen WHERE (host_id, boot_id) IN (SELECT host_id, boot_id FROM frame_seen WHERE updated_ms < ? LIMIT ?)",
    );
  }

  step(
    nowMs: number,
    batch: number,
    budgetMs = 20,
    clock: () => number = () => performance.now(),
  ): PruneResult {
    const started = clock();
    const result: PruneResult = { deleted: 0, more: false, rawValues: 0, rawBlocks: 0 };
    // Each job deletes one batch: `full` when it did a whole batch and has more.
    const batchOf = (deleted: number) => ({ deleted, full: deleted >= batch });
    const jobs: (() => { deleted: number; full: boolean })[] = [
      () => {
        const gone = this.rawBlocks.all(nowMs - this.tiers.rawRetentionMs, batch) as number[];
        for (const v of gone) result.rawValues += v;
        result.rawBlocks += gone.length;
        return batchOf(gone.length);
      },
      ...this.tiers.rollups.map(
        (tier) => () =>
          batchOf(this.rollups.run(tier.stepMs, nowMs - tier.retentionMs - tier.stepMs, batch).changes),
      ),
      ...this.tiers.rollups.map(
        (tier, t) => () =>
          this.edgePruner?.step(t, nowMs - tier.retentionMs - tier.stepMs, batch) ?? batchOf(0),
      ),
      () => batchOf(this.frameSeen.run(nowMs - this.tiers.rawRetentionMs, batch).changes),
    ];
    for (const job of jobs) {
      for (;;) {
        if (clock() - started >= budgetMs) {
          result.more = true;
          return result;
        }
        const done = this.db.transaction(job)();
        result.deleted += done.deleted;
        if (!done.full) break;
      }
    }
    return result;
  }
}
