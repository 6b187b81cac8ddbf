// The reports view: one fleet report (utilization, energy, thermal, availability) over a date
// range, grouped by site, model, host or customer, as a table, with the same report as CSV to
// download (the API's ?format=csv, so the file is what `gputel query report --format csv` prints).
// By tenant it is the lease report (/api/v1/reports/leases?by=tenant): each minute with the lease
// in force then, leased hours, busy share, mean utilization, idle-held, energy and availability in
// one table, whatever report is chosen (its CSV is `gputel report leases --format csv`).
// Its choices live in the URL (view=reports, report, by, range or from/to) so a report is a link.
import { api, apiFile, el } from "./api.js";
import { drawReport } from "./report-table.js";

export const PRESETS = ["today", "yesterday", "7d", "last-month"];
const KINDS = ["utilization", "energy", "thermal", "downtime"];
/**
 * What a tenant's token may ask (the API's TENANT_REPORT_KINDS among this view's reports; host
 * labels, so the customer grouping, are not shown to a tenant): the rest answer it 403 or 400.
 */
const TENANT_KINDS = ["utilization", "energy"];
const TENANT_BY = ["site", "model", "host", "tenant"];

const pad = (n) => String(n).padStart(2, "0");
/** A Date as a datetime-local input's value (this browser's zone). */
export function localValue(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A preset's [from, to) in this browser's zone: days and months as the operator reads them. */
export function presetRange(name, now = new Date()) {
  const day = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = (n) => new Date(day.getFullYear(), day.getMonth(), day.getDate() + n);
  switch (name) {
    case "today":
      return [day, now];
    case "yesterday":
      return [days(-1), day];
    case "7d":
      return [days(-7), now];
    case "last-month":
      return [
        new Date(day.getFullYear(), day.getMonth() - 1, 1),
        new Date(day.getFullYear(), day.getMonth(), 1),
      ];
    default:
      return null;
  }
}

const r = { open: false, kind: "utilization", by: "site", range: "yesterday", from: "", to: "", seq: 0 };
let ctx = { customerKey: () => null, openGpu: () => {}, changed: () => {} };

/** The view's state from the URL's query. */
export function readReportUrl(params) {
  r.open = params.get("view") === "reports";
  if (KINDS.includes(params.get("report"))) r.kind = params.get("report");
  if (/^(site|model|host|customer|tenant)$/.test(params.get("by") ?? "")) r.by = params.get("by");
  const from = params.get("from");
  const to = params.get("to");
  if (from && to) {
    r.range = "";
    r.from = from;
    r.to = to;
  } else if (PRESETS.includes(params.get("range"))) r.range = params.get("range");
}

/** Its part of the URL's query (only while open, so the fleet view's links stay short). */
export function writeReportUrl(params) {
  if (!r.open) return;
  params.set("view", "reports");
  params.set("report", r.kind);
  params.set("by", r.by);
  if (r.range) params.set("range", r.range);
  else {
    params.set("from", r.from);
    params.set("to", r.to);
  }
}

function rangeMs() {
  if (r.range) {
    const [from, to] = presetRange(r.range);
    return [from.getTime(), to.getTime()];
  }
  return [new Date(r.from).getTime(), new Date(r.to).getTime()];
}

function byParam() {
  if (r.by !== "customer") return r.by;
  return `label:${ctx.customerKey() ?? "customer"}`;
}

/** The API path of the report as chosen now (JSON; the CSV adds format=csv). */
export function reportPath() {
  const [from, to] = rangeMs();
  const p = new URLSearchParams({ from: String(from), to: String(to), by: byParam() });
  return `/api/v1/reports/${r.by === "tenant" ? "leases" : r.kind}?${p}`;
}

function syncForm() {
  const kind = document.getElementById("r-kind");
  kind.value = r.kind;
  // By tenant one lease report holds every figure: the report choice does not apply.
  kind.disabled = r.by === "tenant";
  document.getElementById("r-by").value = r.by;
  const [from, to] = rangeMs();
  document.getElementById("r-from").value = localValue(new Date(from));
  document.getElementById("r-to").value = localValue(new Date(to));
  for (const b of document.querySelectorAll("[data-preset]"))
    b.classList.toggle("active", b.dataset.preset === r.range);
}

function show(open) {
  r.open = open;
  document.body.dataset.view = open ? "reports" : "fleet";
  document.getElementById("reports").hidden = !open;
  document.getElementById("nav-reports").classList.toggle("active", open);
  ctx.changed();
  if (open) void runReport();
}

function set(change) {
  Object.assign(r, change);
  ctx.changed();
  void runReport();
}

/** Fetches and draws the report; an answer overtaken by a newer choice is dropped. */
export async function runReport() {
  if (!r.open) return;
  syncForm();
  const seq = ++r.seq;
  const status = document.getElementById("r-status");
  status.textContent = "running…";
  status.classList.remove("error");
  try {
    const report = await api(reportPath());
    if (seq !== r.seq) return;
    drawReport(report, r.by, ctx.openGpu);
    status.textContent = `${new Date(report.fromMs).toLocaleString()} → ${new Date(report.toMs).toLocaleString()}`;
    document.getElementById("reports").dataset.loaded = String(seq);
  } catch (error) {
    if (seq !== r.seq) return;
    status.textContent = `report failed: ${error.message}`;
    status.classList.add("error");
  }
}

async function downloadCsv() {
  const status = document.getElementById("r-status");
  try {
    const { blob, filename } = await apiFile(`${reportPath()}&format=csv`);
    const a = el("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename ?? `gputel-${r.by === "tenant" ? "leases" : r.kind}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  } catch (error) {
    status.textContent = `download failed: ${error.message}`;
    status.classList.add("error");
  }
}

/** `options`: customerKey() (the fleet's customer label key), openGpu(id), changed() (URL). */
export function wireReports(options) {
  ctx = options;
  if (options.tenant) limitToTenant();
  document.getElementById("nav-reports").addEventListener("click", () => show(!r.open));
  document.getElementById("r-close").addEventListener("click", () => show(false));
  document.getElementById("r-kind").addEventListener("change", (e) => set({ kind: e.target.value }));
  document.getElementById("r-by").addEventListener("change", (e) => set({ by: e.target.value }));
  for (const b of document.querySelectorAll("[data-preset]"))
    b.addEventListener("click", () => set({ range: b.dataset.preset }));
  const custom = () => {
    const from = document.getElementById("r-from").value;
    const to = document.getElementById("r-to").value;
    if (from && to && new Date(from) < new Date(to)) set({ range: "", from, to });
  };
  document.getElementById("r-from").addEventListener("change", custom);
  document.getElementById("r-to").addEventListener("change", custom);
  document.getElementById("r-csv").addEventListener("click", () => void downloadCsv());
  if (r.open) show(true);
}

/** A tenant's page: only the reports and groupings its role may ask, a link's others replaced. */
function limitToTenant() {
  const keep = (id, allowed) => {
    for (const o of document.querySelectorAll(`#${id} option`)) {
      o.disabled = !allowed.includes(o.value);
      o.hidden = o.disabled;
    }
  };
  keep("r-kind", TENANT_KINDS);
  keep("r-by", TENANT_BY);
  if (!TENANT_KINDS.includes(r.kind)) r.kind = TENANT_KINDS[0];
  if (!TENANT_BY.includes(r.by)) r.by = TENANT_BY[0];
}
