// Fleet-wide usage totals for the summary, from the store's per-group aggregates.
import { utilizationRate } from "../reports/usage-report.js";
import type { AggregateGroup } from "../store/store-query.js";
import type { UsageTotals } from "./backend.js";

const HOUR_MS = 3_600_000;

/**
 * Sums groups; the rate is busy / (busy + idle + idle-held), unknown time left out (never idle).
 * meanUtilizationPct is the average utilization reading, a different figure: a GPU at 20 % all
 * day is busy 100 % of the time (busy share) and 20 % utilized on average.
 */
export function usageTotals(groups: readonly AggregateGroup[]): UsageTotals {
  let busy = 0;
  let idle = 0;
  let held = 0;
  let unknown = 0;
  let wh = 0;
  let idleWh = 0;
  let utilWeighted = 0;
  let utilWeight = 0;
  for (const g of groups) {
    // Mean utilization per group weighted by its known time: samples cover equal stretches of a
    // GPU's interval, so known time stands for the group's share of utilization readings.
    const knownMs = g.busyMs + g.idleMs + g.idleHeldMs;
    if (g.avgUtilizationPct !== null && knownMs > 0) {
      utilWeighted += g.avgUtilizationPct * knownMs;
      utilWeight += knownMs;
    }
    busy += g.busyMs;
    idle += g.idleMs;
    held += g.idleHeldMs;
    unknown += g.unknownMs;
    wh += g.energyWh;
    idleWh += g.energyIdleWh;
  }
  return {
    busyHours: busy / HOUR_MS,
    idleHours: idle / HOUR_MS,
    idleHeldHours: held / HOUR_MS,
    unknownHours: unknown / HOUR_MS,
    utilizationRate: utilizationRate({ busyMs: busy, idleMs: idle, idleHeldMs: held }),
    meanUtilizationPct: utilWeight > 0 ? utilWeighted / utilWeight : null,
    energyKwh: wh / 1000,
    energyIdleKwh: idleWh / 1000,
  };
}
