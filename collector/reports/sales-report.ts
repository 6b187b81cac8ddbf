// Fleet sales figures (issue 15, "Fleet figures"), served by /api/v1/reports/sales: over a range,
// the sold rate (leased GPU-hours / installed GPU-hours) and the used rate (busy GPU-hours /
// leased GPU-hours); now, the GPUs for sale (no lease in force) by model with their PFLOPS
// (capacity-table.ts). Integers (ms) underneath; every rate is derived once, from the sums.
//
// Installed: a GPU counts from its first sighting by this collector up to now, as in every
// report (time before it joined, or after now, is nobody's). Leased: the time the GPU was under a
// lease (of it or of any of its MIG devices, each instant once: two MIG leases at once do not sell
// it twice), from the GPU's first sighting on (a lease recorded before the collector knew the GPU
// sells nothing the fleet had), so leased ≤ installed. Busy: the lease lines' busy time (whole minutes,
// each with the lease in force at its start: lease-lines.ts). A GPU is grouped by its current
// model, site or host.
import { capacityFor } from "./capacity-table.js";
import type { LeaseLinePart } from "./lease-lines.js";

const HOUR_MS = 3_600_000;

export const SALES_GROUPS = ["model", "site", "host"] as const;
export type SalesGroupBy = (typeof SALES_GROUPS)[number];

/** A GPU of the fleet as the sales figures need it. */
export interface SalesGpu {
  uuid: string;
  model: string;
  host: string;
  site: string;
  firstSeenMs: number;
  /** A lease (of it or of one of its MIG devices) is in force now. */
  leasedNow: boolean;
}

export interface SalesRow {
  key: string;
  /** GPUs in the fleet during the range. */
  gpus: number;
  installedMs: number;
  leasedMs: number;
  /** Busy time inside the leases. */
  busyMs: number;
  installedGpuHours: number;
  leasedGpuHours: number;
  busyGpuHours: number;
  /** leased / installed; null without installed time. */
  soldRate: number | null;
  /** busy / leased; null without leased time. */
  usedRate: number | null;
  /** GPUs the collector knows now, those with a lease in force, and the rest: for sale. */
  gpusNow: number;
  leasedNow: number;
  forSaleNow: number;
  /** Peak dense FP16/BF16 PFLOPS of the GPUs for sale now (models the table does not know count 0). */
  forSalePflops: number;
}

/** GPUs for sale now of one model. */
export interface ForSaleModel {
  model: string;
  /** The capacity table's row; null when the table does not know the model. */
  tableModel: string | null;
  denseFp16Tflops: number | null;
  gpus: number;
  pflops: number;
}

export interface SalesReport {
  kind: "sales";
  fromMs: number;
  toMs: number;
  nowMs: number;
  groupBy: SalesGroupBy;
  groups: SalesRow[];
  total: SalesRow;
  /** GPUs for sale now by model, whatever the grouping. */
  forSale: ForSaleModel[];
  /** Product names with no capacity figure (their GPUs count, their PFLOPS do not). */
  unknownModels: string[];
}

interface Acc {
  gpus: number;
  installedMs: number;
  leasedMs: number;
  busyMs: number;
  gpusNow: number;
  leasedNow: number;
  /** Model → GPUs for sale now. */
  forSale: Map<string, number>;
}

const newAcc = (): Acc => ({
  gpus: 0,
  installedMs: 0,
  leasedMs: 0,
  busyMs: 0,
  gpusNow: 0,
  leasedNow: 0,
  forSale: new Map(),
});

function pflopsOf(model: string, gpus: number): number {
  return (gpus * (capacityFor(model)?.denseFp16Tflops ?? 0)) / 1000;
}

function row(key: string, a: Acc): SalesRow {
  const forSaleNow = a.gpusNow - a.leasedNow;
  return {
    key,
    gpus: a.gpus,
    installedMs: a.installedMs,
    leasedMs: a.leasedMs,
    busyMs: a.busyMs,
    installedGpuHours: a.installedMs / HOUR_MS,
    leasedGpuHours: a.leasedMs / HOUR_MS,
    busyGpuHours: a.busyMs / HOUR_MS,
    soldRate: a.installedMs > 0 ? a.leasedMs / a.installedMs : null,
    usedRate: a.leasedMs > 0 ? a.busyMs / a.leasedMs : null,
    gpusNow: a.gpusNow,
    leasedNow: a.leasedNow,
    forSaleNow,
    forSalePflops: [...a.forSale].reduce((s, [model, n]) => s + pflopsOf(model, n), 0),
  };
}

/** Time the windows cover, each instant once however many windows hold it. */
function coveredMs(windows: readonly { fromMs: number; toMs: number }[]): number {
  const sorted = [...windows].sort((a, b) => a.fromMs - b.fromMs);
  let n = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const w of sorted) {
    const from = Math.max(w.fromMs, end);
    if (w.toMs > from) n += w.toMs - from;
    end = Math.max(end, w.toMs);
  }
  return n;
}

/**
 * The report from the fleet's GPUs and the lease line parts over [fromMs, toMs) (whose leases
 * start no earlier than their GPU's first sighting); parts of GPUs not in `gpus` are left out.
 */
export function buildSalesReport(
  header: { fromMs: number; toMs: number; nowMs: number },
  by: SalesGroupBy,
  gpus: readonly SalesGpu[],
  parts: readonly LeaseLinePart[],
): SalesReport {
  const end = Math.min(header.toMs, header.nowMs);
  const byUuid = new Map(gpus.map((g) => [g.uuid, g]));
  const groups = new Map<string, Acc>();
  const total = newAcc();
  const accsOf = (g: SalesGpu): Acc[] => {
    const key = g[by];
    let a = groups.get(key);
    if (!a) {
      a = newAcc();
      groups.set(key, a);
    }
    return [a, total];
  };
  for (const g of gpus) {
    const installed = Math.max(0, end - Math.max(header.fromMs, g.firstSeenMs));
    for (const a of accsOf(g)) {
      a.installedMs += installed;
      if (installed > 0) a.gpus++;
      if (g.firstSeenMs > header.nowMs) continue;
      a.gpusNow++;
      if (g.leasedNow) a.leasedNow++;
      else a.forSale.set(g.model, (a.forSale.get(g.model) ?? 0) + 1);
    }
  }
  // Leased time is per GPU: MIG devices of one GPU leased at once (they do not collide) lease it once.
  const windows = new Map<string, { fromMs: number; toMs: number }[]>();
  for (const p of parts) {
    const g = byUuid.get(p.gpu);
    if (!g) continue;
    for (const a of accsOf(g)) a.busyMs += p.busyMs;
    const list = windows.get(p.gpu);
    if (list) list.push(p);
    else windows.set(p.gpu, [p]);
  }
  for (const [uuid, list] of windows) {
    const leased = coveredMs(list);
    for (const a of accsOf(byUuid.get(uuid) as SalesGpu)) a.leasedMs += leased;
  }
  const forSale = [...total.forSale]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([model, n]): ForSaleModel => {
      const entry = capacityFor(model);
      return {
        model,
        tableModel: entry?.model ?? null,
        denseFp16Tflops: entry?.denseFp16Tflops ?? null,
        gpus: n,
        pflops: pflopsOf(model, n),
      };
    });
  return {
    kind: "sales",
    ...header,
    groupBy: by,
    groups: [...groups].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, a]) => row(k, a)),
    total: row("total", total),
    forSale,
    // A GPU whose inventory has not come yet has no model: it is not an unknown model.
    unknownModels: [...new Set(gpus.map((g) => g.model))].filter((m) => m !== "" && !capacityFor(m)).sort(),
  };
}
