// QueryBackend over the collector's own parts: the Store (latest values, series, rollup
// aggregates, hosts, inventory), the flag engine (open flags, history) and the ingest pipeline
// (counters). Reads only, through the store's read methods (its SQL stays in collector/store).
// With a reader (the read worker, docs/design.md §5) the heavy reads (reports, report parts,
// range usage, long series) run on its thread, so they never hold back ingest's commits.
import { MIG_NO_UTILIZATION } from "../../shared/gpu-id.js";
import { GpuState, type IGpuInfo, type IGpuSample } from "../../shared/proto.js";
import type {
  CellGpu,
  DeliveryCounters,
  FlagPage,
  FlagQuery,
  FleetPart,
  FleetPartKind,
  GpuFilter,
  GpuInventory,
  GpuView,
  HostView,
  LeaseInForce,
  MaintenanceCounters,
  MetricsSnapshot,
  MigDeviceBrief,
  MigDeviceView,
  Report,
  ReportGroupBy,
  ReportKind,
  ReportPart,
  SeriesRequest,
  SeriesView,
  Summary,
  TimeRange,
  UsageTotals,
} from "../contract/api-contract.js";
import { type ExportSource, StoreExportSource } from "../export/store-source.js";
import { fleetPart } from "../fanout/fleet-part.js";
import { reportPart } from "../fanout/report-part.js";
import type { FlagEngine } from "../flags/engine.js";
import { compareProblems, countByKind } from "../flags/order.js";
import type { Flag } from "../flags/types.js";
import type { IngestPipeline } from "../ingest/pipeline.js";
import type { LeaseTerms } from "../leases/model.js";
import { summarize, summaryRange } from "../merge/summary.js";
import { alignRange } from "../reports/fleet-usage.js";
import { type GpuWhereabouts, hostsOverTime } from "../reports/host-changes.js";
import { type LeaseParts, leaseParts } from "../reports/lease-reports.js";
import { fleetReport } from "../reports/reports.js";
import { salesReport } from "../reports/sales.js";
import type { SalesGroupBy, SalesReport } from "../reports/sales-report.js";
import type { InventoryRow } from "../store/fleet-reads.js";
import type { MigDeviceRow } from "../store/mig-devices.js";
import type { Store } from "../store/store.js";
import type { LatestGpu } from "../store/store-query.js";
import { classifySample, type IdleThresholds } from "../usage/classify.js";
import { aggregateGroups, mergeGroupSums, usageTotals } from "../usage/usage-sums.js";
import type { QueryBackend } from "./backend.js";
import { buildFleetCells, type CellSource, type FleetCells } from "./fleet-cells.js";
import type { HealthBackend } from "./health-backend.js";
import type { ProcessBackend } from "./process-backend.js";
import type { Reader } from "./read-worker-client.js";
import type { LeasePiece } from "./tenant-scope.js";

export interface StoreBackendParts {
  store: Store;
  /** historyCounts gives `state=all` its true totals (absent: counted from the page). */
  flags: Pick<FlagEngine, "openFlags" | "history" | "flagStarts" | "flagEpisodes"> &
    Partial<Pick<FlagEngine, "historyCounts">>;
  pipeline?: Pick<IngestPipeline, "snapshot" | "commitLatency">;
  /** The health routes' backend (health-backend.ts); absent: they answer 501. */
  health?: HealthBackend;
  /** The process routes' backend (process-backend.ts); absent: they answer 501. */
  processes?: ProcessBackend;
  now?: () => number;
  /** Where heavy reads run (ReadWorker); without one they run here, on the caller's thread. */
  reader?: Reader;
  /** Alert and remote_write delivery counters for /metrics (absent: none shown). */
  deliveries?: () => DeliveryCounters;
  /** The periodic maintenance's counters for /metrics (absent: none shown). */
  maintenance?: () => MaintenanceCounters;
}

const USAGE_CACHE_MS = 30_000;
/** How old a summary's range usage may be while a newer one is computed on the reader. */
const USAGE_STALE_MS = 120_000;
/** Series at least this long read rollups over many buckets: the reader answers them. */
const LONG_SERIES_MS = 6 * 3_600_000;

