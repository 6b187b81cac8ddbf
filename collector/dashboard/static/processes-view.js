// The GPU panel's processes: who holds the GPU now (GET /api/v1/gpus/:id/processes: the sessions
// the host's newest process set lists, biggest memory first): pid, name, user, container / pod /
// Slurm job, MIG device where the GPU is partitioned, memory, SM and memory-bandwidth shares
// (pmon's `sm` and `mem`) and since when. The route applies a tenant token's scope itself (only its
// leased devices, "since" from its lease's start); where it answers nothing to show (no process
// data here: 501; not this token's GPU: 404) the section says so instead of failing the panel.
import { cell, duration, el, gib, pctOf } from "./api.js";

/** The GPU's current processes, or null where the collector has none to show. */
export async function processesOf(api, uuid) {
  try {
    return await api(`/api/v1/gpus/${encodeURIComponent(uuid)}/processes`);
  } catch (error) {
    if (error.status === 501 || error.status === 404) return null;
    throw error;
  }
}

const short = (id) => (id.length > 12 ? `${id.slice(0, 12)}…` : id);

/** "pod 1a2b… · ctr 3c4d…", "container …", "Slurm job 88123", the unit, or "–". */
function workload(p) {
  switch (p.workloadKind) {
    case "kubernetes":
      return `pod ${short(p.podUid ?? "?")}${p.containerId ? ` · ctr ${short(p.containerId)}` : ""}`;
    case "docker":
      return `container ${short(p.containerId ?? "?")}`;
    case "slurm":
      return `Slurm job ${p.jobId}`;
    case "systemd-unit":
      return p.unit ?? "unit";
    case "user-session":
      return "login session";
    default:
      return "–";
  }
}

/** Why a pmon share (`sm`, `mem`) is missing, as the agent said (a collector before 0.1.0 sends no `absent`). */
function pmonAbsence(p, field) {
  const absence = (p.absent ?? []).find((a) => a.field === field);
  return absence ? `no pmon value: ${absence.why} (${absence.reason})` : "no pmon value";
}

/** Why the user is unknown: the /proc files the agent could not read (e.g. "status: EACCES"). */
function procAbsence(p) {
  const absences = (p.absent ?? []).filter((a) => a.field === "proc");
  return absences.length === 0 ? "" : `not read from /proc: ${absences.map((a) => a.why).join(", ")}`;
}

/** A pmon share's cell: the percentage, or "–" with why on hover (an older collector sends no memPct). */
function pmonCell(p, value, field) {
  const missing = value === null || value === undefined;
  return cell(pctOf(value), missing ? pmonAbsence(p, field) : "", "num");
}

function note(text) {
  const tr = el("tr", "empty");
  tr.append(el("td", "", text));
  return tr;
}

function row(p, nowMs, withMig) {
  const tr = el("tr");
  tr.dataset.pid = String(p.pid);
  const ids = [p.podUid && `pod ${p.podUid}`, p.containerId && `container ${p.containerId}`, p.unit]
    .filter(Boolean)
    .join("\n");
  tr.append(
    cell(String(p.pid), p.startMs ? `started ${new Date(p.startMs).toLocaleString()}` : "", "num"),
    cell(p.name || "–"),
    cell(p.user ?? (p.uid === null ? "–" : `uid ${p.uid}`), p.uid === null ? procAbsence(p) : `uid ${p.uid}`),
    cell(workload(p), ids),
    ...(withMig ? [cell(p.migUuid ? short(p.migUuid) : "–", p.migUuid ?? "no MIG device named")] : []),
    cell(gib(p.memoryMib), p.peakMemoryMib === null ? "" : `peak ${gib(p.peakMemoryMib)}`, "num"),
    pmonCell(p, p.smPct, "sm"),
    pmonCell(p, p.memPct, "mem"),
    cell(duration(Math.max(0, nowMs - p.firstSeenMs)), new Date(p.firstSeenMs).toLocaleString(), "num"),
  );
  return tr;
}

/** Fills the panel's process table from `processesOf`'s answer. */
export function drawProcesses(answer) {
  const head = document.getElementById("detail-processes-head");
  const table = document.getElementById("detail-processes");
  if (answer === null) {
    head.textContent = "Processes";
    table.replaceChildren(note("No process data for this GPU here."));
    return;
  }
  const list = answer.processes;
  // The GPU's host sends no process sets: an empty list would read as "nothing runs here".
  const silent = (answer.silentHosts ?? []).includes(answer.gpu?.host);
  head.textContent = silent && list.length === 0 ? "Processes (unknown)" : `Processes (${list.length})`;
  if (list.length === 0) {
    table.replaceChildren(
      note(
        silent
          ? "Unknown: this host's agent sends no process sets (its processes source is off, or its sets stopped)."
          : "No compute process on this GPU now.",
      ),
    );
    return;
  }
  const withMig = list.some((p) => p.migUuid !== null);
  const names = ["pid", "process", "user", "container / pod / job"];
  if (withMig) names.push("MIG device");
  names.push("memory", "SM", "mem BW", "since");
  const numeric = new Set(["pid", "memory", "SM", "mem BW", "since"]);
  const top = el("tr");
  for (const n of names) top.append(el("th", numeric.has(n) ? "num" : "", n));
  table.replaceChildren(top, ...list.map((p) => row(p, answer.generatedMs, withMig)));
}
