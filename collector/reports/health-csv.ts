// The fleet health report, a GPU's health timeline and the kernel-log events as CSV (`gputel query
// report health`, `query health GPU` and `query events` with --format csv), written with the one CSV writer (shared/csv.ts): one row
// per record, one column set per answer, units in the column names (_gpu_h, _ms), times RFC 3339.
import { type Column, csvOf, csvTime, type Value } from "../../shared/csv.js";
import type { EventView, HealthReport, HealthTimeline } from "./health-types.js";

const fault = (applicationLevel: boolean) => (applicationLevel ? "workload" : "hardware");

/**
 * A row of the health report: `section` says which of its tables the row is from (xid_code,
 * model, host, tenant, unleased, rma_candidate, total); the columns it does not fill stay empty.
 */
export type HealthReportRow = {
  section: "xid_code" | "model" | "host" | "tenant" | "unleased" | "rma_candidate" | "total";
} & Partial<{
  code: number;
  mnemonic: string | null;
  action: string;
  fault: string;
  model: string;
  host: string;
  tenant: string;
  uuid: string;
  xids: number;
  hardware_xids: number;
  hardware_down_gpu_h: number;
  gpus: number;
  leases: string;
  last_hardware_xid: string | null;
  reasons: string;
}>;

const HEALTH_REPORT_COLUMNS = [
  "section",
  "code",
  "mnemonic",
  "action",
  "fault",
  "model",
  "host",
  "tenant",
  "uuid",
  "xids",
  "hardware_xids",
  "hardware_down_gpu_h",
  "gpus",
  "leases",
  "last_hardware_xid",
  "reasons",
] as const satisfies readonly (keyof HealthReportRow)[];

/**
 * The report's rows: Xids by code, by model, by host (with the host's hardware downtime), the
 * downtime by tenant and under no lease, the RMA candidates, and the total.
 */
export function healthReportRows(r: HealthReport): HealthReportRow[] {
  const hosts = new Map<string, HealthReportRow>();
  for (const h of r.xid.byHost)
    hosts.set(h.host, { section: "host", host: h.host, xids: h.count, hardware_xids: h.hardware });
  for (const h of r.hardwareDowntime.byHost) {
    const row = hosts.get(h.host) ?? { section: "host", host: h.host, xids: 0, hardware_xids: 0 };
    hosts.set(h.host, { ...row, hardware_down_gpu_h: h.gpuHours });
  }
  return [
    ...r.xid.byCode.map(
      (c): HealthReportRow => ({
        section: "xid_code",
        code: c.code,
        mnemonic: c.mnemonic,
        action: c.action,
        fault: fault(c.applicationLevel),
        xids: c.count,
      }),
    ),
    ...r.xid.byModel.map(
      (m): HealthReportRow => ({
        section: "model",
        model: m.model,
        xids: m.count,
        hardware_xids: m.hardware,
      }),
    ),
    ...[...hosts.values()].sort((a, b) => (a.host ?? "").localeCompare(b.host ?? "")),
    ...r.tenantDowntime.byTenant.map(
      (t): HealthReportRow => ({
        section: "tenant",
        tenant: t.tenant,
        hardware_down_gpu_h: t.hours,
        gpus: t.gpus,
        leases: t.leases.join(" "),
      }),
    ),
    { section: "unleased", hardware_down_gpu_h: r.tenantDowntime.unleasedGpuHours },
    ...r.rmaCandidates.map(
      (c): HealthReportRow => ({
        section: "rma_candidate",
        uuid: c.uuid,
        host: c.host,
        model: c.model,
        hardware_xids: c.hardwareXids,
        last_hardware_xid: csvTime(c.lastMs),
        reasons: c.reasons.join("; "),
      }),
    ),
    {
      section: "total",
      xids: r.xid.total,
      hardware_down_gpu_h: r.hardwareDowntime.gpuHours,
      gpus: r.hardwareDowntime.gpus,
    },
  ];
}

export function healthReportCsv(r: HealthReport): string {
  return csvOf(
    HEALTH_REPORT_COLUMNS.map((name): Column<HealthReportRow> => ({ name, value: (row) => row[name] })),
    healthReportRows(r),
  );
}