export class StoreBackend implements QueryBackend {
  private readonly usageCache = new Map<string, { at: number; usage: TimeRange & UsageTotals }>();
  private readonly usageInFlight = new Map<string, Promise<TimeRange & UsageTotals>>();

  readonly health: HealthBackend | undefined;
  readonly processes: ProcessBackend | undefined;

  constructor(private readonly parts: StoreBackendParts) {
    this.health = parts.health;
    this.processes = parts.processes;
  }

  now(): number {
    return (this.parts.now ?? Date.now)();
  }

  exportSource(): ExportSource {
    return new StoreExportSource(this.parts.store);
  }

  async summary(range: TimeRange): Promise<Summary> {
    // Counted straight from the latest samples and open flags: no per-GPU view, no inventory.
    const store = this.parts.store;
    const usage = await this.rangeUsage(range);
    return summarize({
      generatedMs: this.now(),
      hosts: store.hostStatuses().map((status) => ({ status })),
      gpus: store.latest(SUMMARY_READINGS).map((g) => {
        const state = g.state ?? "unknown";
        return {
          uuid: g.uuid,
          host: g.host,
          state,
          usage: classifyLatest(state, g.values, store.idleThresholds(g.host)),
          values: g.values,
        };
      }),
      openFlags: this.parts.flags.openFlags(),
      range: usage,
    });
  }

  /**
   * Usage over a range for the summary, over whole minutes (summaryRange) and kept for 30 s. A
   * 24 h aggregate over 10,000 GPUs costs 50,000 usage-edge seeks in the store, and a wall screen
   * polls every few seconds: one aggregate a minute serves them all. With a reader, a summary
   * does not wait behind a report or a snapshot rebuild on the worker: while the new range is
   * computed, the newest answer for a range of the same length (at most 2 minutes old) serves,
   * and says which range it covers.
   */
  private async rangeUsage(range: TimeRange): Promise<TimeRange & UsageTotals> {
    const { fromMs, toMs } = summaryRange(range);
    const key = `${fromMs}:${toMs}`;
    const hit = this.usageCache.get(key);
    if (hit && performance.now() - hit.at < USAGE_CACHE_MS) return hit.usage;
    const computing = this.usageInFlight.get(key) ?? this.computeUsage(key, fromMs, toMs);
    if (this.parts.reader) {
      let stale: { at: number; usage: TimeRange & UsageTotals } | undefined;
      for (const v of this.usageCache.values())
        if (v.usage.toMs - v.usage.fromMs === toMs - fromMs && (!stale || v.at > stale.at)) stale = v;
      if (stale && performance.now() - stale.at < USAGE_STALE_MS) {
        computing.catch(() => undefined); // a failure shows on the next request that waits for it
        return stale.usage;
      }
    }
    return computing;
  }

  private computeUsage(key: string, fromMs: number, toMs: number): Promise<TimeRange & UsageTotals> {
    const reader = this.parts.reader;
    const computing = (async () => {
      // With several read threads each sums a share of the GPUs, at the same time: the integer
      // sums add up to what one thread would give.
      const groups = reader
        ? aggregateGroups(
            mergeGroupSums(
              await Promise.all(
                this.parts.store
                  .gpuIdSpans(reader.threads ?? 1)
                  .map((span) => reader.call({ op: "aggregate", fromMs, toMs, groupBy: "site", span })),
              ),
            ),
          )
        : this.parts.store.aggregate({ fromMs, toMs, groupBy: "site", maxTemperature: false });
      const usage = { fromMs, toMs, ...usageTotals(groups) };
      const at = performance.now();
      for (const [k, v] of this.usageCache) if (at - v.at >= USAGE_STALE_MS) this.usageCache.delete(k);
      if (this.usageCache.size < 64) this.usageCache.set(key, { at, usage });
      return usage;
    })().finally(() => this.usageInFlight.delete(key));
    this.usageInFlight.set(key, computing);
    return computing;
  }

