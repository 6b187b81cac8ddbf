// The four fleet reports as the API serves them, built from the store's rollup aggregates
// (utilization, energy), the flag history (thermal) and the capacity table (capacity).
// Hours and kWh are rounded for people only at the edges (the CLI, the page); here they are exact.
import type { FlagEngine } from "../flags/engine.js";
import type { Flag } from "../flags/types.js";
import { capacityFor } from "../reports/capacity-table.js";
import type { Store } from "../store/store.js";
import type { AggregateGroup } from "../store/store-query.js";
import type {
  GpuView,
  Report,
  ReportGroupBy,
  ReportKind,
  ReportRow,
  TimeRange,
  UsageTotals,
} from "./backend.js";

const HOUR_MS = 3_600_000;

export interface ReportSources {
  store: Store;
  flags: Pick<FlagEngine, "history">;
  gpus: () => GpuView[];
  now: () => number;
}

export function groupByName(by: ReportGroupBy): string {
  return typeof by === "string" ? by : `label:${by.label}`;
}

function rate(busy: number, idle: number, held: number): number | null {
  const known = busy + idle + held;
  return known > 0 ? busy / known : null;
}

export function usageTotals(groups: readonly AggregateGroup[]): UsageTotals {
  let busy = 0;
  let idle = 0;
  let held = 0;
  let unknown = 0;
  let wh = 0;
  let idleWh = 0;
  for (const g of groups) {
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
    utilizationRate: rate(busy, idle, held),
    energyKwh: wh / 1000,
    energyIdleKwh: idleWh / 1000,
  };
}

function keyOf(by: ReportGroupBy, g: Pick<GpuView, "site" | "host" | "model" | "uuid" | "labels">): string {
  if (by === "site") return g.site;
  if (by === "host") return g.host;
  if (by === "model") return g.model;
  if (by === "gpu") return g.uuid;
  return g.labels[by.label] ?? "";
}

export function buildReport(
  kind: ReportKind,
  range: TimeRange,
  by: ReportGroupBy,
  src: ReportSources,
): Report {
  const base = { kind, fromMs: range.fromMs, toMs: range.toMs, by: groupByName(by) };
  if (kind === "utilization" || kind === "energy") {
    const groups = src.store.aggregate({ ...range, groupBy: by });
    const totals = usageTotals(groups);
    const rows = groups.map(
      (g): ReportRow =>
        kind === "utilization"
          ? {
              key: g.key,
              gpus: g.gpus,
              utilizationRate: rate(g.busyMs, g.idleMs, g.idleHeldMs),
              busyHours: g.busyMs / HOUR_MS,
              idleHours: g.idleMs / HOUR_MS,
              idleHeldHours: g.idleHeldMs / HOUR_MS,
              unknownHours: g.unknownMs / HOUR_MS,
              avgUtilizationPct: g.avgUtilizationPct,
            }
          : {
              key: g.key,
              gpus: g.gpus,
              energyKwh: g.energyWh / 1000,
              energyIdleKwh: g.energyIdleWh / 1000,
              idleShare: g.energyWh > 0 ? g.energyIdleWh / g.energyWh : null,
            },
    );
    const gpus = groups.reduce((n, g) => n + g.gpus, 0);
    return {
      ...base,
      rows,
      totals:
        kind === "utilization"
          ? {
              gpus,
              utilizationRate: totals.utilizationRate,
              busyHours: totals.busyHours,
              idleHours: totals.idleHours,
              idleHeldHours: totals.idleHeldHours,
              unknownHours: totals.unknownHours,
            }
          : { gpus, energyKwh: totals.energyKwh, energyIdleKwh: totals.energyIdleKwh },
    };
  }
  if (kind === "thermal") return thermal(base, range, by, src);
  return capacity(base, range, by, src);
}

/** Overlap of a flag episode with the range (an open one runs to the range's end or now). */
function overlapMs(f: Flag, range: TimeRange, nowMs: number): number {
  const end = Math.min(f.endMs ?? nowMs, range.toMs);
  return Math.max(0, end - Math.max(f.startMs, range.fromMs));
}

