// The summary and one GPU as CSV: what `/api/v1/summary` and `/api/v1/gpus/:id` answer with
// format=csv (or Accept: text/csv) and `gputel query summary|gpu ID --format csv` prints, one
// function for both, written from the JSON answer with the one CSV writer (shared/csv.ts) as the
// lists and reports are, never as field,value lines of the JSON.
// - The summary: one row per figure, its breakdown in `key` (a GPU state, a host status, a flag
//   kind; empty for the whole), its `unit`, and the span it covers (`from`, `to`; a figure of now
//   spans the instant the summary was made). Shares are percentages, as the lease CSVs write them.
// - One GPU: a `gpu` row with its latest sample, every metric of the catalogue in its own column
//   named with its unit (empty where not reported), its inventory's limits; a `mig` row per MIG
//   device; a `flag` row per open flag. `entry` says which; a row leaves the others' columns empty.
import { type Column, csvOf, csvPct, csvTime, type Value } from "../../shared/csv.js";
import { gpuName } from "../../shared/gpu-id.js";
import { METRICS } from "../../shared/metrics.js";
import type { GpuView, Summary } from "../contract/api-contract.js";

interface Figure {
  figure: string;
  key?: string;
  value: Value;
  unit: string;
  fromMs: number;
  toMs: number;
}

const SUMMARY_COLUMNS: Column<Figure>[] = [
  { name: "figure", value: (f) => f.figure },
  { name: "key", value: (f) => f.key },
  { name: "value", value: (f) => f.value },
  { name: "unit", value: (f) => f.unit },
  { name: "from", value: (f) => csvTime(f.fromMs) },
  { name: "to", value: (f) => csvTime(f.toMs) },
];

export function summaryCsv(s: Summary): string {
  const at = { fromMs: s.generatedMs, toMs: s.generatedMs };
  const r = s.utilization.range;
  const span = { fromMs: r.fromMs, toMs: r.toMs };
  const counted = (figure: string, total: number, by: Record<string, number | undefined>, unit: string) => [
    { figure, value: total, unit, ...at },
    ...Object.entries(by).map(([key, n]) => ({ figure, key, value: n ?? 0, unit, ...at })),
  ];
  const figures: Figure[] = [
    ...counted("gpus", s.gpus.total, s.gpus.byState, "gpus"),
    ...counted("hosts", s.hosts.total, s.hosts.byStatus, "hosts"),
    ...counted("open_flags", s.flags.open, s.flags.byKind, "flags"),
    { figure: "gpus_flagged", value: s.flags.gpusFlagged, unit: "gpus", ...at },
    { figure: "busy_now", value: s.utilization.now.busy, unit: "gpus", ...at },
    { figure: "known_now", value: s.utilization.now.known, unit: "gpus", ...at },
    { figure: "utilization_now", value: csvPct(s.utilization.now.rate), unit: "pct", ...at },
    { figure: "mean_utilization_now", value: s.utilization.meanNowPct, unit: "pct", ...at },
    { figure: "busy", value: r.busyHours, unit: "gpu_h", ...span },
    { figure: "idle", value: r.idleHours, unit: "gpu_h", ...span },
    { figure: "idle_held", value: r.idleHeldHours, unit: "gpu_h", ...span },
    { figure: "unknown", value: r.unknownHours, unit: "gpu_h", ...span },
    { figure: "utilization", value: csvPct(r.utilizationRate), unit: "pct", ...span },
    { figure: "mean_utilization", value: r.meanUtilizationPct, unit: "pct", ...span },
    { figure: "energy", value: r.energyKwh, unit: "kwh", ...span },
    { figure: "energy_idle", value: r.energyIdleKwh, unit: "kwh", ...span },
  ];
  return csvOf(SUMMARY_COLUMNS, figures);
}

type GpuRow = Record<string, Value>;

/** The inventory's model limits, named with their units. */
const LIMITS = [
  ["slowdown_temperature_celsius", "slowdownTemperatureC"],
  ["shutdown_temperature_celsius", "shutdownTemperatureC"],
  ["memory_max_temperature_celsius", "memoryMaxTemperatureC"],
  ["power_default_limit_watts", "powerDefaultLimitW"],
  ["power_max_limit_watts", "powerMaxLimitW"],
] as const;

const GPU_CSV_COLUMNS = [
  ...["entry", "gpu", "host", "index", "uuid", "model", "site", "state", "time", "timestamp_ms"],
  ...["serial", "vbios_version", "driver_version", "pci_bus_id", ...LIMITS.map(([name]) => name)],
  ...METRICS.map((m) => m.key),
  ...["mig_uuid", "profile", "flag_id", "flag_kind", "severity", "reason"],
];

/** `time`: the sample's time on the gpu row, when a flag opened on a flag row. */
export function gpuCsv(g: GpuView): string {
  const who = { gpu: gpuName(g.host, g.index), host: g.host, index: g.index, uuid: g.uuid };
  const inv = g.inventory;
  const gpu: GpuRow = {
    entry: "gpu",
    ...who,
    model: g.model,
    site: g.site,
    state: g.state,
    time: csvTime(g.timestampMs),
    timestamp_ms: g.timestampMs,
    ...(inv && {
      serial: inv.serial,
      vbios_version: inv.vbiosVersion,
      driver_version: inv.driverVersion,
      pci_bus_id: inv.pciBusId,
      ...Object.fromEntries(LIMITS.map(([name, field]) => [name, inv[field]])),
    }),
    ...g.values,
  };
  const mig = (g.migDevices ?? []).map(
    (m): GpuRow => ({
      entry: "mig",
      ...who,
      mig_uuid: m.uuid,
      profile: m.profile,
      memory_used_mib: m.memoryUsedMib,
      memory_total_mib: m.memoryTotalMib,
    }),
  );
  const flags = g.flags.map(
    (f): GpuRow => ({
      entry: "flag",
      ...who,
      time: csvTime(f.startMs),
      timestamp_ms: f.startMs,
      flag_id: f.id,
      flag_kind: f.kind,
      severity: f.severity,
      reason: f.reason,
    }),
  );
  return csvOf(
    GPU_CSV_COLUMNS.map((name): Column<GpuRow> => ({ name, value: (row) => row[name] })),
    [gpu, ...mig, ...flags],
  );
}
