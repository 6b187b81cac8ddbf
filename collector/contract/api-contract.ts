// The API's contract: the shapes /api/v1 answers with, in one module that the collector's API,
// /metrics, the fan-out, the merges and `gputel query` all import. Values are in natural units
// (W, °C, %, MiB); absent is left out.
import type { MetricKey } from "../../shared/metrics.js";
import type { Flag, FlagKind, FlagValues, Severity } from "../flags/types.js";
import type { ReportSession } from "../reports/process-report.js";
import type { FleetReport } from "../reports/reports.js";
import type { EventCount, EventGroup } from "../store/event-store.js";
import type { MigDeviceRow } from "../store/mig-devices.js";
import type { UsageClass } from "../usage/classify.js";
import type { UsageSums, UsageTotals } from "../usage/usage-sums.js";

export type { UsageClass, UsageTotals };

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

export type ReportKind = "utilization" | "energy" | "thermal" | "capacity" | "downtime";
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
  /** How the latest sample counts toward utilization now, by its host's idle thresholds (the
   *  rollups' rule): merged summaries count busy and known GPUs from it. */
  usage: UsageClass;
  timestampMs: number | null;
  values: Partial<Record<MetricKey, number>>;
  flags: GpuFlagRef[];
  inventory: GpuInventory | null;
  /**
   * Its MIG devices from its latest inventory, only when it has any: in the GPU list the compact
   * form; /api/v1/gpus/:id gives each whole (MigDeviceView).
   */
  migDevices?: MigDeviceBrief[];
}

/** One MIG device of a GPU, as its latest inventory reported it (memory used as of `reportedMs`, not live). */
export type MigDeviceView = Omit<MigDeviceRow, "gpuUuid" | "updatedMs"> & {
  reportedMs: number;
  /** Always null: nvidia-smi reports none per MIG instance, and none is estimated. */
  utilization: null;
  utilizationAbsent: string;
};

/** A MIG device as the GPU list shows it: what a list line draws, whatever the fleet's size. */
export type MigDeviceBrief = Pick<
  MigDeviceView,
  "uuid" | "profile" | "memoryTotalMib" | "memoryUsedMib" | "utilization" | "utilizationAbsent"
>;

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

/** One metric of a series: per bucket its least, greatest and average value (null: no sample there). */
export interface SeriesMetric {
  min: (number | null)[];
  max: (number | null)[];
  avg: (number | null)[];
  /**
   * The samples behind each bucket (0 where none), so a merge across collectors averages their
   * samples, not their averages. Absent from a collector before 2026-12-08.
   */
  count?: number[];
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
  metrics: Partial<Record<MetricKey, SeriesMetric>>;
  /** The model's slowdown temperature, for the chart's line; null when unknown. */
  slowdownTemperatureC: number | null;
}

export interface FlagQuery {
  state: "open" | "all";
  kinds?: readonly FlagKind[];
  host?: string;
  site?: string;
  label?: readonly [string, string];
  /** Only these GPUs' flags and these hosts' host-level flags (model, q, gpu: flag-scope.ts). */
  within?: { uuids: readonly string[]; hosts: readonly string[] };
  /** Only these severities (problems=true: warning, critical). */
  severities?: readonly Severity[];
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
    /** Per host: frames its agent's spool dropped (bound reached), from its newest frame. */
    agentSpoolDropped?: Record<string, number>;
  } | null;
  databaseBytes: number;
  /** Newest sample age over all GPUs, as seen now (how far behind the collector is). */
  newestSampleMs: number | null;
  /** Each agent's sources' health, from its latest status (absent: not read by this backend). */
  agentSources?: AgentSourceView[];
  /** Xid events stored, per GPU, code and action (absent: not read by this backend). */
  xidEvents?: XidEventCount[];
  /** Leases in force at the scrape (absent: not read by this backend). */
  leases?: LeaseInForce[];
  /** Alert and remote_write deliveries since the collector started (absent: none configured). */
  deliveries?: DeliveryCounters;
  /** The collector's periodic maintenance since it started (absent: not run by this process). */
  maintenance?: MaintenanceCounters;
}

