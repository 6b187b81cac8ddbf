// Retention of the usage edges (usage-edges.ts) without an index on time: a tier's rows go a
// whole parent at a time (a row counts from its parent's start, so a parent cut in two would
// give wrong differences), and a parent ends for every GPU at once. So one sweep over the GPUs
// per parent that passes the retention (for 1-minute rows, once an hour) deletes each GPU's
// expired rows by primary key (step, gpu, edge). A call visits at most `limit` GPUs and deletes
// at most `limit` rows, and the sweep resumes where it stopped. An index on (step_ms, edge_ms),
// as migration 080 had, cost about 40 % of the edges' bytes and one more B-tree write per row.
import type { Database, Statement } from "better-sqlite3";
import type { UsageEdges } from "./usage-edges.js";

interface Sweep {
  /** Rows of edges at or before this are gone for every GPU. */
  doneTo: number;
  /** A sweep is under way: its bound, and the GPU ids done (those up to afterId). */
  active: boolean;
  target: number;
  afterId: number;
}

export class EdgePruner {
  private readonly sweeps: Sweep[] = [];
  private readonly ids: Statement;
  private readonly remove: Statement;

  constructor(
    db: Database,
    private readonly edges: UsageEdges,
    private readonly steps: readonly number[],
  ) {
    this.ids = db.prepare("SELECT id FROM gpus WHERE id > ? ORDER BY id LIMIT ?").pluck(true);
    this.remove = db.prepare(
      `DELETE FROM usage_edges WHERE (step_ms, gpu_id, edge_ms) IN
         (SELECT step_ms, gpu_id, edge_ms FROM usage_edges WHERE step_ms = ? AND gpu_id = ? AND edge_ms <= ? LIMIT ?)`,
    );
  }

  /**
   * Deletes tier t's rows whose parent ended at or before the parent holding `beforeMs`: up to
   * `limit` rows of up to `limit` GPUs. `full`: the sweep goes on (call again).
   */
  step(t: number, beforeMs: number, limit: number): { deleted: number; full: boolean } {
    const bound = this.edges.parentOf(t, beforeMs).start;
    let sweep = this.sweeps[t];
    if (!sweep) {
      sweep = { doneTo: Number.NEGATIVE_INFINITY, active: false, target: bound, afterId: 0 };
      this.sweeps[t] = sweep;
    }
    if (!sweep.active) {
      if (bound <= sweep.doneTo) return { deleted: 0, full: false };
      // A sweep keeps its bound to the end; a parent that ends meanwhile gets the next sweep.
      Object.assign(sweep, { active: true, target: bound, afterId: 0 });
    }
    const ids = this.ids.all(sweep.afterId, limit) as number[];
    let deleted = 0;
    for (const id of ids) {
      deleted += this.remove.run(this.steps[t], id, sweep.target, limit - deleted).changes;
      if (deleted >= limit) {
        sweep.afterId = id - 1; // this GPU may have more: the next call starts with it again
        return { deleted, full: true };
      }
      sweep.afterId = id;
    }
    if (ids.length < limit) {
      Object.assign(sweep, { active: false, doneTo: sweep.target });
      return { deleted, full: false };
    }
    return { deleted, full: true };
  }
}
