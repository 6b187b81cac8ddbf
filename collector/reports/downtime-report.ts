// Availability report: which GPUs were down in the range, for how long and why. Pure: takes the
// flag episodes overlapping the range and the usage rows (which GPUs were in the fleet, where),
// returns per-GPU down intervals with their reasons and totals per group. What counts as down,
// and how episodes merge, is down-time.ts: the same stretches as the statements and tenants view.
import type { Flag } from "../flags/types.js";
import { matchesFilters } from "../usage/placement.js";
import { DownFlags, type DownInterval, type DownKind, type GpuPlace, stretchMs } from "./down-time.js";
import type { GpuUsage, GroupBy, ReportFilters, ReportHeader } from "./types.js";
import { groupKey, groupName } from "./usage-report.js";

const HOUR_MS = 3_600_000;

export interface DownGpu {
  /** host:index (the host only when the index is unknown). */
  gpu: string;
  uuid: string;
  host: string;
  index: number | null;
  model: string;
  site: string;
  /** The group it counts in. */
  key: string;
  downMs: number;
  intervals: DownInterval[];
}

export interface DowntimeRow {
  key: string;
  /** GPUs in the group during the range. */
  gpus: number;
  /** Of them, GPUs down at some time in the range. */
  downGpus: number;
  downIntervals: number;
  downGpuHours: number;
  /** 1 − down time / time in the fleet; null when the group had no time in the range. */
  availability: number | null;
  /** Per reason (an interval with two kinds counts in both: these may add up to more than downGpuHours). */
  lostGpuHours: number;
  errorGpuHours: number;
  resetRequiredGpuHours: number;
  xidGpuHours: number;
  unreachableGpuHours: number;
}

export interface DowntimeReport extends ReportHeader {
  kind: "downtime";
  groups: DowntimeRow[];
  total: DowntimeRow;
  /** Every GPU down in the range: longest down first. */
  down: DownGpu[];
}

interface Sums {
  gpus: Set<string>;
  down: Set<string>;
  intervals: number;
  periodMs: number;
  downMs: number;
  byKind: Record<"lost" | "error" | "reset-required" | "xid" | "unreachable", number>;
}

const empty = (): Sums => ({
  gpus: new Set(),
  down: new Set(),
  intervals: 0,
  periodMs: 0,
  downMs: 0,
  byKind: { lost: 0, error: 0, "reset-required": 0, xid: 0, unreachable: 0 },
});

function row(key: string, s: Sums): DowntimeRow {
  return {
    key,
    gpus: s.gpus.size,
    downGpus: s.down.size,
    downIntervals: s.intervals,
    downGpuHours: s.downMs / HOUR_MS,
    availability: s.periodMs > 0 ? Math.max(0, 1 - s.downMs / s.periodMs) : null,
    lostGpuHours: s.byKind.lost / HOUR_MS,
    errorGpuHours: s.byKind.error / HOUR_MS,
    resetRequiredGpuHours: s.byKind["reset-required"] / HOUR_MS,
    xidGpuHours: s.byKind.xid / HOUR_MS,
    unreachableGpuHours: s.byKind.unreachable / HOUR_MS,
  };
}

export function buildDowntimeReport(
  header: Omit<ReportHeader, "kind" | "groupBy">,
  by: GroupBy,
  filters: ReportFilters,
  usage: readonly GpuUsage[],
  flags: readonly Flag[],
  /** Where the row's GPU was on its host within the range; undefined: the whole range. */
  placesOf?: (row: GpuUsage) => readonly GpuPlace[] | undefined,
): DowntimeReport {
  const end = Math.min(header.toMs, header.nowMs);
  // One GPU per (host, uuid): a GPU that moved is down where it was.
  const gpus = new Map<string, GpuUsage>();
  for (const u of usage) {
    const id = `${u.host}\u0000${u.uuid}`;
    const g = gpus.get(id);
    gpus.set(id, g ? { ...g, periodMs: g.periodMs + u.periodMs } : u);
  }
  const downFlags = DownFlags.of(flags);
  const groups = new Map<string, Sums>();
  const total = empty();
  const down: DownGpu[] = [];
  for (const [id, u] of gpus) {
    if (!matchesFilters(filters, u)) continue;
    const key = groupKey(by, u);
    const places = placesOf?.(u) ?? [{ host: u.host, fromMs: header.fromMs, toMs: end }];
    const intervals = downFlags.stretches(u.uuid, places, header.nowMs);
    const downMs = stretchMs(intervals);
    const only = (...kinds: DownKind[]) =>
      stretchMs(downFlags.stretches(u.uuid, places, header.nowMs, kinds));
    const s = groups.get(key) ?? empty();
    groups.set(key, s);
    for (const x of [s, total]) {
      x.gpus.add(id);
      x.periodMs += u.periodMs;
      if (intervals.length === 0) continue;
      x.down.add(id);
      x.intervals += intervals.length;
      x.downMs += downMs;
      x.byKind.lost += only("lost");
      x.byKind.error += only("error");
      x.byKind["reset-required"] += only("reset-required");
      x.byKind.xid += only("xid");
      x.byKind.unreachable += only("offline", "stale");
    }
    if (intervals.length === 0) continue;
    const index = u.index ?? null;
    down.push({
      gpu: index === null ? u.host : `${u.host}:${index}`,
      uuid: u.uuid,
      host: u.host,
      index,
      model: u.model,
      site: u.site,
      key,
      downMs,
      intervals,
    });
  }
  down.sort((a, b) => b.downMs - a.downMs || a.gpu.localeCompare(b.gpu, undefined, { numeric: true }));
  return {
    kind: "downtime",
    ...header,
    groupBy: groupName(by),
    groups: [...groups].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, s]) => row(k, s)),
    total: row("total", total),
    down,
  };
}