/** What a maintenance round does (collector/maintenance.ts), each skipped on its own when the database is locked. */
export type MaintenanceTask = "flags" | "retention";

/** The periodic maintenance's counters (collector/maintenance.ts). */
export interface MaintenanceCounters {
  /** Per task, the rounds skipped because another process held the database's write lock. */
  skippedBusy: Record<MaintenanceTask, number>;
}

/** One alert receiver's delivery queue (collector/alerts/delivery-queue.ts). */
export interface AlertDeliveryCounters {
  receiver: "webhook" | "alertmanager";
  /** Requests the receiver accepted. */
  sent: number;
  /** Attempts that failed (no answer, timeout, non-2xx), each retried with backoff. */
  failedAttempts: number;
  /** Messages dropped because the queue was full. */
  dropped: number;
  /** Messages waiting, the one being retried included. */
  queued: number;
}

/** The remote_write exporter's counters (collector/remote-write/exporter.ts). */
export interface RemoteWriteCounters {
  samplesSent: number;
  samplesDropped: number;
  batchesSent: number;
  batchesDropped: number;
  retries: number;
  rowsSkipped: number;
  pendingRows: number;
}

export interface DeliveryCounters {
  alerts: AlertDeliveryCounters[];
  /** Null when remote_write is not configured. */
  remoteWrite: RemoteWriteCounters | null;
}

/** Xid events stored for one GPU (uuid null: a bus id its host's inventory did not know), code and action. */
export type XidEventCount = EventCount;

/** A lease in force, as /metrics exports it for dashboards that group by tenant. */
export interface LeaseInForce {
  id: string;
  tenant: string;
  /** The leased device: the GPU's UUID, or a MIG device's. */
  device: string;
  /** The physical GPU's UUID. */
  gpu: string;
  /** Price per GPU-hour in millionths of `currency`; null when the lease has none. */
  priceMicros: number | null;
  currency: string | null;
  /** Committed availability in thousandths of a percent; null when the lease commits none. */
  availabilityMilli: number | null;
}

/** A flag as /api/v1/flags lists it. */
/**
 * `peer`, in a merged list only (http.peers): the peer whose id `id` is, where the collector asked
 * holds no copy of the episode; POST /api/v1/flags/:id/ack then needs it with the episode.
 */
export type FlagJson = Flag & { durationMs: number; peer?: string };

/**
 * Where a collector serves every open flag it holds (a tenant's with `tenant=`), for a merged
 * summary: whole, where a flag list stops at LIMITS.maxFlagRows and its counts would be low.
 */
export const OPEN_FLAGS_PATH = "/api/v1/fanout/open-flags";

/** An open flag as much as the summary's merge joins and counts (merge-lists.ts, MergeableFlag). */
export type OpenFlagKey = Pick<Flag, "kind" | "host" | "gpuUuid" | "startMs" | "endMs" | "updatedMs">;

/**
 * Where a collector serves every GPU it knows (a tenant's with `tenant=`), for a merged summary:
 * whole, where a GPU list stops at LIMITS.maxGpuRows and its counts would be low.
 */
export const SUMMARY_GPUS_PATH = "/api/v1/fanout/summary-gpus";

/**
 * A GPU as much as the summary's merge keeps (mergeGpuLists: the newest copy) and counts
 * (summarize: state, usage class, utilization now).
 */
export type SummaryGpu = Pick<GpuView, "uuid" | "host" | "index" | "state" | "usage" | "timestampMs"> & {
  values: Pick<GpuView["values"], "utilization_gpu_pct">;
};

/**
 * Where a collector acknowledges its own copy of an episode another collector acknowledged
 * (POST, admin role): the copy is found by kind, host, GPU, time and opening Xid, as the merged
 * flag list joins copies (merge-lists.ts, isCopyOf), never by the other collector's flag id.
 */
