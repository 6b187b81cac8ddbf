// Usage and energy reports over a range, grouped by site, host, model, GPU or a label: the
// base of the utilization and energy reports. The range is cut into whole buckets of the
// coarsest tier, then whole buckets of each finer tier at its edges, down to the finest (1 m);
// per-GPU sums are done in SQL, then the unsealed deltas held in memory are added, then GPUs are
// grouped. The SQL walks gpus and seeks the rollups primary key (step, gpu, bucket) per GPU:
// one contiguous range each and no sort, about ten times faster over 10,000 GPUs than the
// (step, bucket) index, whose every row costs a primary-key lookup and a GROUP BY temp tree.
import { GputelError } from "../../shared/errors.js";
import { groupKey, matchesFilters, maxOrNull } from "./placement.js";
import {
  BUSY,
  CWMS_PER_WH,
  ENERGY,
  ENERGY_IDLE,
  HELD,
  IDLE,
  SAMPLES,
  summaryColumns,
  UNKNOWN,
} from "./rollup-acc.js";
import type { Store } from "./store.js";
import type { AggregateGroup, AggregateRequest } from "./store-query.js";

/** Per-GPU sums over a range: plain integers (ms, centiwatt·ms), so totals from collectors add up exactly. */
export interface GpuTotals {
  samples: number;
  busy: number;
  idle: number;
  held: number;
  unknown: number;
  energy: number;
  energyIdle: number;
  tempMax: number | null;
  utilSum: number;
  utilCount: number;
}

function empty(): GpuTotals {
  return {
    samples: 0,
    busy: 0,
    idle: 0,
    held: 0,
    unknown: 0,
    energy: 0,
    energyIdle: 0,
    tempMax: null,
    utilSum: 0,
    utilCount: 0,
  };
}

export function aggregate(store: Store, request: AggregateRequest): AggregateGroup[] {
  const uuid = request.filters?.uuid;
  const one = uuid === undefined ? undefined : store.raw.gpus.get(uuid);
  const totals = gpuTotals(store, request, uuid === undefined ? undefined : one ? [one.id] : []);
  return groupTotals(store, request, totals);
}

/**
 * Per-GPU totals over [fromMs, toMs) by GPU id (rollups plus unsealed deltas); also used by
 * collector/fanout and collector/reports. `gpuIds` limits the sums to those GPUs.
 */