  fleetCells(options: { layout: boolean; gpus?: readonly CellGpu[] }): FleetCells {
    const cellOptions = { nowMs: this.now(), layout: options.layout };
    // Merged GPUs (fan-out) carry the usage class their own collector gave under its thresholds.
    if (options.gpus) {
      const byUuid = new Map(options.gpus.map((g) => [g.uuid, g.usage]));
      return buildFleetCells(options.gpus, (g) => byUuid.get(g.uuid) ?? this.usageOf(g), cellOptions);
    }
    const latest = this.parts.store.latest();
    const flagsByGpu = new Map<string, Flag[]>();
    const flagsByHost = new Map<string, Flag[]>();
    for (const f of this.parts.flags.openFlags()) {
      const map = f.gpuUuid === null ? flagsByHost : flagsByGpu;
      const key = f.gpuUuid ?? f.host;
      map.set(key, [...(map.get(key) ?? []), f]);
    }
    // Plain objects with fixed fields and one shared empty list: 10,000 spreads cost more in
    // garbage than the rest of the answer.
    const none: readonly Flag[] = [];
    const source: CellSource[] = latest.map((g) => {
      const own = flagsByGpu.get(g.uuid);
      const host = flagsByHost.get(g.host);
      return {
        uuid: g.uuid,
        host: g.host,
        index: g.index,
        model: g.model,
        site: g.site,
        labels: g.labels,
        values: g.values,
        state: g.state ?? "unknown",
        flags: own && host ? [...own, ...host] : (own ?? host ?? none),
      };
    });
    return buildFleetCells(source, (g) => this.usageOf(g), cellOptions);
  }

  /** The latest sample's usage class under its host's idle thresholds. */
  private usageOf(g: Pick<GpuView, "host" | "state" | "values">): ReturnType<typeof classifySample> {
    return classifyLatest(g.state, g.values, this.parts.store.idleThresholds(g.host));
  }

  hosts(): HostView[] {
    return this.hostViews(this.parts.store.latest(), this.parts.flags.openFlags());
  }

  private hostViews(latest: readonly LatestGpu[], open: readonly Flag[]): HostView[] {
    const gpuCount = new Map<string, number>();
    for (const g of latest) gpuCount.set(g.host, (gpuCount.get(g.host) ?? 0) + 1);
    const flagCount = new Map<string, number>();
    for (const f of open) flagCount.set(f.host, (flagCount.get(f.host) ?? 0) + 1);
    return this.parts.store.hostRows().map((h) => ({
      name: h.name,
      site: h.site,
      labels: JSON.parse(h.labels) as Record<string, string>,
      status: h.status,
      statusReason: h.status_reason,
      statusMs: h.status_ms,
      lastSeenMs: h.last_seen_ms,
      agentVersion: h.agent_version,
      intervalMs: h.interval_ms,
      gpus: gpuCount.get(h.name) ?? 0,
      openFlags: flagCount.get(h.name) ?? 0,
    }));
  }

  gpus(filter: GpuFilter): GpuView[] {
    return this.gpuViews(this.parts.store.latest(), this.parts.flags.openFlags(), filter);
  }

  private gpuViews(latest: readonly LatestGpu[], open: readonly Flag[], filter: GpuFilter): GpuView[] {
    const store = this.parts.store;
    const flagsByGpu = new Map<string, Flag[]>();
    const flagsByHost = new Map<string, Flag[]>();
    for (const f of open) {
      const map = f.gpuUuid === null ? flagsByHost : flagsByGpu;
      const key = f.gpuUuid ?? f.host;
      map.set(key, [...(map.get(key) ?? []), f]);
    }
    const inventory = this.inventoryMap();
    const out: GpuView[] = [];
    for (const g of latest) {
      if (!matches(g, filter)) continue;
      const flags = [...(flagsByGpu.get(g.uuid) ?? []), ...(flagsByHost.get(g.host) ?? [])];
      if (filter.flag !== undefined && !flags.some((f) => f.kind === filter.flag)) continue;
      const state = g.state ?? "unknown";
      if (filter.state !== undefined && state !== filter.state) continue;
      out.push(view(g, flags, inventory.get(g.uuid) ?? null, store.idleThresholds(g.host)));
    }
    return out.sort((a, b) => a.host.localeCompare(b.host) || a.index - b.index);
  }