export const ACK_COPY_PATH = "/api/v1/fanout/ack";

/** What an acknowledged episode is forwarded as: the episode, and the acknowledgement to repeat. */
export interface AckCopyRequest {
  kind: FlagKind;
  host: string;
  gpuUuid: string | null;
  startMs: number;
  /** The acknowledged flag's end after its acknowledgement (null: it stayed open). */
  endMs: number | null;
  /** The opening Xid's code, fault and action where the episode is an xid (merge-lists.ts). */
  values: FlagValues;
  note: string;
  atMs: number;
  /** Who acknowledged it on the collector asked (its principal), recorded as such on the copy. */
  actor: string;
}

/**
 * The flag an acknowledgement means, as a flag list showed it (POST /api/v1/flags/:id/ack's
 * optional body fields, required with http.peers): the flag with the id must be a copy of it
 * (isCopyOf), else nothing is acknowledged (409 flag_mismatch). With `peer` (the merged list's
 * field: the id is that peer's) the episode is acknowledged wherever it is held, by episode.
 */
export interface ListedEpisode {
  kind: FlagKind;
  host: string;
  gpuUuid: string | null;
  startMs: number;
  /** As listed; absent or null: open. */
  endMs?: number | null;
  /** As listed: an xid's code, fault and action name the Xid that opened it. */
  values?: FlagValues;
  peer?: string;
}

/** A peer's answer: its copy as the acknowledgement left it, or null when it holds none. */
export interface AckCopyAnswer {
  copy: Flag | null;
}

/**
 * A GPU as much as the wall's cells draw (fleet-cells.ts, CellSource) and their merge keeps
 * (mergeGpuLists): SUMMARY_GPUS_PATH with `cells=true`.
 */
export type CellGpu = Omit<SummaryGpu, "values"> &
  Pick<GpuView, "model" | "site" | "labels"> & {
    values: Pick<GpuView["values"], "utilization_gpu_pct" | "temperature_gpu_celsius">;
    /** Its open flags' kinds, host-level ones included (as a GPU view's). */
    flags: Pick<GpuFlagRef, "kind">[];
  };

/** Where a collector serves its share of a usage report to its peers (docs/scaling.md, "Query fan-out"). */
export const REPORT_PART_PATH = "/api/v1/fanout/report-part";

/** One GPU's share of a usage report on one collector: integer sums that add up exactly. */
export interface GpuPart extends UsageSums {
  uuid: string;
  host: string;
  site: string;
  model: string;
  labels: Record<string, string>;
  /** When this collector first saw the GPU: no-data time counts from the earliest sighting. */
  firstSeenMs?: number;
}

/** One collector's share of a utilization/energy report over [fromMs, toMs) (whole rollup steps). */
export interface ReportPart {
  fromMs: number;
  toMs: number;
  /** The collector's clock when it answered: time after it is nobody's (no-data stops there). */
  nowMs?: number;
  gpus: GpuPart[];
}

/** Where a collector serves its share of the process report (docs/processes.md, "Several collectors"). */
export const PROCESS_PART_PATH = "/api/v1/fanout/process-part";

/** A process session (or a tenant's piece of one) as the process report reads it, with its identity. */
export interface PartSession extends ReportSession {
  stayStartMs?: number;
}

/**
 * One collector's share of the process report over [fromMs, toMs): its sessions seen in the range
 * (a tenant's pieces, for `tenant=`) and its idle-held episodes, merged per session and per
 * episode by the asking collector (collector/merge/list-answers.ts), never added as counts.
 */
export interface ProcessPart {
  fromMs: number;
  toMs: number;
  sessions: PartSession[];
  idle: Pick<Flag, "kind" | "host" | "gpuUuid" | "startMs" | "endMs" | "updatedMs">[];
  /** True: the range held more sessions than a part reads (REPORT_SESSIONS); those seen last are in it. */
  truncated?: boolean;
}

