// Retention in small steps: each call deletes at most `batch` rows per table, so one step
// stays far below the 50 ms ingest may wait. The collector calls it from a timer and calls
// again at once while `more` is true.
//
// Granularity: a raw block goes once its last sample is past the raw retention (blocks hold
// about one window, 10 min by default); a rollup bucket goes once its end is past its tier's.
import type { Database } from "better-sqlite3";
import type { TierConfig } from "./tiers.js";

export function pruneStep(
  db: Database,
  tiers: TierConfig,
  nowMs: number,
  batch: number,
): { deleted: number; more: boolean; rawValues: number } {
  let deleted = 0;
  let rawValues = 0;
  let more = false;
  const run = (sql: string, ...params: number[]) => {
    const changes = db.prepare(sql).run(...params, batch).changes;
    deleted += changes;
    if (changes >= batch) more = true;
  };
  db.transaction(() => {
    const gone = db
      .prepare(
        "DELETE FROM raw_blocks WHERE id IN (SELECT id FROM raw_blocks WHERE end_ms < ? ORDER BY end_ms LIMIT ?) RETURNING values_count",
      )
      .all(nowMs - tiers.rawRetentionMs, batch) as { values_count: number }[];
    for (const row of gone) rawValues += row.values_count;
    deleted += gone.length;
    if (gone.length >= batch) more = true;
    for (const tier of tiers.rollups) {
      run(
        `DELETE FROM rollups WHERE (step_ms, gpu_id, bucket_ms) IN
           (SELECT step_ms, gpu_id, bucket_ms FROM rollups WHERE step_ms = ? AND bucket_ms <= ? LIMIT ?)`,
        tier.stepMs,
        nowMs - tier.retentionMs - tier.stepMs,
      );
    }
    run(
      "DELETE FROM frame_seen WHERE (host_id, boot_id) IN (SELECT host_id, boot_id FROM frame_seen WHERE updated_ms < ? LIMIT ?)",
      nowMs - tiers.rawRetentionMs,
    );
  })();
  return { deleted, more, rawValues };
}
