// The store reads behind every report: which GPUs the fleet had during a range, where they were
// (per time: a GPU that moved host is attributed to each host for its own stretch, from the
// gpu_inventory history), and what the rollup tiers say each did there. A GPU known to the fleet
// that sent nothing for part of the range has that part counted as no-data (unknown), from its
// first sighting up to now: time before a GPU joined, or after now, is nobody's.
//
// Not tracked: a GPU taken out of the fleet stays known and goes on counting as no-data (until
// an operator removes it from the database); a host's site and labels are its current ones.
import { GputelError } from "../../shared/errors.js";
import type { FleetGpu } from "../store/fleet-reads.js";
import type { Store } from "../store/store.js";
import { SAMPLES, type UsageTable, WIDTH } from "../store/usage-table.js";
import { matchesFilters } from "../usage/placement.js";
import { CWMS_PER_WH, type UsageSums } from "../usage/usage-sums.js";
import { type HostChange, hostAt, hostChanges } from "./host-changes.js";
import type { GpuUsage, ReportFilters } from "./types.js";

/** Longest range a report covers (the default 1 h tier keeps 2 years). */
export const MAX_REPORT_RANGE_MS = 3 * 366 * 86_400_000;

interface Host {
  name: string;
  site: string;
  labels: Readonly<Record<string, string>>;
}

export interface FleetUsage {
  fromMs: number;
  toMs: number;
  nowMs: number;
  rows: GpuUsage[];
}

/** The range widened to the finest rollup step, as the store's sums cover it. */
export function alignRange(store: Store, fromMs: number, toMs: number): { fromMs: number; toMs: number } {
  const step = store.tiers.rollups[0]?.stepMs ?? 60_000;
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || !(toMs > fromMs)) {
    throw new GputelError("GPUTEL_E_API", "Bad report range: to must be after from", { fromMs, toMs });
  }
  if (toMs - fromMs > MAX_REPORT_RANGE_MS) {
    throw new GputelError("GPUTEL_E_API", "Report range is too long", { fromMs, toMs });
  }
  return { fromMs: Math.floor(fromMs / step) * step, toMs: Math.ceil(toMs / step) * step };
}

/** The fleet's GPUs and their host history: read once per report, however many pieces it has. */
export interface FleetLayout {
  gpus: FleetGpu[];
  history: Map<number, HostChange[]>;
}

export function readFleetLayout(store: Store): FleetLayout {
  const step = store.tiers.rollups[0]?.stepMs ?? 60_000;
  return { gpus: store.fleetGpus(), history: hostChanges(store, step) };
}

/** A GPU on one host for a stretch of the range, and what the rollups say it did there. */
export interface GpuStretch {
  gpu: FleetGpu;
  /** Its slot on its current host (host:index); undefined when unknown. */
  index: number | undefined;
  host: Host;
  fromMs: number;
  toMs: number;
  /** Undefined: no sample in the stretch. */
  totals: UsageSums | undefined;
  /** Time of the stretch the GPU was part of the fleet (since first seen, up to now), ms. */
  periodMs: number;
}

/**
 * Per GPU and host stretch: usage and energy over [fromMs, toMs) (aligned to whole minutes),
 * with no-data time counted up to nowMs. Filters apply to each stretch. The arguments are
 * fleetStretches' (with maxTemperature, every bucket is read for the highest temperature: the
 * thermal report; otherwise it is null).
 */
export function fleetUsage(...args: Parameters<typeof fleetStretches>): FleetUsage {
  const { stretches, ...header } = fleetStretches(...args);
  return { ...header, rows: stretches.map((s) => usageRow(s.gpu.id, placeOf(s), s.totals, s.periodMs)) };
}

/**
 * The stretches behind fleetUsage, with their integer sums (what a collector serves its peers,
 * collector/fanout/fleet-part.ts). A GPU not in the fleet yet during the range has none.
 */
export function fleetStretches(
  store: Store,
  range: { fromMs: number; toMs: number },
  nowMs: number,
  filters: ReportFilters = {},
  /** Read every bucket for the highest temperature (the thermal report); otherwise it is null. */
  maxTemperature = false,
  layout: FleetLayout = readFleetLayout(store),
): { fromMs: number; toMs: number; nowMs: number; stretches: GpuStretch[] } {
  const stretches: GpuStretch[] = [];
  const header = forEachStretch(store, range, nowMs, filters, maxTemperature, layout, (s) => {
    stretches.push({
      gpu: s.gpu,
      index: store.gpu(s.gpu.id)?.index,
      host: s.host,
      fromMs: s.fromMs,
      toMs: s.toMs,
      totals: s.row < 0 ? undefined : s.table.usage(s.row),
      periodMs: s.periodMs,
    });
  });
  return { ...header, stretches };
}

/**
 * One stretch as forEachStretch hands it: the same object, refilled for the next stretch, so a
 * visitor keeps nothing from it (a 10,000-GPU report made several objects per GPU).
 */
export interface StretchCursor {
  gpu: FleetGpu;
  host: Host;
  fromMs: number;
  toMs: number;
  /** The stretch's sums: row `row` of `table`; row -1 when no sample is in the stretch. */
  table: UsageTable;
  row: number;
  /** Time of the stretch the GPU was part of the fleet (since first seen, up to now), ms. */
  periodMs: number;
  /** Whether this is the GPU's first stretch in the walk (its stretches come one after another). */
  firstOfGpu: boolean;
}

/**
 * Every stretch fleetStretches lists, in the same order (by GPU id, then time), handed to
 * `visit` without an object per stretch. Returns the range as computed.
 */