/** Where a collector serves its share of a thermal, capacity or downtime report (docs/scaling.md). */
export const FLEET_PART_PATH = "/api/v1/fanout/fleet-part";

/** The reports built from fleet parts. */
export const FLEET_PART_KINDS = ["thermal", "capacity", "downtime"] as const;
export type FleetPartKind = (typeof FLEET_PART_KINDS)[number];

/**
 * One GPU on one host for a stretch of the range [fromMs, toMs), as one collector's store knows
 * it: integer sums that add up exactly across collectors.
 */
export interface StretchPart extends UsageSums {
  uuid: string;
  /** Its slot on its current host; absent when unknown. */
  index?: number;
  host: string;
  site: string;
  model: string;
  labels: Record<string, string>;
  fromMs: number;
  toMs: number;
  /** Time of the stretch the GPU was part of the fleet by this collector (since first seen, up to now). */
  periodMs: number;
}

/** One collector's share of a thermal, capacity or downtime report over [fromMs, toMs) (whole minutes). */
export interface FleetPart {
  kind: FleetPartKind;
  fromMs: number;
  toMs: number;
  /** The collector's clock when it answered. */
  nowMs: number;
  stretches: StretchPart[];
  /** The flag episodes overlapping the range that the report reads (none for capacity). */
  flags: Flag[];
}

/** Where a collector serves its share of the fleet health report (docs/scaling.md, "Query fan-out"). */
export const HEALTH_PART_PATH = "/api/v1/fanout/health-part";

/**
 * One collector's Xid events of one health report group (host, GPU, code, action, fault), with
 * the key each store keeps an event unique by (kernel boot, sequence), so that the merge counts
 * an event several collectors hold once. `keys` is null in a part cut at its bound (healthPart):
 * the group then has its count only.
 */
export interface HealthPartGroup extends EventGroup {
  keys: { boot: string; seqs: number[] }[] | null;
}

/** A lease as the health report's downtime by tenant reads it. */
export interface HealthPartLease {
  id: string;
  gpu: string;
  tenant: string;
  startMs: number;
  endMs: number | null;
}

/**
 * One collector's share of the fleet health report over [fromMs, toMs): its Xid events by group
 * with their keys, the lost, reset-required and error episodes overlapping the range, the models
 * of the GPUs these name, and its leases overlapping the range. The asking collector merges them
 * (collector/merge/merge-health-report.ts) and builds the report with the one builder.
 */
export interface HealthPart {
  fromMs: number;
  toMs: number;
  /** The collector's clock when it answered. */
  nowMs: number;
  groups: HealthPartGroup[];
  flags: Flag[];
  models: Record<string, string>;
  leases: HealthPartLease[];
  /** Set when the range held more leases than a part carries: the oldest ones are in it. */
  leasesCut?: true;
}

/**
 * Where a collector serves its lease line parts: GET for its own leases (`tenant=` narrows),
 * POST `{from, to, leases}` for leases it may not hold (the terms come from another collector).
 */
export const LEASE_PARTS_PATH = "/api/v1/fanout/lease-parts";

/**
 * Where a collector serves the terms of every lease it holds overlapping `from`..`to` (a tenant's
 * with `tenant=`), whole, for a merged tenants view: a lease list (/api/v1/leases) stops at 10,000.
 */
export const LEASE_TERMS_PATH = "/api/v1/fanout/leases";

/** How many peers a merged answer asked, and which are missing from it. */
export interface PeersInfo {
  asked: number;
  /** Peers whose answer is not in the merge (down, refused, timed out). */
  missing: string[];
  errors: { peer: string; error: string }[];
}

/** One agent source's health as its latest status reported it (the store's agent_sources rows). */
export interface AgentSourceView {
  host: string;
  source: string;
  restarts: number;
  timeouts: number;
  exits: number;
  stuckChildren: number;
  startFailures: number;
  lastError: string;
  lastErrorMs: number;
  stuck: boolean;
  reportedMs: number;
}
