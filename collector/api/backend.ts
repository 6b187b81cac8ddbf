// What the HTTP API, /metrics and the dashboard read, as one small interface: the HTTP layer
// depends on this only, so it is tested over the real store (store-backend.ts) and a fan-out
// backend can stand in for it. Values are in natural units (W, °C, %, MiB); absent is left out.
import type { MetricKey } from "../../shared/metrics.js";
import type { ReportPart } from "../fanout/report-part.js";
import type { Flag, FlagKind } from "../flags/types.js";
import type { FleetReport } from "../reports/reports.js";
import type { FleetCells } from "./fleet-cells.js";

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

export type ReportKind = "utilization" | "energy" | "thermal" | "capacity";
export type ReportGroupBy = "site" | "host" | "model" | "gpu" | { label: string };

export interface GpuFilter {
  host?: string;
  site?: string;
  model?: string;
  label?: readonly [string, string];
  /** Reported state ("ok", "timeout", "lost", "error", "unspecified"), or "unknown" (no sample yet). */
  state?: string;
  /** Only GPUs with an open flag of this kind (host-level flags count for every GPU of the host). */
  flag?: FlagKind;
}

export interface GpuInventory {
  serial: string;
  vbiosVersion: string;
  driverVersion: string;
  pciBusId: string;
  /** The model's own limits where the inventory reports them. */
  slowdownTemperatureC?: number;
  shutdownTemperatureC?: number;
  memoryMaxTemperatureC?: number;
  powerDefaultLimitW?: number;
  powerMaxLimitW?: number;
}

export interface GpuFlagRef {
  id: number;
  kind: FlagKind;
  severity: string;
  startMs: number;
  reason: string;
}

export interface GpuView {
  uuid: string;
  host: string;
  index: number;
  model: string;
  site: string;
  labels: Readonly<Record<string, string>>;
  /** Reported state of the latest sample, "unknown" before the first. */
  state: string;
  timestampMs: number | null;
  values: Partial<Record<MetricKey, number>>;
  flags: GpuFlagRef[];
  inventory: GpuInventory | null;
}

export interface HostView {
  name: string;
  site: string;
  labels: Readonly<Record<string, string>>;
  status: string;
  statusReason: string;
  statusMs: number | null;
  lastSeenMs: number;
  agentVersion: string;
  intervalMs: number | null;
  gpus: number;
  openFlags: number;
}

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

export interface Summary {
  generatedMs: number;
  hosts: { total: number; byStatus: Record<string, number> };
  gpus: { total: number; byState: Record<string, number> };
  flags: { open: number; byKind: Partial<Record<FlagKind, number>>; gpusFlagged: number };
  utilization: {
    /** GPUs busy now among GPUs whose latest sample is known and fresh. */
    now: {
      busy: number;
      known: number;
      /** Busy share: busy / known (a GPU at ≥ the idle threshold, 5 % by default, counts busy). */
      rate: number | null;
    };
    /** Mean utilization reading now (0–100) of the GPUs `now` knows; null when none has one. Not the busy share. */
    meanNowPct?: number | null;
    range: TimeRange & UsageTotals;
  };
}

export interface SeriesRequest {
  metrics: readonly MetricKey[];
  fromMs: number;
  toMs: number;
  stepMs: number;
}

export interface SeriesView {
  uuid: string;
  host: string;
  index: number;
  tier: string;
  stepMs: number;
  fromMs: number;
  toMs: number;
  t: number[];
  metrics: Partial<
    Record<MetricKey, { min: (number | null)[]; max: (number | null)[]; avg: (number | null)[] }>
  >;
  /** The model's slowdown temperature, for the chart's line; null when unknown. */
  slowdownTemperatureC: number | null;
}

export interface FlagQuery {
  state: "open" | "all";
  kinds?: readonly FlagKind[];
  host?: string;
  site?: string;
  label?: readonly [string, string];
  fromMs?: number;
  toMs?: number;
  limit: number;
  /** Skip this many of the ordered list first (paging); default 0. */
  offset?: number;
}

/** One page of flags and the true totals of everything the query matches. */
export interface FlagPage {
  /** Open flags: most severe, then longest open first (flags/order.ts); history: newest start first. */
  items: Flag[];
  total: number;
  totalsByKind: Record<FlagKind, number>;
}

/** The reports' own JSON (collector/reports): header, `groups`, `total`, plus per-kind lists. */
export type Report = FleetReport;

/** Everything /metrics shows, read at once. */
export interface MetricsSnapshot {
  gpus: GpuView[];
  hosts: HostView[];
  openFlags: Flag[];
  ingest: {
    messages: number;
    framesStored: number;
    framesDuplicate: number;
    commits: number;
    storeFailures: number;
    overloaded: number;
    queueDepth: number;
    rejects: Record<string, number>;
    commitLatency: { buckets: { le: number; count: number }[]; count: number; sumMs: number } | null;
  } | null;
  databaseBytes: number;
  /** Newest sample age over all GPUs, as seen now (how far behind the collector is). */
  newestSampleMs: number | null;
}

export interface QueryBackend {
  summary(range: TimeRange): Summary;
  hosts(): HostView[];
  gpus(filter: GpuFilter): GpuView[];
  /** By UUID or "host:index"; undefined when unknown. */
  gpu(id: string): GpuView | undefined;
  series(gpu: GpuView, request: SeriesRequest): SeriesView;
  flags(query: FlagQuery): Flag[];
  /** A page of flags with true totals; routes fall back to flags() without totals where absent. */
  flagPage?(query: FlagQuery): FlagPage;
  /** The compact per-GPU columns a wall screen polls (fleet-cells.ts); from `gpus` when given (fan-out). */
  fleetCells?(options: { layout: boolean; gpus?: readonly GpuView[] }): FleetCells;
  report(kind: ReportKind, range: TimeRange, groupBy: ReportGroupBy): Report;
  metricsSnapshot(): MetricsSnapshot;
  /** This collector's share of a usage report over the range widened to whole rollup steps (fan-out). */
  reportPart?(range: TimeRange): ReportPart;
  /** Wall clock (tests inject one). */
  now(): number;
}
