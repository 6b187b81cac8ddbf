// Simple merges of answers from several collectors (each holding its own agents' data, as with
// shared subscriptions): counts and sums add, rates are recomputed from the sums. GPUs and flags
// seen by several collectors are kept once. Thermal and capacity reports are not merged.
import type { GpuView, Report, Summary } from "../../collector/api/backend.js";
import type { Flag } from "../../collector/flags/types.js";

function addCounts(a: Record<string, number>, b: Record<string, number | undefined>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + (v ?? 0);
  return out;
}

export function mergeSummaries(list: readonly Summary[]): Summary {
  const [first, ...rest] = list;
  if (!first) throw new Error("nothing to merge");
  const out: Summary = structuredClone(first);
  for (const s of rest) {
    out.generatedMs = Math.max(out.generatedMs, s.generatedMs);
    out.hosts.total += s.hosts.total;
    out.hosts.byStatus = addCounts(out.hosts.byStatus, s.hosts.byStatus);
    out.gpus.total += s.gpus.total;
    out.gpus.byState = addCounts(out.gpus.byState, s.gpus.byState);
    out.flags.open += s.flags.open;
    out.flags.gpusFlagged += s.flags.gpusFlagged;
    out.flags.byKind = addCounts(out.flags.byKind as Record<string, number>, s.flags.byKind);
    out.utilization.now.busy += s.utilization.now.busy;
    out.utilization.now.known += s.utilization.now.known;
    const r = out.utilization.range;
    const q = s.utilization.range;
    r.busyHours += q.busyHours;
    r.idleHours += q.idleHours;
    r.idleHeldHours += q.idleHeldHours;
    r.unknownHours += q.unknownHours;
    r.energyKwh += q.energyKwh;
    r.energyIdleKwh += q.energyIdleKwh;
  }
  const now = out.utilization.now;
  now.rate = now.known > 0 ? now.busy / now.known : null;
  const r = out.utilization.range;
  const known = r.busyHours + r.idleHours + r.idleHeldHours;
  r.utilizationRate = known > 0 ? r.busyHours / known : null;
  return out;
}

export function mergeGpus(lists: readonly GpuView[][]): GpuView[] {
  const byUuid = new Map<string, GpuView>();
  for (const list of lists)
    for (const g of list) {
      const seen = byUuid.get(g.uuid);
      if (!seen || (g.timestampMs ?? -1) > (seen.timestampMs ?? -1)) byUuid.set(g.uuid, g);
    }
  return [...byUuid.values()].sort((a, b) => a.host.localeCompare(b.host) || a.index - b.index);
}

export function mergeFlags<F extends Pick<Flag, "kind" | "host" | "gpuUuid" | "startMs">>(
  lists: readonly F[][],
): F[] {
  const byKey = new Map<string, F>();
  for (const list of lists)
    for (const f of list) byKey.set(`${f.kind}|${f.host}|${f.gpuUuid ?? ""}|${f.startMs}`, f);
  return [...byKey.values()].sort((a, b) => b.startMs - a.startMs);
}

type Row = Record<string, unknown> & { key: string };

/** Integer-like sums of the utilization and energy rows; rates and shares are recomputed. */
const SUMMED = [
  "gpus",
  "busyGpuHours",
  "idleGpuHours",
  "idleHeldGpuHours",
  "unknownGpuHours",
  "unknownReportedGpuHours",
  "noDataGpuHours",
  "energyKwh",
  "idleEnergyKwh",
];

function addRow(into: Row, row: Row): void {
  for (const k of SUMMED) if (typeof row[k] === "number") into[k] = Number(into[k] ?? 0) + (row[k] as number);
}

function rates(row: Row): void {
  const n = (k: string) => Number(row[k] ?? 0);
  if ("busyGpuHours" in row) {
    const known = n("busyGpuHours") + n("idleGpuHours") + n("idleHeldGpuHours");
    const all = known + n("unknownGpuHours");
    row.utilizationRate = known > 0 ? n("busyGpuHours") / known : null;
    row.utilizationRateIncludingUnknown = all > 0 ? n("busyGpuHours") / all : null;
  }
  if ("energyKwh" in row) row.wastedShare = n("energyKwh") > 0 ? n("idleEnergyKwh") / n("energyKwh") : null;
}

/**
 * Utilization and energy reports from collectors holding disjoint sets of agents: groups with the
 * same key add up. (A GPU whose samples are split over collectors counts once per collector in
 * `gpus`; the hours and kWh stay exact.)
 */
export function mergeReports(list: readonly Report[]): Report {
  const [first] = list;
  if (!first) throw new Error("nothing to merge");
  if (list.length === 1) return first;
  if (first.kind !== "utilization" && first.kind !== "energy")
    throw new Error(
      `the ${first.kind} report is not merged across collectors yet: ask one collector at a time`,
    );
  const groups = new Map<string, Row>();
  const total: Row = { key: "" };
  for (const report of list) {
    for (const g of report.groups as unknown as Row[]) {
      const seen = groups.get(g.key);
      if (seen) addRow(seen, g);
      else groups.set(g.key, { ...g });
    }
    addRow(total, report.total as unknown as Row);
  }
  for (const g of groups.values()) rates(g);
  rates(total);
  return {
    ...first,
    fromMs: Math.min(...list.map((r) => r.fromMs)),
    toMs: Math.max(...list.map((r) => r.toMs)),
    groups: [...groups.values()].sort((a, b) => a.key.localeCompare(b.key)),
    total: { ...first.total, ...total },
  } as unknown as Report;
}