function thermal(
  base: Omit<Report, "rows" | "totals">,
  range: TimeRange,
  by: ReportGroupBy,
  src: ReportSources,
): Report {
  const gpus = src.gpus();
  const byUuid = new Map(gpus.map((g) => [g.uuid, g]));
  const rows = new Map<
    string,
    ReportRow & { overheatGpuHours: number; throttledGpuHours: number; episodes: number }
  >();
  const row = (key: string) => {
    let r = rows.get(key);
    if (!r) {
      r = { key, overheatGpuHours: 0, throttledGpuHours: 0, episodes: 0, maxTemperatureC: null };
      rows.set(key, r);
    }
    return r;
  };
  const nowMs = src.now();
  for (const f of src.flags.history({ kinds: ["overheat", "throttled"], ...range, limit: 10_000 })) {
    const g = f.gpuUuid !== null ? byUuid.get(f.gpuUuid) : undefined;
    const key = keyOf(by, {
      site: f.site,
      host: f.host,
      model: g?.model ?? "",
      uuid: f.gpuUuid ?? "",
      labels: f.labels,
    });
    const r = row(key);
    const hours = overlapMs(f, range, nowMs) / HOUR_MS;
    if (f.kind === "overheat") r.overheatGpuHours += hours;
    else r.throttledGpuHours += hours;
    r.episodes += 1;
  }
  const perGpu = src.store.aggregate({ ...range, groupBy: "gpu" });
  for (const a of perGpu) {
    const g = byUuid.get(a.key);
    if (!g || a.maxTemperatureC === null) continue;
    const r = row(keyOf(by, g));
    r.maxTemperatureC = Math.max(
      (r.maxTemperatureC as number | null) ?? a.maxTemperatureC,
      a.maxTemperatureC,
    );
  }
  const hottest = perGpu
    .filter((a) => a.maxTemperatureC !== null)
    .sort((a, b) => (b.maxTemperatureC ?? 0) - (a.maxTemperatureC ?? 0))
    .slice(0, 10)
    .map((a) => {
      const g = byUuid.get(a.key);
      return {
        uuid: a.key,
        host: g?.host ?? "",
        index: g?.index ?? null,
        model: g?.model ?? "",
        maxTemperatureC: a.maxTemperatureC,
        slowdownTemperatureC: g?.inventory?.slowdownTemperatureC ?? null,
      };
    });
  const list = [...rows.values()].sort((a, b) => a.key.localeCompare(b.key));
  return {
    ...base,
    rows: list,
    totals: {
      overheatGpuHours: list.reduce((n, r) => n + r.overheatGpuHours, 0),
      throttledGpuHours: list.reduce((n, r) => n + r.throttledGpuHours, 0),
      episodes: list.reduce((n, r) => n + r.episodes, 0),
    },
    extra: { hottest },
  };
}

function capacity(
  base: Omit<Report, "rows" | "totals">,
  range: TimeRange,
  by: ReportGroupBy,
  src: ReportSources,
): Report {
  const usage = new Map(src.store.aggregate({ ...range, groupBy: "gpu" }).map((a) => [a.key, a]));
  const rows = new Map<
    string,
    { key: string; gpus: number; unknownModelGpus: number; installedPflops: number; usedPflops: number }
  >();
  for (const g of src.gpus()) {
    const key = keyOf(by, g);
    let r = rows.get(key);
    if (!r) {
      r = { key, gpus: 0, unknownModelGpus: 0, installedPflops: 0, usedPflops: 0 };
      rows.set(key, r);
    }
    r.gpus += 1;
    const entry = capacityFor(g.model);
    if (!entry) {
      r.unknownModelGpus += 1;
      continue;
    }
    const pflops = entry.denseFp16Tflops / 1000;
    r.installedPflops += pflops;
    const a = usage.get(g.uuid);
    const busyRate = a ? rate(a.busyMs, a.idleMs, a.idleHeldMs) : null;
    if (busyRate !== null) r.usedPflops += pflops * busyRate;
  }
  const list = [...rows.values()].sort((a, b) => a.key.localeCompare(b.key));
  const sum = (k: "gpus" | "unknownModelGpus" | "installedPflops" | "usedPflops") =>
    list.reduce((n, r) => n + r[k], 0);
  return {
    ...base,
    rows: list,
    totals: {
      gpus: sum("gpus"),
      unknownModelGpus: sum("unknownModelGpus"),
      installedPflops: sum("installedPflops"),
      usedPflops: sum("usedPflops"),
    },
  };
}
