// `gputel query events | health GPU | report health`: the health routes (collector/api/
// health-routes.ts), as tables for people or the API's JSON; `events`, `health GPU` and `report
// health` merge several collectors.

import { firstAhead } from "../../collector/api/fanout-gpu-share.js";
import { TIMELINE_EVENTS } from "../../collector/api/health-backend.js";
import { isNotHeld, type NOT_HELD } from "../../collector/fanout/fan-out.js";
import { mergeEventAnswers, mergeHealthTimelines } from "../../collector/merge/merge-health.js";
import { EVENT_CURSOR, isRowPosition, parseEventCursor } from "../../collector/reports/event-cursor.js";
import { eventsCsv, healthReportCsv, healthTimelineCsv } from "../../collector/reports/health-csv.js";
import type {
  EventsAnswer,
  EventView,
  HealthReport,
  HealthTimeline,
} from "../../collector/reports/health-types.js";
import { type ClientOptions, getAll, getJson, heldByNone } from "./client.js";
import { gpuRef, mergedHealthReport } from "./merged.js";
import { OptionError } from "./options.js";
import { type Cell, duration, type Style, table } from "./table.js";

export interface HealthArgs {
  since?: string | undefined;
  until?: string | undefined;
  host?: string | undefined;
  gpu?: string | undefined;
  code?: string | undefined;
  action?: string | undefined;
  limit?: string | undefined;
  before?: string | undefined;
}

/** cli.ts's print: `cut`, a cut list's note, goes to stderr beside CSV and JSON. */
type Print = (json: unknown, text: () => string, csv: () => string, cut?: string) => void;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * Events and one GPU's timeline are asked of every URL and merged (merge-health.ts), as the other
 * lists are; the health report from every URL's part (mergedHealthReport).
 */
export async function healthCommand(
  command: "events" | "health" | "report-health",
  arg: string | undefined,
  v: HealthArgs,
  client: ClientOptions,
  style: Style,
  print: Print,
): Promise<void> {
  const base = client.urls[0] ?? "http://127.0.0.1:8080";
  const range = { from: v.since ?? (command === "report-health" ? "30d" : "7d"), to: v.until };
  if (command === "events") {
    if (v.before !== undefined) checkCursor(v.before, client.urls.length);
    // Several collectors: a host:index asked of each by one UUID (gpuRef).
    const gpu = v.gpu === undefined ? undefined : (await gpuRef(v.gpu, client)).ref;
    const q = { ...range, host: v.host, gpu, code: v.code, action: v.action, limit: v.limit };
    // Kernel-log events reach every collector of a share group: the lists hold the same events
    // under other row ids, counted once by their kernel key. Each is asked for the page after the
    // same cursor (`--before`: an event's key, which every collector reads alike).
    const answers = await getAll<EventsAnswer>("/api/v1/events", { ...q, before: v.before }, client);
    // A GPU (--gpu) none of them shows (each answers NOT_HELD to a request for its own data):
    // what one collector answers for a GPU it does not know (65).
    if (v.gpu !== undefined && answers.every(isNotHeld)) throw heldByNone(v.gpu, client.urls);
    const { gpuHeld: _, ...answer }: EventsAnswer & { gpuHeld?: false } = mergeEventAnswers(answers);
    // The next page is the one after the last event shown (`--until` its time would show again
    // the events of that millisecond, and never get past more than --limit of them).
    const more = answer.next ? `(more: --before ${answer.next})\n` : "";
    print(
      answer,
      () => renderEvents(answer.events, style) + more,
      () => eventsCsv(answer.events),
      more,
    );
  } else if (command === "health") {
    const t = await mergedTimeline(arg ?? "", range, client);
    print(
      t,
      () => renderTimeline(t, style),
      () => healthTimelineCsv(t),
    );
  } else {
    // Several collectors: each one's part, merged (every event once by its kernel key, episodes
    // joined), as the API's fan-out merges them; no sum of the collectors' reports is the fleet's.
    const r =
      client.urls.length > 1
        ? await mergedHealthReport({ from: range.from, to: range.to }, client)
        : await getJson<HealthReport>(base, "/api/v1/reports/health", range, client);
    print(
      r,
      () => renderHealthReport(r, style),
      () => healthReportCsv(r),
    );
  }
}

/**
 * `--before` as the API takes it: an event's key (`TIME:HOST:BOOT:SEQ`, a `next`), or one
 * collector's `TIME:ID` from before 2026-12-08, whose row id means nothing to another collector
 * (an ID of 0, the old merged cursor, reads as the time alone everywhere).
 */
function checkCursor(cursor: string, urls: number): void {
  if (!new RegExp(EVENT_CURSOR).test(cursor))
    throw new OptionError(`--before ${JSON.stringify(cursor)} is not a cursor (the \`next\` of a page)`);
  const at = parseEventCursor(cursor);
  if (urls > 1 && isRowPosition(at) && at.id !== 0)
    throw new OptionError(
      `--before ${JSON.stringify(cursor)} names one collector's row: with several --url, give the \`next\` of a merged page`,
    );
}

/**
 * One GPU's timeline. Several collectors (--url a,b), each asked for its own data: every share of
 * those that hold the GPU, merged as the API's fan-out merges them (mergeHealthTimelines); a
 * collector without it says so (NOT_HELD). None holding it: the failure of one that did not answer
 * (it may hold it), else the refusal one collector gives (heldByNone, 65).
 */
