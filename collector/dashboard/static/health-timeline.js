// gputel dashboard, one GPU's health timeline (issue 16) in its detail panel, from
// /api/v1/gpus/:id/health: kernel-log events, health flags opened and closed, operators'
// acknowledgements and the stretches it was down for a hardware reason, newest first. Over a
// MIG device tenant's stays (`stays[].downOnly`) the API gives only the GPU's down flags and their
// down time, no events or acknowledgements: the panel says so rather than count 0 events.
import { duration, el } from "./api.js";

/** How far back the panel's health timeline reaches (the fleet health report's range). */
export const TIMELINE_RANGE = "30d";
const SHOWN = 100;
/** Why a MIG device's tenant sees no more of the GPU than its down time (docs/leases.md). */
export const DOWN_ONLY_NOTE =
  "For a MIG device only its GPU's down time is shown: no kernel-log events, no operators' notes, no other details of the GPU.";

/** The GPU's health timeline; null when the API has no health routes (or failed: `error`). */
export async function gpuTimeline(api, uuid) {
  try {
    return { timeline: await api(`/api/v1/gpus/${encodeURIComponent(uuid)}/health?from=${TIMELINE_RANGE}`) };
  } catch (error) {
    return { timeline: null, error: error.message };
  }
}

/**
 * The timeline's entries, newest first: { at, cls, kind, when, dur, text }. Pure (tests use it).
 * A flag gives an "opened" entry and, once ended, a "closed" one; a downtime stretch one entry at
 * its start with its length.
 */
export function timelineEntries(t) {
  const entries = [
    ...t.events.map((e) => ({
      at: e.timeMs,
      cls: e.applicationLevel ? "k-xid workload" : "k-xid",
      kind: `${e.kind === "sxid" ? "SXid" : "Xid"} ${e.code}`,
      dur: e.action,
      text: `${e.mnemonic ?? ""}${e.applicationLevel ? ` · the workload's${e.processName ? ` (${e.processName}${e.pid !== null ? ` ${e.pid}` : ""})` : ""}` : " · hardware"}`,
    })),
    ...t.flags.map((f) => ({
      at: f.startMs,
      cls: `k-flag tl ${f.severity === "critical" ? "bad" : f.severity === "warning" ? "warn" : "info"}`,
      kind: `${f.kind} opened`,
      dur: f.severity,
      text: f.reason,
    })),
    ...t.flags.flatMap((f) =>
      f.endMs === null
        ? []
        : [
            {
              at: f.endMs,
              cls: "k-flag k-closed",
              kind: `${f.kind} closed`,
              dur: duration(f.endMs - f.startMs),
              text: "",
            },
          ],
    ),
    ...t.acknowledgements.map((a) => ({
      at: a.atMs,
      cls: "k-ack tl good",
      kind: "acknowledged",
      dur: a.kind,
      text: a.note,
    })),
    ...t.downtime.map((s) => ({
      at: s.fromMs,
      cls: "k-down tl bad",
      kind: "down",
      dur: duration(s.toMs - s.fromMs),
      text: `hardware downtime (${s.kinds.join(" + ")})`,
    })),
  ];
  return entries.sort((a, b) => b.at - a.at);
}

/** Fills the panel's health section: a summary line and the entries. */
export function drawTimeline(result) {
  const summary = document.getElementById("detail-health-summary");
  const list = document.getElementById("detail-events");
  const note = document.getElementById("detail-note");
  const t = result.timeline;
  note.hidden = true;
  if (t === null) {
    summary.textContent = `health timeline unavailable${result.error ? `: ${result.error}` : ""}`;
    list.replaceChildren();
    return;
  }
  const stays = t.stays ?? [];
  const downOnly = stays.filter((s) => s.downOnly).length;
  note.hidden = downOnly === 0;
  note.textContent = DOWN_ONLY_NOTE;
  const acks = t.acknowledgements.length;
  const down = t.flags.length;
  summary.textContent =
    downOnly > 0 && downOnly === stays.length
      ? `Last 30 days, over your MIG device's lease${downOnly === 1 ? "" : "s"}: GPU down time ${duration(t.downtimeMs)} · ${down} down flag${down === 1 ? "" : "s"}`
      : `Last 30 days: hardware downtime ${duration(t.downtimeMs)} · ${t.events.length} kernel-log events · ${t.flags.length} health flags · ${acks} acknowledgement${acks === 1 ? "" : "s"}`;
  const entries = timelineEntries(t);
  list.replaceChildren(
    ...entries.slice(0, SHOWN).map((e) => {
      const li = el("li", e.cls);
      li.append(
        el("span", "h-kind", e.kind),
        el("span", "when", new Date(e.at).toLocaleString()),
        el("span", "dur", e.dur),
        el("span", "reason", e.text),
      );
      return li;
    }),
  );
  if (entries.length === 0) list.replaceChildren(el("li", "empty", "No health events in the last 30 days."));
}