export function gpuTotals(
  store: Store,
  request: Pick<AggregateRequest, "fromMs" | "toMs">,
  gpuIds?: readonly number[],
): Map<number, GpuTotals> {
  const tiers = store.tiers.rollups;
  const fine = tiers[0];
  if (!fine) throw new GputelError("GPUTEL_E_API", "No rollup tier is configured", {});
  if (!(request.toMs > request.fromMs))
    throw new GputelError("GPUTEL_E_API", "Bad aggregate range", { ...request });
  const from = request.fromMs - (request.fromMs % fine.stepMs);
  const to =
    request.toMs - (request.toMs % fine.stepMs) + (request.toMs % fine.stepMs === 0 ? 0 : fine.stepMs);
  const pieces = rangePieces(
    tiers.map((t) => t.stepMs),
    from,
    to,
  );

  const totals = new Map<number, GpuTotals>();
  const get = (gpuId: number) => {
    let t = totals.get(gpuId);
    if (!t) {
      t = empty();
      totals.set(gpuId, t);
    }
    return t;
  };
  // CROSS JOIN keeps gpus as the outer loop (SQLite does not reorder it).
  const sql = store.db.prepare(
    `SELECT g.id AS gpu_id, sum(r.samples) AS samples, sum(r.busy_ms) AS busy, sum(r.idle_ms) AS idle,
            sum(r.idle_held_ms) AS held, sum(r.unknown_ms) AS unknown, sum(r.energy_cwms) AS energy,
            sum(r.energy_idle_cwms) AS energy_idle, max(r.temp_max) AS temp_max,
            sum(r.util_sum) AS util_sum, sum(r.util_count) AS util_count
       FROM ${gpuIds ? "json_each(?) AS j CROSS JOIN gpus AS g ON g.id = j.value" : "gpus AS g"}
            CROSS JOIN rollups AS r ON r.step_ms = ? AND r.gpu_id = g.id AND r.bucket_ms >= ? AND r.bucket_ms < ?
      GROUP BY g.id`,
  );
  const only = gpuIds ? new Set(gpuIds) : undefined;
  const idList = gpuIds ? [JSON.stringify(gpuIds)] : [];
  for (const piece of pieces) {
    const step = (tiers[piece.tier] as { stepMs: number }).stepMs;
    for (const r of sql.all(...idList, step, piece.from, piece.to) as (Omit<
      GpuTotals,
      "tempMax" | "energyIdle" | "utilSum" | "utilCount"
    > & {
      gpu_id: number;
      energy_idle: number;
      temp_max: number | null;
      util_sum: number;
      util_count: number;
    })[]) {
      const t = get(r.gpu_id);
      t.samples += r.samples;
      t.busy += r.busy;
      t.idle += r.idle;
      t.held += r.held;
      t.unknown += r.unknown;
      t.energy += r.energy;
      t.energyIdle += r.energy_idle;
      t.tempMax = maxOrNull(t.tempMax, r.temp_max);
      t.utilSum += r.util_sum;
      t.utilCount += r.util_count;
    }
    for (const g of store.raw.gpusById.values()) {
      if (only && !only.has(g.id)) continue;
      for (const [bucket, acc] of g.deltas[piece.tier] ?? []) {
        if (bucket < piece.from || bucket >= piece.to) continue;
        const t = get(g.id);
        t.samples += acc[SAMPLES] as number;
        t.busy += acc[BUSY] as number;
        t.idle += acc[IDLE] as number;
        t.held += acc[HELD] as number;
        t.unknown += acc[UNKNOWN] as number;
        t.energy += acc[ENERGY] as number;
        t.energyIdle += acc[ENERGY_IDLE] as number;
        // The same summary a seal writes into the rollup row's columns.
        const summary = summaryColumns(acc);
        t.tempMax = maxOrNull(t.tempMax, summary.tempMax);
        t.utilSum += summary.utilSum;
        t.utilCount += summary.utilCount;
      }
    }
  }

  return totals;
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

function groupTotals(
  store: Store,
  request: AggregateRequest,
  totals: Map<number, GpuTotals>,
): AggregateGroup[] {
  const groups = new Map<string, AggregateGroup & { utilSum: number; utilCount: number }>();
  for (const [gpuId, t] of totals) {
    if (t.samples === 0) continue;
    const g = store.raw.gpusById.get(gpuId);
    const h = g ? store.raw.hostsById.get(g.hostId) : undefined;
    if (!g || !h) continue;
    const place = { site: h.site, host: h.name, model: g.model, uuid: g.uuid, labels: h.labels };
    if (!matchesFilters(request.filters, place)) continue;
    const key = groupKey(request.groupBy, place);
    let group = groups.get(key);
    if (!group) {
      group = {
        key,
        gpus: 0,
        busyMs: 0,
        idleMs: 0,
        idleHeldMs: 0,
        unknownMs: 0,
        energyWh: 0,
        energyIdleWh: 0,
        maxTemperatureC: null,
        avgUtilizationPct: null,
        utilSum: 0,
        utilCount: 0,
      };
      groups.set(key, group);
    }
    group.gpus++;
    group.busyMs += t.busy;
    group.idleMs += t.idle;
    group.idleHeldMs += t.held;
    group.unknownMs += t.unknown;
    group.energyWh += t.energy / CWMS_PER_WH;
    group.energyIdleWh += t.energyIdle / CWMS_PER_WH;
    group.maxTemperatureC = maxOrNull(group.maxTemperatureC, t.tempMax);
    group.utilSum += t.utilSum;
    group.utilCount += t.utilCount;
  }
  return [...groups.values()]
    .map(({ utilSum, utilCount, ...group }) => ({
      ...group,
      avgUtilizationPct: utilCount > 0 ? utilSum / utilCount : null,
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}
