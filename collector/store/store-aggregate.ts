// Usage and energy reports over a range, grouped by site, host, model, GPU or a label: the
// base of the utilization and energy reports. The range is cut into whole buckets of the
// coarsest tier, then whole buckets of each finer tier at its edges, down to the finest (1 m);
// per-GPU sums are done in SQL, then the unsealed deltas held in memory are added, then GPUs are
// grouped. The SQL walks gpus and seeks the rollups primary key (step, gpu, bucket) per GPU:
// one contiguous range each and no sort, about ten times faster over 10,000 GPUs than the
// (step, bucket) index, whose every row costs a primary-key lookup and a GROUP BY temp tree.
import { GputelError } from "../../shared/errors.js";
import {
  type AggregateGroup,
  aggregateGroups,
  emptyUsage,
  type GroupSums,
  groupSums,
  type UsageSums,
} from "../usage/usage-sums.js";
import { BUSY, ENERGY, ENERGY_IDLE, HELD, IDLE, SAMPLES, summaryColumns, UNKNOWN } from "./rollup-acc.js";
import type { Store } from "./store.js";
import type { AggregateRequest } from "./store-query.js";
import type { EdgeLookup, IdSpan } from "./usage-edges.js";
import { UsageTable } from "./usage-table.js";

export type { IdSpan } from "./usage-edges.js";

/** Per-GPU sums over a range: plain integers (ms, centiwatt·ms), so totals from collectors add up exactly. */
export type GpuTotals = UsageSums;

export function aggregate(store: Store, request: AggregateRequest): AggregateGroup[] {
  return aggregateGroups(aggregateSums(store, request));
}

/**
 * `parts` spans that share out the ids about evenly and together hold every id, including ids of
 * GPUs the caller does not know yet (a read worker's snapshot may be newer than its memory).
 */
export function idSpans(ids: Iterable<number>, parts: number): IdSpan[] {
  const sorted = [...ids].sort((a, b) => a - b);
  const spans: IdSpan[] = [];
  let above = Number.NEGATIVE_INFINITY;
  for (let k = 1; k < parts; k++) {
    const cut = sorted[Math.floor((k * sorted.length) / parts) - 1];
    if (cut === undefined || cut <= above) continue;
    spans.push({ above, upTo: cut });
    above = cut;
  }
  spans.push({ above, upTo: Number.POSITIVE_INFINITY });
  return spans;
}

/**
 * aggregate's groups as integer sums, of the GPUs whose id is in `span` when one is given: the
 * sums of disjoint spans add up (mergeGroupSums) to the sums of the whole.
 */
export function aggregateSums(store: Store, request: AggregateRequest, span?: IdSpan): GroupSums[] {
  const uuid = request.filters?.uuid;
  const one = uuid === undefined ? undefined : store.raw.gpus.get(uuid);
  const ids = uuid === undefined ? undefined : one ? [one.id] : [];
  const only = ids && span ? ids.filter((id) => inSpan(span, id)) : (ids ?? span);
  const table = usageTable(store, request, only, { maxTemperature: request.maxTemperature ?? true });
  return groupTotals(store, request, table);
}

/**
 * Per-GPU totals over [fromMs, toMs) by GPU id (rollups plus unsealed deltas); also used by
 * collector/fanout and collector/reports. `gpuIds` limits the sums to those GPUs. Without
 * `maxTemperature` the sums come from the cumulative edges (usage-edges.ts: a few seeks per GPU,
 * whatever the range) and maxTemperatureC is null; with it every bucket is read, as before.
 * Both give the same integers: each range piece is a difference of edge rows of its own tier.
 */
export function gpuTotals(
  store: Store,
  request: Pick<AggregateRequest, "fromMs" | "toMs">,
  gpuIds?: readonly number[],
  options: { maxTemperature?: boolean } = {},
): Map<number, GpuTotals> {
  // The bucket scan lists every GPU it found a row or a delta of, as before.
  return usageTable(store, request, gpuIds, options).toMap(options.maxTemperature === true);
}

