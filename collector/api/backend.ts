// What the HTTP API, /metrics and the dashboard read, as one small interface: the HTTP layer
// depends on this only, so it is tested over the real store (store-backend.ts) and a fan-out
// backend can stand in for it. The shapes it answers with are the API's contract
// (collector/contract/api-contract.ts).

import type {
  CellGpu,
  FlagPage,
  FlagQuery,
  FleetPart,
  FleetPartKind,
  GpuFilter,
  GpuView,
  HostView,
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
} from "../contract/api-contract.js";
import type { ExportSource } from "../export/store-source.js";
import type { Flag } from "../flags/types.js";
import type { LeaseTerms } from "../leases/model.js";
import type { GpuWhereabouts } from "../reports/host-changes.js";
import type { LeaseParts } from "../reports/lease-reports.js";
import type { SalesGroupBy, SalesReport } from "../reports/sales-report.js";
import type { UsageTotals } from "../usage/usage-sums.js";
import type { FleetCells } from "./fleet-cells.js";
import type { HealthBackend } from "./health-backend.js";
import type { ProcessBackend } from "./process-backend.js";
import type { LeasePiece } from "./tenant-scope.js";

export interface QueryBackend {
  // Heavy reads answer asynchronously: they may run on the read worker (docs/design.md §5).
  summary(range: TimeRange): Promise<Summary>;
  hosts(): HostView[];
  gpus(filter: GpuFilter): GpuView[];
  /** By UUID or "host:index"; undefined when unknown. */
  gpu(id: string): GpuView | undefined;
  /** A GPU's MIG devices from its latest inventory (none when MIG is off). */
  migDevices?(gpuUuid: string): MigDeviceView[];
  /** Every GPU's MIG devices in the list's compact form, by GPU UUID (GPUs without any absent). */
  migDeviceBriefs?(): Map<string, MigDeviceBrief[]>;
  series(gpu: GpuView, request: SeriesRequest): Promise<SeriesView>;
  flags(query: FlagQuery): Flag[];
  /** A page of flags with true totals; routes fall back to flags() without totals where absent. */
  flagPage?(query: FlagQuery): FlagPage;
  /** The compact per-GPU columns a wall screen polls (fleet-cells.ts); from `gpus` when given (fan-out). */
  fleetCells?(options: { layout: boolean; gpus?: readonly CellGpu[] }): FleetCells;
  /** `pieces`: only these GPUs over these stretches (a tenant's lease periods in the range). */
  report(
    kind: ReportKind,
    range: TimeRange,
    groupBy: ReportGroupBy,
    pieces?: readonly LeasePiece[],
  ): Promise<Report>;
  /** Usage of these GPUs over these stretches, added up (a tenant's summary); absent: none known. */
  pieceUsage?(pieces: readonly LeasePiece[]): UsageTotals;
  metricsSnapshot(): MetricsSnapshot;
  /** This collector's share of a usage report over the range widened to whole rollup steps (fan-out). */
  reportPart?(range: TimeRange): Promise<ReportPart>;
  /** This collector's share of a thermal, capacity or downtime report (fan-out). */
  fleetPart?(kind: FleetPartKind, range: TimeRange): Promise<FleetPart>;
  /**
   * This collector's lease line parts over a range (issue 15): of its own leases, for one tenant
   * when given; or, with `terms`, of those leases only (another collector's, for the fan-out).
   * `episodes`: with each line's flag episodes, for the fan-out merge (reports/lease-reports.ts).
   * Absent: 501.
   */
  leaseParts?(
    range: TimeRange,
    tenant?: string,
    terms?: readonly LeaseTerms[],
    episodes?: boolean,
  ): Promise<LeaseParts>;
  /** Sold rate, used rate and GPUs for sale (sales-report.ts); absent: 501. */
  sales?(range: TimeRange, by: SalesGroupBy): Promise<SalesReport>;
  /** The stored samples, slice by slice, for GET /api/v1/export; absent where there is no store. */
  exportSource?(): ExportSource;
  /** Kernel-log events, health timelines and report, acknowledgements (absent: 501). */
  readonly health?: HealthBackend;
  /** Process sessions and their report (absent: 501). */
  readonly processes?: ProcessBackend;
  /** Where these GPUs were over time, by host name (reports/host-changes.ts); absent: their hosts now. */
  hostsOverTime?(uuids: readonly string[]): GpuWhereabouts;
  /** Wall clock (tests inject one). */
  now(): number;
}