/** A row of a GPU's timeline: an event (xid, sxid), a flag episode, an acknowledgement or a down stretch. */
interface TimelineRow {
  time: number;
  entry: "xid" | "sxid" | "flag" | "acknowledgement" | "downtime";
  host: string;
  code?: number;
  mnemonic?: string | null;
  action?: string;
  fault?: string;
  pid?: number | null;
  process?: string | null;
  flag_id?: number;
  /** The flag's kind; a down stretch's kinds, space-separated. */
  flag_kind?: string;
  severity?: string;
  end?: number | null;
  for_ms?: number;
  /** The kernel's line, the flag's reason or the acknowledgement's note. */
  text?: string;
}

const TIMELINE_COLUMNS: Column<TimelineRow & { uuid: string }>[] = [
  { name: "time", value: (r) => csvTime(r.time) },
  { name: "entry", value: (r) => r.entry },
  { name: "host", value: (r) => r.host },
  { name: "uuid", value: (r) => r.uuid },
  ...(
    ["code", "mnemonic", "action", "fault", "pid", "process", "flag_id", "flag_kind", "severity"] as const
  ).map((name) => ({ name, value: (r: TimelineRow) => r[name] as Value })),
  { name: "end", value: (r) => csvTime(r.end) },
  { name: "for_ms", value: (r) => r.for_ms },
  { name: "text", value: (r) => r.text },
];

/** The timeline's entries oldest first, as its table lists them; open flags last until generatedMs. */
export function healthTimelineCsv(t: HealthTimeline): string {
  const rows: TimelineRow[] = [
    ...t.events.map(
      (e): TimelineRow => ({
        time: e.timeMs,
        entry: e.kind,
        host: e.host,
        code: e.code,
        mnemonic: e.mnemonic,
        action: e.action,
        fault: fault(e.applicationLevel),
        pid: e.pid,
        process: e.processName,
        text: e.message,
      }),
    ),
    ...t.flags.map(
      (f): TimelineRow => ({
        time: f.startMs,
        entry: "flag",
        host: f.host,
        flag_id: f.id,
        flag_kind: f.kind,
        severity: f.severity,
        end: f.endMs,
        for_ms: (f.endMs ?? t.generatedMs) - f.startMs,
        text: f.reason,
      }),
    ),
    ...t.acknowledgements.map(
      (a): TimelineRow => ({
        time: a.atMs,
        entry: "acknowledgement",
        host: a.host,
        flag_id: a.flagId,
        flag_kind: a.kind,
        text: a.note,
      }),
    ),
    ...t.downtime.map(
      (d): TimelineRow => ({
        time: d.fromMs,
        entry: "downtime",
        host: t.host,
        flag_kind: d.kinds.join(" "),
        end: d.toMs,
        for_ms: d.toMs - d.fromMs,
      }),
    ),
  ];
  const ordered = rows.sort((a, b) => a.time - b.time).map((r) => ({ ...r, uuid: t.uuid }));
  return csvOf(TIMELINE_COLUMNS, ordered);
}

/**
 * Kernel-log events, one row per event in the list's order (newest first): the time as RFC 3339
 * and as epoch ms, as the export writes it. No row id: it is each collector's own, and a merged
 * list holds events of several; an event is the same everywhere by host, kernel_boot_id and
 * kernel_seq.
 */
const EVENT_COLUMNS: Column<EventView>[] = [
  { name: "time", value: (e) => csvTime(e.timeMs) },
  { name: "timestamp_ms", value: (e) => e.timeMs },
  { name: "kind", value: (e) => e.kind },
  { name: "host", value: (e) => e.host },
  { name: "index", value: (e) => e.gpuIndex },
  { name: "uuid", value: (e) => e.gpuUuid },
  { name: "pci_bus_id", value: (e) => e.pciBusId },
  { name: "code", value: (e) => e.code },
  { name: "mnemonic", value: (e) => e.mnemonic },
  { name: "description", value: (e) => e.description },
  { name: "action", value: (e) => e.action },
  { name: "fault", value: (e) => fault(e.applicationLevel) },
  { name: "pid", value: (e) => e.pid },
  { name: "process", value: (e) => e.processName },
  { name: "source", value: (e) => e.source },
  { name: "kernel_boot_id", value: (e) => e.kernelBootId },
  { name: "kernel_seq", value: (e) => e.kernelSeq },
  { name: "text", value: (e) => e.message },
];

export function eventsCsv(events: readonly EventView[]): string {
  return csvOf(EVENT_COLUMNS, events);
}
