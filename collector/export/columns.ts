// What an export holds and how its series are named (docs/export.md). Raw: one series per metric,
// named and scaled as on /metrics (shared/metrics.ts `prom`: base units, bytes, hertz, ratio).
// A rollup tier: four series per metric, `<name>:<stat>_<tier>` (min, max, avg, last per bucket,
// stamped at the bucket's start), the recording-rule form of a name, so re-importing a rollup
// export next to raw data (or another tier) never lands on the raw series.
import { formatDuration } from "../../shared/duration.js";
import { METRICS } from "../../shared/metrics.js";

export type ExportFormat = "openmetrics" | "vm-jsonl" | "csv";
export const EXPORT_FORMATS: readonly ExportFormat[] = ["openmetrics", "vm-jsonl", "csv"];

export const ROLLUP_STATS = ["min", "max", "avg", "last"] as const;
export type RollupStat = (typeof ROLLUP_STATS)[number];

/** "raw", or a rollup tier by its step. */
export interface ExportTier {
  name: string;
  /** 0 for raw. */
  stepMs: number;
}

export const RAW_TIER: ExportTier = { name: "raw", stepMs: 0 };

export function rollupTier(stepMs: number): ExportTier {
  return { name: formatDuration(stepMs), stepMs };
}

export interface ExportColumn {
  /** Series (metric) name. */
  name: string;
  help: string;
  /** Index into METRICS. */
  metric: number;
  /** The bucket statistic (rollup tiers). */
  stat?: RollupStat;
}

/** The series of a tier, in export order: METRICS order, then min, max, avg, last. */
export function exportColumns(tier: ExportTier): ExportColumn[] {
  if (tier.stepMs === 0)
    return METRICS.map((m, metric) => ({ name: m.prom.name, help: m.prom.help, metric }));
  return METRICS.flatMap((m, metric) =>
    ROLLUP_STATS.map((stat) => ({
      name: `${m.prom.name}:${stat}_${tier.name}`,
      help: `${statText(stat)} per ${tier.name} bucket (stamped at its start) of ${m.prom.name}: ${m.prom.help}`,
      metric,
      stat,
    })),
  );
}

function statText(stat: RollupStat): string {
  return { min: "Lowest value", max: "Highest value", avg: "Mean of the samples", last: "Last sample" }[stat];
}

/** A number as exported: 15 significant digits, so scaling by 0.01 leaves no float noise (612.34, not 612.3400000000001). */
export function formatNumber(v: number): string {
  // Most values (bytes, hertz, degrees, counts) are whole: the fast path skips toPrecision.
  if (Number.isSafeInteger(v)) return String(v);
  return String(Number(v.toPrecision(15)));
}
