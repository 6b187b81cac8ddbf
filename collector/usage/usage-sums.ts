// The usage sums, written once: per-GPU totals in integers (ms, centiwatt·ms, a utilization sum
// and count), added the same way whether they come from rollup rows, unsealed deltas or other
// collectors' report parts; then grouped, and turned into hours and kWh. Integers add up
// exactly, so a fleet split over collectors sums to what one collector holding it all gives.
import {
  type AggregateFilters,
  type GroupBy,
  groupKey,
  matchesFilters,
  maxOrNull,
  type Placement,
} from "./placement.js";

/** Centiwatt·milliseconds in one watt-hour (energy is summed in integer cW·ms). */
export const CWMS_PER_WH = 100 * 3_600_000;
const HOUR_MS = 3_600_000;

/** One GPU's usage over a range. */
export interface UsageSums {
  samples: number;
  busyMs: number;
  idleMs: number;
  idleHeldMs: number;
  unknownMs: number;
  energyCwms: number;
  energyIdleCwms: number;
  maxTemperatureC: number | null;
  utilizationSum: number;
  utilizationCount: number;
}

export function emptyUsage(): UsageSums {
  return {
    samples: 0,
    busyMs: 0,
    idleMs: 0,
    idleHeldMs: 0,
    unknownMs: 0,
    energyCwms: 0,
    energyIdleCwms: 0,
    maxTemperatureC: null,
    utilizationSum: 0,
    utilizationCount: 0,
  };
}

/** Adds `part` into `into` (maxima take the larger). */
export function addUsage(into: UsageSums, part: Readonly<UsageSums>): void {
  into.samples += part.samples;
  into.busyMs += part.busyMs;
  into.idleMs += part.idleMs;
  into.idleHeldMs += part.idleHeldMs;
  into.unknownMs += part.unknownMs;
  into.energyCwms += part.energyCwms;
  into.energyIdleCwms += part.energyIdleCwms;
  into.maxTemperatureC = maxOrNull(into.maxTemperatureC, part.maxTemperatureC);
  into.utilizationSum += part.utilizationSum;
  into.utilizationCount += part.utilizationCount;
}

/** Usage per group (store.aggregate's answer, and the fan-out's from merged parts). */
export interface AggregateGroup {
  key: string;
  gpus: number;
  busyMs: number;
  idleMs: number;
  idleHeldMs: number;
  unknownMs: number;
  energyWh: number;
  energyIdleWh: number;
  maxTemperatureC: number | null;
  avgUtilizationPct: number | null;
}

/** One group's integer sums before they become hours and Wh: what partial aggregates add up. */
export interface GroupSums {
  key: string;
  gpus: number;
  sums: UsageSums;
}

/**
 * GPUs with samples, grouped (sorted by key); each GPU counts once, in the group of the
 * placement given with it. Energy is converted to Wh once per group, so no rounding builds up.
 */
export function groupUsage(
  gpus: Iterable<{ place: Placement; usage: Readonly<UsageSums> }>,
  groupBy: GroupBy,
  filters?: AggregateFilters,
): AggregateGroup[] {
  return aggregateGroups(groupSums(gpus, groupBy, filters));
}

/** groupUsage's sums per group, still integers: parts over disjoint GPUs add with mergeGroupSums. */
export function groupSums(
  gpus: Iterable<{ place: Placement; usage: Readonly<UsageSums> }>,
  groupBy: GroupBy,
  filters?: AggregateFilters,
): GroupSums[] {
  const groups = new Map<string, GroupSums>();
  for (const { place, usage } of gpus) {
    if (usage.samples === 0 || !matchesFilters(filters, place)) continue;
    const key = groupKey(groupBy, place);
    let g = groups.get(key);
    if (!g) {
      g = { key, gpus: 0, sums: emptyUsage() };
      groups.set(key, g);
    }
    g.gpus++;
    addUsage(g.sums, usage);
  }
  return [...groups.values()];
}