  gpu(id: string): GpuView | undefined {
    const g = this.parts.store.latestOne(id);
    if (!g) return undefined;
    const flags = this.parts.flags
      .openFlags({ host: g.host })
      .filter((f) => f.gpuUuid === null || f.gpuUuid === g.uuid);
    const row = this.parts.store.inventoryOf(g.uuid);
    return view(g, flags, row ? toInventory(row) : null, this.parts.store.idleThresholds(g.host));
  }

  migDevices(gpuUuid: string): MigDeviceView[] {
    return this.parts.store.migDevices.list(gpuUuid).map(migView);
  }

  migDeviceBriefs(): Map<string, MigDeviceBrief[]> {
    const out = new Map<string, MigDeviceBrief[]>();
    for (const row of this.parts.store.migDevices.list()) {
      const { uuid, profile, memoryTotalMib, memoryUsedMib, utilization, utilizationAbsent } = migView(row);
      const brief = { uuid, profile, memoryTotalMib, memoryUsedMib, utilization, utilizationAbsent };
      const list = out.get(row.gpuUuid);
      if (list) list.push(brief);
      else out.set(row.gpuUuid, [brief]);
    }
    return out;
  }

  async series(gpu: GpuView, request: SeriesRequest): Promise<SeriesView> {
    const { fromMs, toMs, stepMs } = request;
    const reader = this.parts.reader;
    const s =
      reader && toMs - fromMs >= LONG_SERIES_MS
        ? await reader.call({
            op: "series",
            uuid: gpu.uuid,
            metrics: [...request.metrics],
            fromMs,
            toMs,
            stepMs,
          })
        : this.parts.store.series(gpu.uuid, request.metrics, fromMs, toMs, stepMs);
    const metrics: SeriesView["metrics"] = {};
    for (const key of request.metrics) {
      const m = s.metrics[key];
      if (m) metrics[key] = { min: m.min, max: m.max, avg: m.avg, count: m.count };
    }
    return {
      uuid: gpu.uuid,
      host: gpu.host,
      index: gpu.index,
      tier: s.tier,
      stepMs: s.stepMs,
      fromMs: request.fromMs,
      toMs: request.toMs,
      t: s.t,
      metrics,
      slowdownTemperatureC: gpu.inventory?.slowdownTemperatureC ?? null,
    };
  }

  hostsOverTime(uuids: readonly string[]): GpuWhereabouts {
    return hostsOverTime(this.parts.store, uuids);
  }

  flags(query: FlagQuery): Flag[] {
    return this.flagPage(query).items;
  }

  flagPage(query: FlagQuery): FlagPage {
    const offset = query.offset ?? 0;
    const filter = {
      ...(query.kinds ? { kinds: query.kinds } : {}),
      ...(query.host !== undefined ? { host: query.host } : {}),
      ...(query.site !== undefined ? { site: query.site } : {}),
      ...(query.label ? { label: query.label } : {}),
      ...(query.within ? { within: query.within } : {}),
      ...(query.severities ? { severities: query.severities } : {}),
    };
    if (query.state === "all") {
      const range = {
        ...filter,
        ...(query.fromMs !== undefined ? { fromMs: query.fromMs } : {}),
        ...(query.toMs !== undefined ? { toMs: query.toMs } : {}),
      };
      const items = this.parts.flags.history({ ...range, limit: query.limit, offset });
      const counts = this.parts.flags.historyCounts?.(range);
      const totalsByKind = counts ? countByKind([]) : countByKind(items);
      if (counts) for (const [k, n] of counts) totalsByKind[k] = n;
      const total = Object.values(totalsByKind).reduce((a, b) => a + b, 0);
      return { items, total: counts ? total : offset + items.length, totalsByKind };
    }
    // Every open flag is read anyway (the engine keeps them in one table): the totals are exact.
    const open = this.parts.flags
      .openFlags(filter)
      .filter((f) => query.toMs === undefined || f.startMs <= query.toMs)
      .sort(compareProblems);
    return {
      items: open.slice(offset, offset + query.limit),
      total: open.length,
      totalsByKind: countByKind(open),
    };
  }