/**
 * gpuTotals' sums as one flat table (usage-table.ts), for the callers that walk every GPU (the
 * fleet reports, the summary): no object per GPU. A GPU has a sample in the range where its
 * SAMPLES column is above zero; rows of GPUs without one may be there too, all zeros.
 */
export function usageTable(
  store: Store,
  request: Pick<AggregateRequest, "fromMs" | "toMs">,
  only?: readonly number[] | IdSpan,
  options: { maxTemperature?: boolean } = {},
): UsageTable {
  const list = Array.isArray(only) ? only : undefined;
  const table = new UsageTable(list?.length ?? store.raw.gpusById.size);
  if (options.maxTemperature) scanTotals(store, request, table, idList(store, only));
  else edgeTotals(store, request, table, only);
  return table;
}

function inSpan(span: IdSpan, id: number): boolean {
  return id > span.above && id <= span.upTo;
}

/** `only` as a list of ids (a span: the known GPUs' ids in it). */
function idList(store: Store, only: readonly number[] | IdSpan | undefined): readonly number[] | undefined {
  if (only === undefined || Array.isArray(only)) return only as readonly number[] | undefined;
  const span = only as IdSpan;
  return [...store.raw.gpusById.keys()].filter((id) => inSpan(span, id)).sort((a, b) => a - b);
}

/** The range aligned to the finest step and cut into whole buckets per tier (rangePieces). */
function piecesOf(store: Store, request: Pick<AggregateRequest, "fromMs" | "toMs">) {
  const tiers = store.tiers.rollups;
  const fine = tiers[0];
  if (!fine) throw new GputelError("GPUTEL_E_API", "No rollup tier is configured", {});
  if (!(request.toMs > request.fromMs))
    throw new GputelError("GPUTEL_E_API", "Bad aggregate range", { ...request });
  const from = request.fromMs - (request.fromMs % fine.stepMs);
  const to =
    request.toMs - (request.toMs % fine.stepMs) + (request.toMs % fine.stepMs === 0 ? 0 : fine.stepMs);
  return rangePieces(
    tiers.map((t) => t.stepMs),
    from,
    to,
  );
}

function edgeTotals(
  store: Store,
  request: Pick<AggregateRequest, "fromMs" | "toMs">,
  table: UsageTable,
  only?: readonly number[] | IdSpan,
): void {
  const pieces = piecesOf(store, request);
  const edges = store.raw.edges;
  const lookups: EdgeLookup[] = [];
  for (const { tier, from, to } of pieces)
    edges.rangeLookups(tier, from, to, (afterMs, atMs, sign) =>
      lookups.push({ t: tier, afterMs, atMs, sign }),
    );
  edges.signedSums(lookups, table, only);
  // The deltas' maxima alone would mislead: the edges keep no temperature.
  addDeltas(store, pieces, table, only, false);
}

/** Per-GPU totals read bucket by bucket (the only way to a range's highest temperature). */
function scanTotals(
  store: Store,
  request: Pick<AggregateRequest, "fromMs" | "toMs">,
  table: UsageTable,
  gpuIds?: readonly number[],
): void {
  const tiers = store.tiers.rollups;
  const pieces = piecesOf(store, request);
  // CROSS JOIN keeps gpus as the outer loop (SQLite does not reorder it).
  const sql = store.db.prepare(
    `SELECT g.id AS gpu_id, sum(r.samples) AS samples, sum(r.busy_ms) AS busyMs, sum(r.idle_ms) AS idleMs,
            sum(r.idle_held_ms) AS idleHeldMs, sum(r.unknown_ms) AS unknownMs, sum(r.energy_cwms) AS energyCwms,
            sum(r.energy_idle_cwms) AS energyIdleCwms, max(r.temp_max) AS maxTemperatureC,
            sum(r.util_sum) AS utilizationSum, sum(r.util_count) AS utilizationCount
       FROM ${gpuIds ? "json_each(?) AS j CROSS JOIN gpus AS g ON g.id = j.value" : "gpus AS g"}
            CROSS JOIN rollups AS r ON r.step_ms = ? AND r.gpu_id = g.id AND r.bucket_ms >= ? AND r.bucket_ms < ?
      GROUP BY g.id`,
  );
  const idList = gpuIds ? [JSON.stringify(gpuIds)] : [];
  for (const piece of pieces) {
    const step = (tiers[piece.tier] as { stepMs: number }).stepMs;
    for (const r of sql.all(...idList, step, piece.from, piece.to) as (UsageSums & { gpu_id: number })[])
      table.addUsage(r.gpu_id, r);
  }
  addDeltas(store, pieces, table, gpuIds, true);
}

