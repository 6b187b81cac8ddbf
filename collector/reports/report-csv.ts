// A report as CSV, the one way the API (?format=csv) and `gputel query report --format csv`
// write it: a "group" column, then every scalar column of the rows in first-seen order, one line
// per group and a last TOTAL line. Columns are named as every gputel CSV names them (lease,
// health, process, CLI lists): snake_case with the unit in the name (`busy_gpu_h`, `energy_kwh`,
// `installed_ms`), shares as percentages (`utilization_pct` = the JSON's 0–1 `utilizationRate`
// × 100); CSV_NAMES maps the JSON's field names. The utilization report adds
// mean_utilization_pct (the average load) beside utilization_pct (the busy share). The downtime
// report answers "which GPUs were down, for how long, why": one line per down interval of each
// GPU. The sales report (sales-report.ts) is written the same way. The process report is one
// line per holder; the process list (sessions, `/api/v1/processes`, `gputel query processes`)
// one line per session.
import { type Column, csvOf, csvPct, csvTime, type Value } from "../../shared/csv.js";
import type { ProcessRow } from "../store/process-store.js";
import type { DowntimeReport } from "./downtime-report.js";
import type { ProcessReport, ProcessReportRow } from "./process-report.js";
import type { FleetReport } from "./reports.js";
import type { SalesReport } from "./sales-report.js";

/** What is written as CSV: a fleet report or the sales report. */
export type CsvReport = FleetReport | SalesReport;

export type ReportRow = Record<string, unknown> & { key: string };

const scalar = (v: unknown): Value => (typeof v === "number" || typeof v === "string" ? v : null);

/**
 * The report's group rows and its total row as flat records. The utilization report's mean
 * utilization (kept beside the rows in its JSON) joins each row right after utilizationRate.
 */
export function reportRows(r: CsvReport): { groups: ReportRow[]; total: ReportRow } {
  const groups = r.groups as unknown as ReportRow[];
  const total = r.total as unknown as ReportRow;
  if (r.kind !== "utilization" || !r.meanUtilizationPct) return { groups, total };
  const mean = r.meanUtilizationPct;
  const withMean = (row: ReportRow, value: number | null): ReportRow => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      out[k] = v;
      if (k === "utilizationRate") out.meanUtilizationPct = value;
    }
    if (!("meanUtilizationPct" in out)) out.meanUtilizationPct = value;
    return out as ReportRow;
  };
  return {
    groups: groups.map((g) => withMean(g, mean.groups[g.key] ?? null)),
    total: withMean(total, mean.total),
  };
}

/**
 * The CSV name of each field of the fleet and sales reports' rows; `pct`: a 0–1 share written as
 * a percentage. A field missing here (a newer collector's, in a merged report) is written in
 * snake_case (csvName), never under its JSON name.
 */
const CSV_NAMES: Readonly<Record<string, { name: string; pct?: true }>> = {
  gpus: { name: "gpus" },
  busyGpuHours: { name: "busy_gpu_h" },
  idleGpuHours: { name: "idle_gpu_h" },
  idleHeldGpuHours: { name: "idle_held_gpu_h" },
  unknownGpuHours: { name: "unknown_gpu_h" },
  unknownReportedGpuHours: { name: "unknown_reported_gpu_h" },
  noDataGpuHours: { name: "no_data_gpu_h" },
  utilizationRate: { name: "utilization_pct", pct: true },
  meanUtilizationPct: { name: "mean_utilization_pct" },
  utilizationRateIncludingUnknown: { name: "utilization_including_unknown_pct", pct: true },
  energyKwh: { name: "energy_kwh" },
  idleEnergyKwh: { name: "idle_energy_kwh" },
  wastedShare: { name: "wasted_pct", pct: true },
  overheatGpuHours: { name: "overheat_gpu_h" },
  overheatEpisodes: { name: "overheat_episodes" },
  throttledGpuHours: { name: "throttled_gpu_h" },
  throttledEpisodes: { name: "throttled_episodes" },
  throttleGpuMinutesLost: { name: "throttle_lost_gpu_min" },
  installedPflops: { name: "installed_pflops" },
  usedPflops: { name: "used_pflops" },
  installedMs: { name: "installed_ms" },
  leasedMs: { name: "leased_ms" },
  busyMs: { name: "busy_ms" },
  installedGpuHours: { name: "installed_gpu_h" },
  leasedGpuHours: { name: "leased_gpu_h" },
  soldRate: { name: "sold_pct", pct: true },
  usedRate: { name: "used_pct", pct: true },
  gpusNow: { name: "gpus_now" },
  leasedNow: { name: "leased_now" },
  forSaleNow: { name: "for_sale_now" },
  forSalePflops: { name: "for_sale_pflops" },
};

/** A field without a CSV name of its own, in snake_case: "someNewField" → "some_new_field". */
const csvName = (field: string) => field.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

/** A report's CSV column; `alias` is the JSON field it writes, still taken by `--sort` (scripts). */
export type ReportColumn = Column<ReportRow> & { alias?: string };

/** The group, then every scalar column of these rows in first-seen order, named as CSV_NAMES says. */
export function reportColumns(rows: readonly ReportRow[]): ReportColumn[] {
  const fields = new Set<string>();
  for (const row of rows)
    for (const [k, v] of Object.entries(row))
      if (k !== "key" && (v === null || typeof v !== "object")) fields.add(k);
  return [
    { name: "group", value: (row) => row.key },
    ...[...fields].map((field): ReportColumn => {
      const csv = CSV_NAMES[field] ?? { name: csvName(field) };
      const value = csv.pct
        ? (row: ReportRow) => {
            const v = row[field];
            return typeof v === "number" ? csvPct(v) : scalar(v);
          }
        : (row: ReportRow) => scalar(row[field]);
      return { name: csv.name, ...(csv.name !== field && { alias: field }), value };
    }),
  ];
}

