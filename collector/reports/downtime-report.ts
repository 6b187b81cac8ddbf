// Availability report: which GPUs were down in the range, for how long and why. Pure: takes the
// flag episodes overlapping the range and the usage rows (which GPUs were in the fleet, where),
// returns per-GPU down intervals with their reasons and totals per group.
//
// A GPU is down while any of these is open on it: lost, error, reset-required, a hardware xid
// (values.fault "hardware": a workload's Xid is not the GPU's fault), or, on its host, offline
// or stale (host-level flags: every GPU of the host is unreachable). Overlapping episodes merge
// into one interval carrying every kind and reason; an open episode runs up to now.
import type { Flag } from "../flags/types.js";
import { matchesFilters } from "../usage/placement.js";
import type { GpuUsage, GroupBy, ReportFilters, ReportHeader } from "./types.js";
import { groupKey, groupName } from "./usage-report.js";

const HOUR_MS = 3_600_000;
/** Reasons kept per interval: the kinds say the rest. */
const MAX_REASONS = 5;

/** Flag kinds read for this report (an xid counts only when its fault is the hardware's). */
export const DOWN_KINDS = ["lost", "error", "reset-required", "xid", "offline", "stale"] as const;
export type DownKind = (typeof DOWN_KINDS)[number];

export interface DownInterval {
  fromMs: number;
  toMs: number;
  kinds: DownKind[];
  reasons: string[];
}

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

/** Whether an episode of this flag means its GPU (or its host's GPUs) was down. */
export function isDown(f: Flag): boolean {
  if (!(DOWN_KINDS as readonly string[]).includes(f.kind)) return false;
  return f.kind !== "xid" || f.values.fault === "hardware";
}

interface Part {
  from: number;
  to: number;
  kind: DownKind;
  reason: string;
}

/**
 * Disjoint intervals, sorted, from overlapping parts. Parts that start together are taken by
 * kind, then reason: an interval's kinds and reasons must not depend on the order the flag
 * history gave them in (several collectors' merged flags give one collector's report).
 */
export function mergeParts(parts: readonly Part[]): DownInterval[] {
  const out: DownInterval[] = [];
  const order = (a: Part, b: Part) =>
    a.from - b.from || a.kind.localeCompare(b.kind) || a.reason.localeCompare(b.reason);
  for (const p of [...parts].sort(order)) {
    const last = out[out.length - 1];
    if (last && p.from <= last.toMs) {
      last.toMs = Math.max(last.toMs, p.to);
      if (!last.kinds.includes(p.kind)) last.kinds.push(p.kind);
      if (!last.reasons.includes(p.reason) && last.reasons.length < MAX_REASONS) last.reasons.push(p.reason);
    } else out.push({ fromMs: p.from, toMs: p.to, kinds: [p.kind], reasons: [p.reason] });
  }
  return out;
}

/** Time covered by the parts of these kinds (their own union), ms. */
function kindMs(parts: readonly Part[], ...kinds: DownKind[]): number {
  return mergeParts(parts.filter((p) => kinds.includes(p.kind))).reduce((n, i) => n + i.toMs - i.fromMs, 0);
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
): DowntimeReport {
  const end = Math.min(header.toMs, header.nowMs);
  // One GPU per (host, uuid): a GPU that moved is down where it was.
  const gpus = new Map<string, { u: GpuUsage; parts: Part[] }>();
  const onHost = new Map<string, string[]>();
  for (const u of usage) {
    const id = `${u.host}\u0000${u.uuid}`;
    const g = gpus.get(id);
    if (g) g.u = { ...g.u, periodMs: g.u.periodMs + u.periodMs };
    else {
      gpus.set(id, { u, parts: [] });
      onHost.set(u.host, [...(onHost.get(u.host) ?? []), id]);
    }
  }
  for (const f of flags) {
    if (!isDown(f)) continue;
    const from = Math.max(f.startMs, header.fromMs);
    const to = Math.min(f.endMs ?? header.nowMs, end);
    if (to <= from) continue;
    const part = { from, to, kind: f.kind as DownKind, reason: f.reason };
    const ids = f.gpuUuid === null ? (onHost.get(f.host) ?? []) : [`${f.host}\u0000${f.gpuUuid}`];
    for (const id of ids) gpus.get(id)?.parts.push(part);
  }
  const groups = new Map<string, Sums>();
  const total = empty();
  const down: DownGpu[] = [];
  for (const [id, { u, parts }] of gpus) {
    if (!matchesFilters(filters, u)) continue;
    const key = groupKey(by, u);
    const intervals = mergeParts(parts);
    const downMs = intervals.reduce((n, i) => n + i.toMs - i.fromMs, 0);
    const s = groups.get(key) ?? empty();
    groups.set(key, s);
    for (const x of [s, total]) {
      x.gpus.add(id);
      x.periodMs += u.periodMs;
      if (intervals.length === 0) continue;
      x.down.add(id);
      x.intervals += intervals.length;
      x.downMs += downMs;
      x.byKind.lost += kindMs(parts, "lost");
      x.byKind.error += kindMs(parts, "error");
      x.byKind["reset-required"] += kindMs(parts, "reset-required");
      x.byKind.xid += kindMs(parts, "xid");
      x.byKind.unreachable += kindMs(parts, "offline", "stale");
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