export function forEachStretch(
  store: Store,
  range: { fromMs: number; toMs: number },
  nowMs: number,
  filters: ReportFilters,
  maxTemperature: boolean,
  layout: FleetLayout,
  visit: (s: StretchCursor) => void,
): { fromMs: number; toMs: number; nowMs: number } {
  const { fromMs, toMs } = alignRange(store, range.fromMs, range.toMs);
  const { history } = layout;
  // Filtered to one GPU (a tenant's lease piece): read that GPU's sums, and only its moves.
  const one = filters.uuid;
  const gpus = one === undefined ? layout.gpus : layout.gpus.filter((g) => g.uuid === one);
  const ids = one === undefined ? undefined : new Set(gpus.map((g) => g.id));
  const moves = new Map(
    [...history].filter(
      ([id, list]) =>
        (ids === undefined || ids.has(id)) && list.some((c) => c.atMs > fromMs && c.atMs < toMs),
    ),
  );

  // Whole range for GPUs that stayed put; per stretch between host changes for those that moved.
  const whole = store.usageTable(
    { fromMs, toMs },
    filters.uuid === undefined ? undefined : gpus.map((g) => g.id),
    { maxTemperature },
  );
  const cuts = [
    ...new Set(
      [...moves.values()].flatMap((m) => m.map((c) => c.atMs).filter((t) => t > fromMs && t < toMs)),
    ),
  ].sort((a, b) => a - b);
  const edges = [fromMs, ...cuts, toMs];
  const movedIds = [...moves.keys()];
  const stretches: { fromMs: number; toMs: number; table: UsageTable }[] = [];
  if (movedIds.length > 0) {
    for (let i = 0; i + 1 < edges.length; i++) {
      const a = edges[i] as number;
      const b = edges[i + 1] as number;
      stretches.push({
        fromMs: a,
        toMs: b,
        table: store.usageTable({ fromMs: a, toMs: b }, movedIds, { maxTemperature }),
      });
    }
  }

  const end = Math.min(toMs, nowMs);
  const noHost: Host = { name: "", site: "", labels: {} };
  const open = filters.site === undefined && filters.host === undefined && filters.model === undefined;
  const checked = !open || filters.uuid !== undefined || filters.labels !== undefined;
  const cursor: StretchCursor = {
    gpu: gpus[0] as FleetGpu,
    host: noHost,
    fromMs,
    toMs,
    table: whole,
    row: -1,
    periodMs: 0,
    firstOfGpu: true,
  };
  // The stretch in the cursor, when the GPU was in the fleet then and it passes the filters.
  const offer = (hostId: number, a: number, b: number, table: UsageTable): void => {
    const g = cursor.gpu;
    let row = table.find(g.id);
    if (row >= 0 && (table.values[row * WIDTH + SAMPLES] as number) === 0) row = -1;
    // The registry holds every host with its labels parsed; no need to read the table again.
    const host = store.host(hostId) ?? noHost;
    const periodMs = Math.max(0, Math.min(b, end) - Math.max(a, g.firstSeenMs));
    if (periodMs === 0 && row < 0) return; // not in the fleet yet
    if (
      checked &&
      !matchesFilters(filters, {
        site: host.site,
        host: host.name,
        labels: host.labels,
        uuid: g.uuid,
        model: g.model,
      })
    )
      return;
    cursor.host = host;
    cursor.fromMs = a;
    cursor.toMs = b;
    cursor.table = table;
    cursor.row = row;
    cursor.periodMs = periodMs;
    visit(cursor);
    cursor.firstOfGpu = false;
  };
  for (const g of gpus) {
    cursor.gpu = g;
    cursor.firstOfGpu = true;
    const changes = moves.get(g.id);
    if (changes) {
      for (const s of stretches) offer(hostAt(changes, s.fromMs) ?? g.hostId, s.fromMs, s.toMs, s.table);
    } else {
      offer(hostAt(history.get(g.id) ?? [], fromMs) ?? g.hostId, fromMs, toMs, whole);
    }
  }
  return { fromMs, toMs, nowMs };
}

/** Where a stretch's GPU was, as usageRow takes it. */
export function placeOf(s: GpuStretch): RowPlace {
  const { name, site, labels } = s.host;
  return { uuid: s.gpu.uuid, index: s.index, model: s.gpu.model, name, site, labels };
}

/** Where a usage row's GPU was, for usageRow. */
export interface RowPlace {
  uuid: string;
  index?: number | undefined;
  model: string;
  name: string;
  site: string;
  labels: Readonly<Record<string, string>>;
}

/**
 * A report row from a stretch's sums: the one conversion for this collector's stretches and for
 * the stretches several collectors' parts add up to (collector/merge/merge-fleet.ts).
 */
export function usageRow(gpuId: number, at: RowPlace, t: UsageSums | undefined, periodMs: number): GpuUsage {
  const covered = t ? t.busyMs + t.idleMs + t.idleHeldMs + t.unknownMs : 0;
  return {
    gpuId,
    uuid: at.uuid,
    ...(at.index !== undefined ? { index: at.index } : {}),
    model: at.model,
    host: at.name,
    site: at.site,
    labels: at.labels,
    periodMs: Math.max(periodMs, covered),
    busyMs: t?.busyMs ?? 0,
    idleMs: t?.idleMs ?? 0,
    idleHeldMs: t?.idleHeldMs ?? 0,
    unknownReportedMs: t?.unknownMs ?? 0,
    noDataMs: Math.max(0, periodMs - covered),
    energyWh: (t?.energyCwms ?? 0) / CWMS_PER_WH,
    energyIdleWh: (t?.energyIdleCwms ?? 0) / CWMS_PER_WH,
    // Temperatures are stored unscaled (whole °C, shared/metrics.ts scale 1).
    maxTemperatureC: t?.maxTemperatureC ?? null,
    utilSum: t?.utilizationSum ?? 0,
    utilCount: t?.utilizationCount ?? 0,
  };
}