  async report(
    kind: ReportKind,
    range: TimeRange,
    groupBy: ReportGroupBy,
    pieces?: readonly LeasePiece[],
  ): Promise<Report> {
    const reader = this.parts.reader;
    const only = pieces ? { pieces } : {};
    if (reader) return reader.call({ op: "report", kind, ...range, groupBy, nowMs: this.now(), ...only });
    return fleetReport(
      kind,
      { store: this.parts.store, flags: this.parts.flags, now: () => this.now() },
      { ...range, groupBy, ...only },
    );
  }

  pieceUsage(pieces: readonly LeasePiece[]): UsageTotals {
    // One GPU's sums per piece: a tenant's few leases, not the fleet's rows.
    const store = this.parts.store;
    return usageTotals(
      pieces.flatMap((p) =>
        store.aggregate({ fromMs: p.fromMs, toMs: p.toMs, groupBy: "site", filters: { uuid: p.uuid } }),
      ),
    );
  }

  async leaseParts(
    range: TimeRange,
    tenant?: string,
    terms?: readonly LeaseTerms[],
    episodes = false,
  ): Promise<LeaseParts> {
    const reader = this.parts.reader;
    const only = {
      ...(tenant !== undefined ? { tenant } : {}),
      ...(terms ? { terms } : {}),
      ...(episodes ? { episodes } : {}),
    };
    if (reader) return reader.call({ op: "leaseParts", ...range, ...only, nowMs: this.now() });
    return leaseParts(
      { store: this.parts.store, flags: this.parts.flags, now: () => this.now() },
      range,
      tenant,
      terms,
      episodes,
    );
  }

  async fleetPart(kind: FleetPartKind, range: TimeRange): Promise<FleetPart> {
    const reader = this.parts.reader;
    if (reader) return reader.call({ op: "fleetPart", kind, ...range, nowMs: this.now() });
    return fleetPart(
      { store: this.parts.store, flags: this.parts.flags, now: () => this.now() },
      kind,
      range.fromMs,
      range.toMs,
    );
  }

  async sales(range: TimeRange, by: SalesGroupBy): Promise<SalesReport> {
    const reader = this.parts.reader;
    if (reader) return reader.call({ op: "sales", ...range, by, nowMs: this.now() });
    return salesReport({ store: this.parts.store, now: () => this.now() }, { ...range, by });
  }

  async reportPart(range: TimeRange): Promise<ReportPart> {
    const reader = this.parts.reader;
    if (reader) return reader.call({ op: "reportPart", ...range, nowMs: this.now() });
    const { fromMs, toMs } = alignRange(this.parts.store, range.fromMs, range.toMs);
    return reportPart(this.parts.store, fromMs, toMs, this.now());
  }

  metricsSnapshot(): MetricsSnapshot {
    // One read of the fleet and of the open flags serves every part of a scrape.
    const latest = this.parts.store.latest();
    const openFlags = this.parts.flags.openFlags();
    const gpus = this.gpuViews(latest, openFlags, {});
    const p = this.parts.pipeline;
    const snap = p?.snapshot();
    let newest: number | null = null;
    for (const g of gpus)
      if (g.timestampMs !== null && (newest === null || g.timestampMs > newest)) newest = g.timestampMs;
    return {
      gpus,
      hosts: this.hostViews(latest, openFlags),
      openFlags,
      ingest:
        p && snap
          ? {
              messages: snap.messages,
              framesStored: snap.framesStored,
              framesDuplicate: snap.framesDuplicate,
              commits: snap.commits,
              storeFailures: snap.storeFailures,
              overloaded: snap.overloaded,
              queueDepth: snap.queueDepth,
              rejects: snap.rejects as Record<string, number>,
              commitLatency: {
                buckets: p.commitLatency.cumulative(),
                count: p.commitLatency.count,
                sumMs: p.commitLatency.sumMs,
              },
              agentSpoolDropped: snap.agentSpoolDropped,
            }
          : null,
      databaseBytes: this.parts.store.databaseBytes(),
      newestSampleMs: newest,
      agentSources: this.parts.store.agentSources(),
      xidEvents: this.parts.health?.xidCounts() ?? [],
      leases: this.leasesInForce(),
      ...(this.parts.deliveries ? { deliveries: this.parts.deliveries() } : {}),
      ...(this.parts.maintenance ? { maintenance: this.parts.maintenance() } : {}),
    };
  }

