// `gputel query processes [GPU] | report processes`: the process routes of one collector
// (collector/api/process-routes.ts), as tables for people, the API's JSON, or the CSV the API
// writes too (report-csv.ts). Current holders by default; --since (or --state all) asks the history.
import { PROCESS_LIMITS } from "../../collector/api/process-routes.js";
import { PROCESS_PART_PATH, type ProcessPart } from "../../collector/contract/api-contract.js";
import { isNotHeld } from "../../collector/fanout/fan-out.js";
import {
  mergeProcessAnswers,
  mergeProcessReport,
  mergeSilentHosts,
} from "../../collector/merge/list-answers.js";
import { PROCESS_GROUPS, type ProcessReport } from "../../collector/reports/process-report.js";
import { processesCsv, processReportCsv } from "../../collector/reports/report-csv.js";
import type { ProcessRow } from "../../collector/store/process-store.js";
import { type ClientOptions, getAll, getJson, heldByNone } from "./client.js";
import { gpuRef } from "./merged.js";
import { OptionError } from "./options.js";
import { type Cell, duration, type Style, table } from "./table.js";

export interface ProcessArgs {
  since?: string | undefined;
  until?: string | undefined;
  state?: string | undefined;
  host?: string | undefined;
  gpu?: string | undefined;
  user?: string | undefined;
  job?: string | undefined;
  pod?: string | undefined;
  container?: string | undefined;
  by?: string | undefined;
  limit?: string | undefined;
}

/** cli.ts's print: `cut`, a cut list's note, goes to stderr beside CSV and JSON. */
type Print = (json: unknown, text: () => string, csv: () => string, cut?: string) => void;
/** cli.ts's notice: a list cut at --limit, on stderr in every format, as the GPU list's. */
type Notice = (shown: number, total: number | undefined, truncated: boolean) => void;

