// Rollup buckets to and from rows of the rollups table. In memory the store holds only deltas
// (what arrived since the GPU's last seal); a seal merges each delta into its row.
import {
  BUSY,
  ENERGY,
  ENERGY_IDLE,
  HELD,
  IDLE,
  mergeAcc,
  newAcc,
  SAMPLES,
  summaryColumns,
  UNKNOWN,
} from "./rollup-acc.js";
import { decodeAccMetrics, encodeAccMetrics } from "./rollup-codec.js";
import type { RollupRow, Statements } from "./statements.js";

export function accFromRow(row: RollupRow): Float64Array {
  const acc = newAcc();
  acc[SAMPLES] = row.samples;
  acc[BUSY] = row.busy_ms;
  acc[IDLE] = row.idle_ms;
  acc[HELD] = row.idle_held_ms;
  acc[UNKNOWN] = row.unknown_ms;
  acc[ENERGY] = row.energy_cwms;
  acc[ENERGY_IDLE] = row.energy_idle_cwms;
  decodeAccMetrics(acc, row.data, row.bucket_ms);
  return acc;
}

/** Merges a delta into its stored bucket (upsert merge: min/max/sum/count add up, last only if newer). */
export function flushDelta(
  stmts: Statements,
  stepMs: number,
  gpuId: number,
  bucketMs: number,
  delta: Float64Array,
  /** Told how much the row's integer columns grew (UsageEdges order), to keep the edges in step. */
  grew?: (by: number[]) => void,
): void {
  const existing = stmts.getRollup.get(stepMs, gpuId, bucketMs) as RollupRow | undefined;
  let acc = delta;
  if (existing) {
    acc = accFromRow(existing);
    mergeAcc(acc, delta);
  }
  const summary = summaryColumns(acc);
  stmts.putRollup.run(
    stepMs,
    gpuId,
    bucketMs,
    acc[SAMPLES],
    acc[BUSY],
    acc[IDLE],
    acc[HELD],
    acc[UNKNOWN],
    acc[ENERGY],
    acc[ENERGY_IDLE],
    summary.tempMax,
    summary.utilSum,
    summary.utilCount,
    encodeAccMetrics(acc, bucketMs),
  );
  if (grew) {
    const e = existing;
    grew([
      (acc[SAMPLES] as number) - (e?.samples ?? 0),
      (acc[BUSY] as number) - (e?.busy_ms ?? 0),
      (acc[IDLE] as number) - (e?.idle_ms ?? 0),
      (acc[HELD] as number) - (e?.idle_held_ms ?? 0),
      (acc[UNKNOWN] as number) - (e?.unknown_ms ?? 0),
      (acc[ENERGY] as number) - (e?.energy_cwms ?? 0),
      (acc[ENERGY_IDLE] as number) - (e?.energy_idle_cwms ?? 0),
      summary.utilSum - (e?.util_sum ?? 0),
      summary.utilCount - (e?.util_count ?? 0),
    ]);
  }
}
