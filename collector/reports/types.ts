// What the fleet reports take and return (served as JSON by /api/v1/reports/:kind).
import type { AggregateFilters, GroupBy } from "../usage/placement.js";

export type { GroupBy };

export type ReportFilters = AggregateFilters;

export interface ReportRequest {
  fromMs: number;
  toMs: number;
  groupBy: GroupBy;
  filters?: ReportFilters;
  /** Only these GPUs over these stretches inside the range (a tenant's lease periods); whole minutes. */
  pieces?: readonly { uuid: string; fromMs: number; toMs: number }[];
}

/** A GPU on one host for a stretch of the range, with what it did there. */
export interface GpuUsage {
  gpuId: number;
  uuid: string;
  /** Its slot on its current host (host:index); absent in merged report parts. */
  index?: number;
  model: string;
  host: string;
  site: string;
  labels: Readonly<Record<string, string>>;
  /** Time in the range the GPU was part of the fleet (since first seen, up to now), ms. */
  periodMs: number;
  busyMs: number;
  idleMs: number;
  idleHeldMs: number;
  /** Samples received that could not be classified (GPU lost, timed out, utilization absent). */
  unknownReportedMs: number;
  /** Part of periodMs no sample covers: nothing received (agent down, GPU missing). */
  noDataMs: number;
  energyWh: number;
  energyIdleWh: number;
  /** Highest GPU temperature in the range, °C; null when never reported. */
  maxTemperatureC: number | null;
  /** Sum and count of utilization readings (mean utilization = sum / count); absent where unknown. */
  utilSum?: number;
  utilCount?: number;
}

/** Common header of every report. */
export interface ReportHeader {
  kind: "utilization" | "energy" | "thermal" | "capacity" | "downtime";
  /** The range as computed: edges widened to whole minutes (the finest rollup step). */
  fromMs: number;
  toMs: number;
  /** Data after this instant cannot exist yet: time past it is not counted as unknown. */
  nowMs: number;
  /** "site" | "host" | "model" | "gpu" | "label:<name>". */
  groupBy: string;
}

export interface UtilizationRow {
  key: string;
  /** GPUs that were part of the fleet during the range (a GPU that moved counts in each group). */
  gpus: number;
  busyGpuHours: number;
  idleGpuHours: number;
  idleHeldGpuHours: number;
  /** unknownReportedGpuHours + noDataGpuHours: never counted as busy or idle. */
  unknownGpuHours: number;
  unknownReportedGpuHours: number;
  noDataGpuHours: number;
  /** The headline: busy / (busy + idle + idle-held); null when nothing was known. */
  utilizationRate: number | null;
  /** busy / all GPU-time in the range, unknown included (a lower bound of the true rate). */
  utilizationRateIncludingUnknown: number | null;
}

export interface UtilizationReport extends ReportHeader {
  kind: "utilization";
  groups: UtilizationRow[];
  total: UtilizationRow;
  /**
   * Mean utilization reading (0–100) per group key and in total: the average load, beside the
   * rows' busy share (utilizationRate). Null where no reading was stored.
   */
  meanUtilizationPct?: { total: number | null; groups: Record<string, number | null> };
}

export interface EnergyRow {
  key: string;
  gpus: number;
  energyKwh: number;
  /** Spent while idle or idle-held. */
  idleEnergyKwh: number;
  /** idleEnergyKwh / energyKwh; null when no energy was measured. */
  wastedShare: number | null;
}

export interface EnergyReport extends ReportHeader {
  kind: "energy";
  groups: EnergyRow[];
  total: EnergyRow;
}