interface ProcessesAnswer {
  generatedMs: number;
  current: boolean;
  fromMs?: number;
  toMs?: number;
  processes: ProcessRow[];
  /** Cut at the limit (absent from a collector before 2026-12-08). */
  truncated?: boolean;
  /** Current lists: hosts of the answer's scope without a recent process set. */
  silentHosts?: string[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export async function processCommand(
  command: "processes" | "report-processes",
  gpu: string | undefined,
  v: ProcessArgs,
  client: ClientOptions,
  style: Style,
  print: Print,
  notice: Notice,
): Promise<void> {
  const base = client.urls[0] ?? "http://127.0.0.1:8080";
  const rest = { ...client, urls: client.urls.slice(1) };
  if (command === "report-processes") {
    const q = { from: v.since ?? "7d", to: v.until, by: v.by ?? "user" };
    const r =
      rest.urls.length === 0
        ? await getJson<ProcessReport>(base, "/api/v1/reports/processes", q, client)
        : await mergedProcessReport(base, q, rest, client);
    print(
      r,
      () => renderProcessReport(r, style),
      () => processReportCsv(r),
      r.truncated === true ? REPORT_CUT : undefined,
    );
    return;
  }
  // Several collectors: a host:index asked of each by one UUID (gpuRef), the answer of the one
  // whose view named it placing the GPU.
  const asked = gpu ?? v.gpu;
  const named = asked === undefined ? undefined : await gpuRef(asked, client);
  const history = v.since !== undefined || v.state === "all";
  const q = {
    ...(history ? { from: v.since ?? "24h", to: v.until, current: "false" } : { current: "true" }),
    // --gpu goes with the other parameters: getJson appends its own `?…` to the path.
    gpu: gpu ? undefined : named?.ref,
    host: v.host,
    user: v.user,
    job: v.job,
    pod: v.pod,
    container: v.container,
    limit: v.limit,
  };
  const path = gpu && named ? `/api/v1/gpus/${encodeURIComponent(named.ref)}/processes` : "/api/v1/processes";
  const head = await getJson<ProcessesAnswer>(base, path, q, client);
  // Several collectors (--url a,b): the rest are asked for the range the first resolved, and the
  // answers merged as a collector with http.peers merges them (collector/merge/list-answers.ts).
  const range = head.fromMs !== undefined ? { from: String(head.fromMs), to: String(head.toMs) } : {};
  const all =
    rest.urls.length === 0
      ? [head]
      : [head, ...(await getAll<ProcessesAnswer>(path, { ...q, ...range }, rest))];
  // Asked for its own data, a collector without the GPU says so (NOT_HELD) beside its empty list.
  const shown =
    all.find((a, i) => client.urls[i] === named?.first && !isNotHeld(a)) ?? all.find((a) => !isNotHeld(a));
  if (!shown && asked !== undefined) throw heldByNone(asked, client.urls);
  const first = shown ?? head;
  const answer = all.length === 1 ? first : mergeAnswers(first, all, v.limit);
  print(
    answer,
    () => renderProcesses(answer, style),
    () => processesCsv(answer.processes),
  );
  notice(answer.processes.length, undefined, answer.truncated === true);
}

/** The process lists of several collectors as one, shown as `first` (a collector holding the GPU asked). */
function mergeAnswers(
  first: ProcessesAnswer,
  all: readonly ProcessesAnswer[],
  limit: string | undefined,
): ProcessesAnswer {
  const { truncated, processes } = mergeProcessAnswers(
    all,
    first.current,
    limit !== undefined ? Number(limit) : PROCESS_LIMITS.defaultRows,
  );
  return {
    ...first,
    truncated,
    processes,
    ...(first.current ? { silentHosts: mergeSilentHosts(all, processes) } : {}),
  };
}

/** The process report of several collectors: the first resolves the range; every part merged. */
async function mergedProcessReport(
  base: string,
  q: { from: string; to: string | undefined; by: string },
  rest: ClientOptions,
  client: ClientOptions,
): Promise<ProcessReport> {
  // Checked here, before any request: the parts carry no grouping, so no collector would refuse it.
  const by = PROCESS_GROUPS.find((g) => g === q.by);
  if (by === undefined) throw new OptionError(`--by must be one of ${PROCESS_GROUPS.join(", ")}`);
  const head = await getJson<ProcessPart>(base, PROCESS_PART_PATH, { from: q.from, to: q.to }, client);
  const others = await getAll<ProcessPart>(
    PROCESS_PART_PATH,
    { from: String(head.fromMs), to: String(head.toMs) },
    rest,
  );
  return mergeProcessReport([head, ...others], by);
}

export function renderProcesses(a: ProcessesAnswer, style: Style): string {
  const silent = silentNote(a.silentHosts ?? []);
  if (a.processes.length === 0)
    return a.current
      ? `No compute process running${silent ? " on the hosts that report them" : ""}.\n${silent}`
      : "No process sessions.\n";
  const rows = a.processes.map((p): Cell[] => [
    { text: `${p.host} ${p.migUuid ?? p.gpuUuid}` },
    { text: String(p.pid), right: true },
    { text: p.name },
    { text: p.user ?? "" },
    { text: workload(p) },
    { text: p.memoryMib === null ? "" : `${p.memoryMib}`, right: true },
    { text: p.peakMemoryMib === null ? "" : `${p.peakMemoryMib}`, right: true },
    { text: p.smPct === null ? "" : `${p.smPct}`, right: true },
    // A collector before memory % answers none: blank, as pmon giving none.
    { text: p.memPct === null || p.memPct === undefined ? "" : `${p.memPct}`, right: true },
    { text: iso(p.startMs ?? p.firstSeenMs) },
    { text: duration(p.lastSeenMs - (p.startMs ?? p.firstSeenMs)) },
    { text: p.open ? "running" : "ended", colour: p.open ? "green" : "grey" },
  ]);
  return (
    table(
      style,
      [
        "GPU",
        "PID",
        "NAME",
        "USER",
        "WORKLOAD",
        "MEM MIB",
        "PEAK MIB",
        "SM %",
        "MEM BW %",
        "STARTED",
        "FOR",
        "STATE",
      ],
      rows,
    ) +
    absentNotes(a.processes, "SM %", "sm", (p) => p.smPct) +
    absentNotes(a.processes, "MEM BW %", "mem", (p) => p.memPct) +
    absentNotes(a.processes, "USER", "proc", (p) => p.user ?? p.uid) +
    silent
  );
}

/** Names shown of the silent hosts at most; the JSON answer has them all. */
const SILENT_NAMES = 10;

/** The hosts the list cannot speak for: no process set from them in the last 10 minutes. */
function silentNote(hosts: readonly string[]): string {
  if (hosts.length === 0) return "";
  const names = hosts.slice(0, SILENT_NAMES).join(", ");
  const more = hosts.length > SILENT_NAMES ? ` and ${hosts.length - SILENT_NAMES} more` : "";
  const noun = hosts.length === 1 ? "host sends" : "hosts send";
  return `${hosts.length} ${noun} no process sets (agent source \`processes\` off, or its sets stopped), so what runs there is unknown: ${names}${more}.\n`;
}

/**
 * Why a column is blank, one line per reason the agent gave ("SM % absent: pids 4121, 4122:
 * nvidia-smi reports no per-process utilization under MIG (unsupported)"; "USER absent: pid 7:
 * status: EACCES, … (error)" when the agent may not read /proc/PID): a blank alone would not say
 * whether pmon is unsupported, failing or just missed the process, or the agent lacks access.
 */
function absentNotes(
  processes: readonly ProcessRow[],
  column: string,
  field: "sm" | "mem" | "proc",
  value: (p: ProcessRow) => string | number | null | undefined,
): string {
  // A set: one process holding several GPUs is one row per GPU, but named once here.
  const pidsByWhy = new Map<string, Set<number>>();
  for (const p of processes) {
    const v = value(p);
    if (v !== null && v !== undefined) continue;
    // A collector older than the `absent` field answers none.
    // One entry per field, but /proc gives one per file the agent could not read.
    const absences = (p.absent ?? []).filter((x) => x.field === field);
    if (absences.length === 0) continue;
    const reasons = [...new Set(absences.map((x) => x.reason))].join(", ");
    const why = `${absences.map((x) => x.why).join(", ")} (${reasons})`;
    const pids = pidsByWhy.get(why);
    if (pids === undefined) pidsByWhy.set(why, new Set([p.pid]));
    else pids.add(p.pid);
  }
  return [...pidsByWhy]
    .map(
      ([why, pids]) =>
        `${column} absent: ${pids.size === 1 ? "pid" : "pids"} ${[...pids].join(", ")}: ${why}\n`,
    )
    .join("");
}

function workload(p: ProcessRow): string {
  if (p.podUid) return `pod ${p.podUid}`;
  if (p.containerId) return `container ${p.containerId.slice(0, 12)}`;
  if (p.jobId) return `slurm job ${p.jobId}`;
  if (p.unit) return p.unit;
  return p.workloadKind === "none" ? "" : p.workloadKind;
}

/** Under a cut process report's table (on stderr beside its CSV or JSON). */
const REPORT_CUT =
  "Sessions seen earlier in the range are left out (a collector reads at most so many for a report): ask a shorter range.\n";

export function renderProcessReport(r: ProcessReport, style: Style): string {
  const head = `Process report by ${r.by}, ${iso(r.fromMs)} – ${iso(r.toMs)}\n`;
  if (r.rows.length === 0) return `${head}No process sessions.\n`;
  const rows = r.rows.map((row): Cell[] => [
    { text: row.key ?? "(none)" },
    { text: String(row.sessions), right: true },
    { text: String(row.gpus), right: true },
    { text: row.gpuHours.toFixed(2), right: true },
    {
      text: row.idleHeldHours.toFixed(2),
      right: true,
      ...(row.idleHeldHours > 0 ? { colour: "yellow" as const } : {}),
    },
  ]);
  const cut = r.truncated === true ? REPORT_CUT : "";
  return (
    head + table(style, [r.by.toUpperCase(), "SESSIONS", "GPUS", "GPU-HOURS", "IDLE-HELD HOURS"], rows) + cut
  );
}