/** Adds the unsealed deltas held in memory that fall in the pieces (not yet in the rollups table). */
function addDeltas(
  store: Store,
  pieces: readonly { tier: number; from: number; to: number }[],
  table: UsageTable,
  only: readonly number[] | IdSpan | undefined,
  maxTemperature: boolean,
): void {
  const listed = Array.isArray(only) ? new Set(only as readonly number[]) : undefined;
  const span = only !== undefined && !Array.isArray(only) ? (only as IdSpan) : undefined;
  for (const g of store.raw.gpusById.values()) {
    if (listed && !listed.has(g.id)) continue;
    if (span && !inSpan(span, g.id)) continue;
    for (const piece of pieces) {
      const deltas = g.deltas[piece.tier];
      if (!deltas || deltas.size === 0) continue; // most GPUs between two reports: nothing to read
      for (const [, acc] of deltas.within(piece.from, piece.to)) {
        // The same summary a seal writes into the rollup row's columns.
        const summary = summaryColumns(acc);
        table.addUsage(g.id, {
          samples: acc[SAMPLES] as number,
          busyMs: acc[BUSY] as number,
          idleMs: acc[IDLE] as number,
          idleHeldMs: acc[HELD] as number,
          unknownMs: acc[UNKNOWN] as number,
          energyCwms: acc[ENERGY] as number,
          energyIdleCwms: acc[ENERGY_IDLE] as number,
          maxTemperatureC: maxTemperature ? summary.tempMax : null,
          utilizationSum: summary.utilSum,
          utilizationCount: summary.utilCount,
        });
      }
    }
  }
}

/**
 * Cuts [from, to) (aligned to the finest step) into whole buckets of the coarsest tier, then of
 * each finer tier at the edges: a 30-day range reads days, a few hours and a few minutes.
 */
export function rangePieces(
  steps: readonly number[],
  from: number,
  to: number,
): { tier: number; from: number; to: number }[] {
  const pieces: { tier: number; from: number; to: number }[] = [];
  const cut = (tier: number, a: number, b: number): void => {
    if (a >= b) return;
    const step = steps[tier] as number;
    if (tier === 0) {
      pieces.push({ tier, from: a, to: b });
      return;
    }
    const c0 = Math.ceil(a / step) * step;
    const c1 = Math.floor(b / step) * step;
    if (c0 >= c1) {
      cut(tier - 1, a, b);
      return;
    }
    pieces.push({ tier, from: c0, to: c1 });
    cut(tier - 1, a, c0);
    cut(tier - 1, c1, b);
  };
  cut(steps.length - 1, from, to);
  return pieces;
}

/** The totals grouped by each GPU's current host (from memory). */
function groupTotals(store: Store, request: AggregateRequest, table: UsageTable): GroupSums[] {
  // One place and one usage object, refilled per GPU: groupUsage keeps neither.
  const place = { site: "", host: "", model: "", uuid: "", labels: {} as Readonly<Record<string, string>> };
  const item = { place, usage: emptyUsage() };
  const placed = function* () {
    for (let r = 0; r < table.rows; r++) {
      const g = store.gpu(table.ids[r] as number);
      const h = g ? store.host(g.hostId) : undefined;
      if (!g || !h) continue;
      place.site = h.site;
      place.host = h.name;
      place.model = g.model;
      place.uuid = g.uuid;
      place.labels = h.labels;
      table.fill(r, item.usage);
      yield item;
    }
  };
  return groupSums(placed(), request.groupBy, request.filters);
}