/** Group sums of disjoint sets of GPUs (the read workers' parts of one aggregate), added by key. */
export function mergeGroupSums(parts: readonly (readonly GroupSums[])[]): GroupSums[] {
  const groups = new Map<string, GroupSums>();
  for (const part of parts)
    for (const { key, gpus, sums } of part) {
      const g = groups.get(key);
      if (g) {
        g.gpus += gpus;
        addUsage(g.sums, sums);
      } else groups.set(key, { key, gpus, sums: { ...sums } });
    }
  return [...groups.values()];
}

/** Group sums as report groups: hours stay ms, energy in Wh, sorted by key. */
export function aggregateGroups(groups: readonly GroupSums[]): AggregateGroup[] {
  return groups
    .map(({ key, gpus, sums: s }) => ({
      key,
      gpus,
      busyMs: s.busyMs,
      idleMs: s.idleMs,
      idleHeldMs: s.idleHeldMs,
      unknownMs: s.unknownMs,
      energyWh: s.energyCwms / CWMS_PER_WH,
      energyIdleWh: s.energyIdleCwms / CWMS_PER_WH,
      maxTemperatureC: s.maxTemperatureC,
      avgUtilizationPct: s.utilizationCount > 0 ? s.utilizationSum / s.utilizationCount : null,
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** busy / (busy + idle + idle-held); null when none of it is known. Unknown time is never idle. */
export function utilizationRate(s: { busyMs: number; idleMs: number; idleHeldMs: number }): number | null {
  const known = s.busyMs + s.idleMs + s.idleHeldMs;
  return known > 0 ? s.busyMs / known : null;
}

/** The fleet summary's usage over a range. */
export interface UsageTotals {
  busyHours: number;
  idleHours: number;
  idleHeldHours: number;
  unknownHours: number;
  /** busy / (busy + idle + idle-held); null when no known time. Unknown time is left out, never idle. */
  utilizationRate: number | null;
  /** Mean GPU utilization reading (0–100) over the known time; null when none. Not the busy share. */
  meanUtilizationPct: number | null;
  energyKwh: number;
  energyIdleKwh: number;
}

/**
 * Groups summed into the summary's totals. meanUtilizationPct is the average utilization reading,
 * a different figure from the rate: a GPU at 20 % all day is busy 100 % of the time (busy share)
 * and 20 % utilized on average. Each group's mean counts by its known time: samples cover equal
 * stretches of a GPU's interval, so known time stands for the group's count of readings.
 */
export function usageTotals(groups: readonly AggregateGroup[]): UsageTotals {
  let busyMs = 0;
  let idleMs = 0;
  let idleHeldMs = 0;
  let unknownMs = 0;
  let wh = 0;
  let idleWh = 0;
  let utilWeighted = 0;
  let utilWeight = 0;
  for (const g of groups) {
    const knownMs = g.busyMs + g.idleMs + g.idleHeldMs;
    if (g.avgUtilizationPct !== null && knownMs > 0) {
      utilWeighted += g.avgUtilizationPct * knownMs;
      utilWeight += knownMs;
    }
    busyMs += g.busyMs;
    idleMs += g.idleMs;
    idleHeldMs += g.idleHeldMs;
    unknownMs += g.unknownMs;
    wh += g.energyWh;
    idleWh += g.energyIdleWh;
  }
  return {
    busyHours: busyMs / HOUR_MS,
    idleHours: idleMs / HOUR_MS,
    idleHeldHours: idleHeldMs / HOUR_MS,
    unknownHours: unknownMs / HOUR_MS,
    utilizationRate: utilizationRate({ busyMs, idleMs, idleHeldMs }),
    meanUtilizationPct: utilWeight > 0 ? utilWeighted / utilWeight : null,
    energyKwh: wh / 1000,
    energyIdleKwh: idleWh / 1000,
  };
}