async function mergedTimeline(
  ref: string,
  range: Record<string, string | undefined>,
  client: ClientOptions,
): Promise<HealthTimeline> {
  // A host:index asked of each by one UUID; the answer of the collector whose view named it first.
  const asked = await gpuRef(ref, client);
  const path = `/api/v1/gpus/${encodeURIComponent(asked.ref)}/health`;
  const answers = await Promise.allSettled(
    firstAhead(
      client.urls.map((peer) => ({ peer })),
      asked.first,
    ).map(({ peer }) => getJson<HealthTimeline | typeof NOT_HELD>(peer, path, range, client)),
  );
  const found = answers.flatMap((a) => (a.status === "fulfilled" && !isNotHeld(a.value) ? [a.value] : []));
  const first = found[0];
  if (!first) {
    const failed = answers.find((a) => a.status === "rejected");
    if (failed) throw failed.reason;
    throw heldByNone(ref, client.urls);
  }
  return mergeHealthTimelines(
    found.filter((t) => t.uuid === first.uuid),
    TIMELINE_EVENTS,
  );
}

export function renderEvents(events: readonly EventView[], style: Style): string {
  if (events.length === 0) return "No events.\n";
  const rows = events.map((e): Cell[] => [
    { text: iso(e.timeMs) },
    { text: e.host },
    { text: e.gpuIndex === null ? `(${e.pciBusId})` : String(e.gpuIndex), right: true },
    {
      text: `${e.kind === "sxid" ? "SXid" : "Xid"} ${e.code}`,
      colour: e.applicationLevel ? "yellow" : "red",
    },
    { text: e.mnemonic ?? "" },
    { text: e.action },
    {
      text: e.applicationLevel
        ? `workload${e.processName ? ` ${e.processName}` : ""}${e.pid !== null ? ` (${e.pid})` : ""}`
        : "hardware",
    },
  ]);
  return table(style, ["TIME", "HOST", "GPU", "EVENT", "MNEMONIC", "ACTION", "FAULT"], rows);
}

export function renderTimeline(t: HealthTimeline, style: Style): string {
  const entries: { at: number; text: string }[] = [
    ...t.events.map((e) => ({
      at: e.timeMs,
      text: `Xid ${e.code} ${e.mnemonic ?? ""} → ${e.action}${e.applicationLevel ? " (workload)" : ""}`,
    })),
    ...t.flags.map((f) => ({ at: f.startMs, text: `${f.kind} opened (${f.severity}): ${f.reason}` })),
    ...t.flags.flatMap((f) => (f.endMs !== null ? [{ at: f.endMs, text: `${f.kind} closed` }] : [])),
    ...t.acknowledgements.map((a) => ({
      at: a.atMs,
      text: `acknowledged flag ${a.flagId} (${a.kind}): ${a.note}`,
    })),
  ].sort((a, b) => a.at - b.at);
  const head = `GPU ${t.uuid} (${t.host}:${t.index}), ${iso(t.fromMs)} – ${iso(t.toMs)}; hardware downtime ${duration(t.downtimeMs)}\n`;
  if (entries.length === 0) return `${head}No health events.\n`;
  return (
    head +
    table(
      style,
      ["TIME", "WHAT"],
      entries.map((e) => [{ text: iso(e.at) }, { text: e.text }]),
    )
  );
}

export function renderHealthReport(r: HealthReport, style: Style): string {
  const parts = [
    `Fleet health, ${iso(r.fromMs)} – ${iso(r.toMs)}: ${r.xid.total} Xid events; ${r.hardwareDowntime.gpuHours} GPU-hours lost to hardware faults on ${r.hardwareDowntime.gpus} GPUs\n`,
    table(
      style,
      ["XID", "MNEMONIC", "ACTION", "FAULT", "COUNT"],
      r.xid.byCode.map((c) => [
        { text: String(c.code), right: true },
        { text: c.mnemonic ?? "" },
        { text: c.action },
        { text: c.applicationLevel ? "workload" : "hardware" },
        { text: String(c.count), right: true },
      ]),
    ),
    table(
      style,
      ["MODEL", "XIDS", "HARDWARE"],
      r.xid.byModel.map((m) => [
        { text: m.model },
        { text: String(m.count), right: true },
        { text: String(m.hardware), right: true },
      ]),
    ),
    table(
      style,
      ["HOST", "XIDS", "HARDWARE"],
      r.xid.byHost.map((m) => [
        { text: m.host },
        { text: String(m.count), right: true },
        { text: String(m.hardware), right: true },
      ]),
    ),
    r.tenantDowntime.byTenant.length === 0
      ? `No leased GPU was down (unleased: ${r.tenantDowntime.unleasedGpuHours} GPU-hours).\n`
      : table(
          style,
          ["TENANT", "HOURS DOWN", "GPUS", "LEASES"],
          [
            ...r.tenantDowntime.byTenant.map((t): Cell[] => [
              { text: t.tenant },
              { text: String(t.hours), right: true },
              { text: String(t.gpus), right: true },
              { text: t.leases.join(", ") },
            ]),
            [
              { text: "(no lease)" },
              { text: String(r.tenantDowntime.unleasedGpuHours), right: true },
              { text: "" },
              { text: "" },
            ],
          ],
        ),
    r.rmaCandidates.length === 0
      ? "No RMA candidates.\n"
      : table(
          style,
          ["RMA CANDIDATE", "HOST", "MODEL", "WHY"],
          r.rmaCandidates.map((c) => [
            { text: c.uuid, colour: "red" },
            { text: c.host },
            { text: c.model },
            { text: c.reasons.join("; ") },
          ]),
        ),
  ];
  return parts.join("\n");
}