  private leasesInForce(): LeaseInForce[] {
    const now = this.now();
    // Leases never overlap on one device, so leases in force are at most one per device.
    return this.parts.store.leases
      .list({ fromMs: now, toMs: now + 1, limit: Number.MAX_SAFE_INTEGER })
      .map((l) => ({
        id: l.id,
        tenant: l.tenant,
        device: l.device,
        gpu: l.gpu,
        priceMicros: l.priceMicros,
        currency: l.currency,
        availabilityMilli: l.availabilityMilli,
      }));
  }

  private inventoryMap(): Map<string, GpuInventory> {
    const map = new Map<string, GpuInventory>();
    for (const row of this.parts.store.inventory()) map.set(row.uuid, toInventory(row));
    return map;
  }
}

function toInventory(row: InventoryRow): GpuInventory {
  const info = JSON.parse(row.info) as IGpuInfo;
  const inv: GpuInventory = {
    serial: row.serial,
    vbiosVersion: row.vbios_version,
    driverVersion: row.driver_version,
    pciBusId: row.pci_bus_id,
  };
  const num = (v: number | null | undefined) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const set = <K extends keyof GpuInventory>(k: K, v: number | undefined) => {
    if (v !== undefined) (inv[k] as number) = v;
  };
  set("slowdownTemperatureC", num(info.temperature_slowdown_celsius));
  set("shutdownTemperatureC", num(info.temperature_shutdown_celsius));
  set("memoryMaxTemperatureC", num(info.temperature_memory_max_celsius));
  set("powerDefaultLimitW", num(info.power_default_limit_watts));
  set("powerMaxLimitW", num(info.power_max_limit_watts));
  return inv;
}

/** Whether a GPU's place fits the filter's host, site, model and label (a GPU list's, here and merged). */
export function matches(g: Pick<LatestGpu, "host" | "site" | "model" | "labels">, f: GpuFilter): boolean {
  if (f.host !== undefined && g.host !== f.host) return false;
  if (f.site !== undefined && g.site !== f.site) return false;
  if (f.model !== undefined && g.model !== f.model) return false;
  if (f.label && g.labels[f.label[0]] !== f.label[1]) return false;
  return true;
}

function view(
  g: LatestGpu,
  flags: readonly Flag[],
  inventory: GpuInventory | null,
  thresholds: IdleThresholds,
): GpuView {
  const state = g.state ?? "unknown";
  return {
    uuid: g.uuid,
    host: g.host,
    index: g.index,
    model: g.model,
    site: g.site,
    labels: g.labels,
    state,
    usage: classifyLatest(state, g.values, thresholds),
    timestampMs: g.timestampMs ?? null,
    values: g.values,
    flags: flags.map((f) => ({
      id: f.id,
      kind: f.kind,
      severity: f.severity,
      startMs: f.startMs,
      reason: f.reason,
    })),
    inventory,
  };
}

/** The readings a summary counts: classifyLatest's and the mean utilization now. */
const SUMMARY_READINGS = ["utilization_gpu_pct", "memory_used_mib", "compute_processes", "mig_mode"] as const;

/** The latest sample's usage class, by the same rule the rollups use. */
function classifyLatest(
  state: string,
  v: GpuView["values"],
  thresholds: IdleThresholds,
): ReturnType<typeof classifySample> {
  const sample: IGpuSample = {
    state: state === "ok" ? GpuState.GPU_STATE_OK : GpuState.GPU_STATE_UNSPECIFIED,
    utilization_gpu_pct: v.utilization_gpu_pct ?? null,
    memory_used_mib: v.memory_used_mib ?? null,
    compute_processes: v.compute_processes ?? null,
    mig_mode: v.mig_mode === undefined ? null : v.mig_mode === 1,
  };
  return classifySample(sample, thresholds);
}

/** A stored MIG device as the API shows it: memory as of its inventory, no utilization (none exists). */
function migView({ gpuUuid: _, updatedMs, ...d }: MigDeviceRow): MigDeviceView {
  return { ...d, reportedMs: updatedMs, utilization: null, utilizationAbsent: MIG_NO_UTILIZATION };
}