/**
 * Groups (`order` reorders them, `nameOf` renames keys, e.g. UUID → host:index) and TOTAL; the
 * downtime report's down intervals.
 */
export function reportCsv(
  r: CsvReport,
  options: { nameOf?: (key: string) => string; order?: (rows: ReportRow[]) => ReportRow[] } = {},
): string {
  if (r.kind === "downtime") return downtimeCsv(r);
  const { groups, total } = reportRows(r);
  const named = groups.map((row) => ({ ...row, key: options.nameOf?.(row.key) ?? row.key }));
  const all = [...(options.order?.(named) ?? named), { ...total, key: "TOTAL" }];
  return csvOf(reportColumns(all), all);
}

/**
 * Every attachment's name: gputel-KIND-FROM-TO.EXT (csv unless told, as the export's om.txt or
 * jsonl), times as 20261101T0000Z. KIND may name what the file is of (leases-by-tenant,
 * statement-acme, gpu-UUID, export-raw): a character a file name or the header's quoting would
 * trip on (/, :, ", space) becomes _.
 */
export function reportFileName(r: { kind: string; fromMs: number; toMs: number }, ext = "csv"): string {
  const stamp = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, "")}Z`;
  return `gputel-${r.kind.replace(/[^\w.-]/g, "_")}-${stamp(r.fromMs)}-${stamp(r.toMs)}.${ext}`;
}

const DOWN_COLUMNS = [
  "gpu",
  "host",
  "index",
  "uuid",
  "model",
  "site",
  "group",
  "from",
  "to",
  "for_ms",
  "kinds",
  "reasons",
] as const;

interface DownLine {
  gpu: DowntimeReport["down"][number];
  interval: DowntimeReport["down"][number]["intervals"][number];
}

function downtimeCsv(r: DowntimeReport): string {
  const lines: DownLine[] = r.down.flatMap((gpu) => gpu.intervals.map((interval) => ({ gpu, interval })));
  const value = (name: (typeof DOWN_COLUMNS)[number], { gpu, interval }: DownLine): Value => {
    switch (name) {
      case "group":
        return gpu.key;
      case "from":
        return csvTime(interval.fromMs);
      case "to":
        return csvTime(interval.toMs);
      case "for_ms":
        return interval.toMs - interval.fromMs;
      case "kinds":
        return interval.kinds.join(" ");
      case "reasons":
        return interval.reasons.join("; ");
      default:
        return gpu[name];
    }
  };
  return csvOf(
    DOWN_COLUMNS.map((name) => ({ name, value: (l: DownLine) => value(name, l) })),
    lines,
  );
}

/**
 * The process report: one line per holder, named by the grouping (user, job, pod or container;
 * empty for sessions without one), GPU-hours held and idle-held, as its table.
 */
export function processReportCsv(r: ProcessReport): string {
  const columns: Column<ProcessReportRow>[] = [
    { name: r.by, value: (row) => row.key },
    { name: "sessions", value: (row) => row.sessions },
    { name: "gpus", value: (row) => row.gpus },
    { name: "gpu_h", value: (row) => row.gpuHours },
    { name: "idle_held_gpu_h", value: (row) => row.idleHeldHours },
  ];
  return csvOf(columns, r.rows);
}

/**
 * Process sessions, one line per session (or a tenant's piece of one) in the list's order. A
 * session is the same on every collector by host, GPU (MIG) device, pid and start: no collector's
 * row id, which names nothing in a list merged from several. Times in RFC 3339 and epoch ms;
 * `start` empty where the agent could not read it; `absent` says why a blank column is blank.
 */
const SESSION_COLUMNS: Column<ProcessRow>[] = [
  { name: "host", value: (p) => p.host },
  { name: "uuid", value: (p) => p.gpuUuid },
  { name: "mig_uuid", value: (p) => p.migUuid },
  { name: "pid", value: (p) => p.pid },
  { name: "start", value: (p) => csvTime(p.startMs) },
  { name: "start_ms", value: (p) => p.startMs },
  { name: "process", value: (p) => p.name },
  { name: "uid", value: (p) => p.uid },
  { name: "user", value: (p) => p.user },
  { name: "workload_kind", value: (p) => p.workloadKind },
  { name: "job_id", value: (p) => p.jobId },
  { name: "pod_uid", value: (p) => p.podUid },
  { name: "container_id", value: (p) => p.containerId },
  { name: "unit", value: (p) => p.unit },
  { name: "first_seen", value: (p) => csvTime(p.firstSeenMs) },
  { name: "first_seen_ms", value: (p) => p.firstSeenMs },
  { name: "last_seen", value: (p) => csvTime(p.lastSeenMs) },
  { name: "last_seen_ms", value: (p) => p.lastSeenMs },
  { name: "for_ms", value: (p) => p.lastSeenMs - (p.startMs ?? p.firstSeenMs) },
  { name: "memory_used_mib", value: (p) => p.memoryMib },
  { name: "peak_memory_used_mib", value: (p) => p.peakMemoryMib },
  { name: "sm_pct", value: (p) => p.smPct },
  // A collector from before memory % answers none: blank, as pmon giving none.
  { name: "mem_bw_pct", value: (p) => p.memPct ?? null },
  { name: "state", value: (p) => (p.open ? "running" : "ended") },
  {
    name: "absent",
    value: (p) => (p.absent ?? []).map((a) => `${a.field}: ${a.why} (${a.reason})`).join("; "),
  },
];

export function processesCsv(processes: readonly ProcessRow[]): string {
  return csvOf(SESSION_COLUMNS, processes);
}
