// gputel dashboard: polls the collector's compact fleet cells, open flags and summary every few
// seconds and draws the fleet (tiles at fleet scale, cells when narrowed), the problems first
// list, the KPIs and, on demand, one GPU's panel; the fleet health report once a minute; fleet
// reports over a date range in the reports view (reports-view.js); the sales figures above the
// tenants table once a minute (sales.js); the last two not on a tenant's page (its role is refused
// them: GET /api/v1/whoami says the role). Filters, colour, the open GPU and the report shown are
// in the URL.
import { api, el, energy, pct, pctOf, TEMP_STOPS, UTIL_STOPS } from "./api.js";
import { closeDetail, detailId, openDetail, refreshDetail, wireDetail } from "./detail.js";
import { drawFlags, flagsQuery } from "./flags-view.js";
import { applyCells, buildFleet, choices, hasCell as hasCellOf, matches } from "./fleet-model.js";
import { drawFleet } from "./fleet-view.js";
import { drawHealthReport } from "./health.js";
import { downKinds, drawMigCells, migCount, migMatches } from "./mig-cells.js";
import { wireReports } from "./reports-view.js";
import { drawSales } from "./sales.js";
import { drawMigLeases, drawTenants, migDevicesWithoutCell, migLeasesOn } from "./tenants.js";
import { readUrl, writeUrl } from "./url-state.js";

const POLL_MS = 5000;
// The fleet health report covers 30 days, the sales figures a month: once a minute is fresh
// enough and spares the collector.
const HEALTH_MS = 60_000;
const url = readUrl();
const state = {
  filters: url.filters,
  colour: url.colour,
  fleet: null,
  flagPages: 1,
  timer: null,
  // The MIG devices leased now whose GPU has no cell here (a MIG device tenant's), with the kinds
  // of their GPU's open down flags (mig-cells.js); the last summary, for the GPU count.
  mig: [],
  summary: null,
};
const on = { filter: (f) => setFilters({ ...state.filters, ...f }), open: (id) => showGpu(id) };

function setFilters(filters) {
  state.filters = Object.fromEntries(
    Object.entries(filters).filter(([, v]) => v !== undefined && v !== "" && v !== false),
  );
  state.flagPages = 1;
  syncUrl();
  syncControls();
  render();
  void pollFlags();
}

function syncUrl() {
  writeUrl({ filters: state.filters, colour: state.colour, gpu: detailId() });
}

function render() {
  const fleet = state.fleet;
  if (!fleet) return;
  const shown = fleet.gpus.filter((g) => matches(g, state.filters));
  const migs = state.mig.filter((m) => migMatches(m, state.filters));
  drawFleet(document.getElementById("heatmap"), shown, {
    colour: state.colour,
    total: fleet.gpus.length + state.mig.length,
    others: migs.length,
    forceCells: Boolean(state.filters.host),
    selected: detailId(),
    on,
  });
  drawMigCells(document.getElementById("mig-cells"), migs, on.open);
  const parts = [];
  // A page of MIG devices alone does not say "0 GPUs".
  if (fleet.gpus.length > 0 || state.mig.length === 0)
    parts.push(
      shown.length === fleet.gpus.length
        ? `${shown.length} GPUs`
        : `${shown.length} of ${fleet.gpus.length} GPUs`,
    );
  if (state.mig.length > 0)
    parts.push(
      migs.length === state.mig.length
        ? migCount(migs.length)
        : `${migs.length} of ${migCount(state.mig.length)}`,
    );
  document.getElementById("shown").textContent = parts.join(" · ");
  drawGpuCount();
}

/** The GPUs KPI: the summary's GPUs, and the MIG devices drawn apart where there are any. */
function drawGpuCount() {
  const s = state.summary;
  if (!s) return;
  const gpus = s.gpus.total;
  const migs = state.mig.length;
  document.getElementById("kpi-gpus").textContent =
    migs === 0 ? String(gpus) : gpus === 0 ? String(migs) : `${gpus} + ${migs}`;
  document.querySelector("#kpi-all .kpi-label").textContent =
    migs === 0 ? "GPUs" : gpus === 0 ? (migs === 1 ? "MIG device" : "MIG devices") : "GPUs + MIG devices";
}

// --- Filter controls
const SELECTS = ["site", "customer", "rack", "model"];
function fillSelects() {
  const c = choices(state.fleet);
  for (const k of SELECTS) {
    const s = document.getElementById(`f-${k}`);
    const keep = state.filters[k] ?? "";
    const values = c[k];
    if (s.dataset.values === values.join("\u0000")) continue;
    s.dataset.values = values.join("\u0000");
    s.replaceChildren(el("option", "", `all ${k}s`), ...values.map((v) => el("option", "", v)));
    s.options[0].value = "";
    s.value = keep;
  }
}
function syncControls() {
  for (const k of SELECTS) document.getElementById(`f-${k}`).value = state.filters[k] ?? "";
  document.getElementById("f-flag").value = state.filters.flag ?? "";
  document.getElementById("f-problems").checked = Boolean(state.filters.problems);
  const q = document.getElementById("f-q");
  if (document.activeElement !== q) q.value = state.filters.q ?? "";
  const host = document.getElementById("f-host");
  host.hidden = !state.filters.host;
  host.textContent = state.filters.host ? `host ${state.filters.host} ×` : "";
  for (const b of document.querySelectorAll("[data-colour]"))
    b.classList.toggle("active", b.dataset.colour === state.colour);
  legend();
}
function wireControls() {
  for (const k of SELECTS)
    document
      .getElementById(`f-${k}`)
      .addEventListener("change", (e) => on.filter({ [k]: e.target.value || undefined }));
  document
    .getElementById("f-flag")
    .addEventListener("change", (e) => on.filter({ flag: e.target.value || undefined }));
  document
    .getElementById("f-problems")
    .addEventListener("change", (e) => on.filter({ problems: e.target.checked || undefined }));
  document
    .getElementById("f-q")
    .addEventListener("input", (e) => on.filter({ q: e.target.value.trim() || undefined }));
  document.getElementById("f-host").addEventListener("click", () => on.filter({ host: undefined }));
  document.getElementById("f-clear").addEventListener("click", () => setFilters({}));
  document.getElementById("kpi-all").addEventListener("click", () => setFilters({}));
  document.getElementById("kpi-open").addEventListener("click", () => setFilters({ problems: true }));
  document.getElementById("kpi-overheat").addEventListener("click", () => setFilters({ flag: "overheat" }));
  document.getElementById("flags-more").addEventListener("click", () => {
    state.flagPages++;
    void pollFlags();
  });
  for (const b of document.querySelectorAll("[data-colour]"))
    b.addEventListener("click", () => {
      state.colour = b.dataset.colour;
      syncUrl();
      syncControls();
      render();
    });
}
function legend() {
  const box = document.getElementById("legend");
  const stops = state.colour === "util" ? UTIL_STOPS : TEMP_STOPS;
  const r = el("span", "ramp");
  r.style.background = `linear-gradient(to right, ${stops.map(([, c]) => `rgb(${c.join(",")})`).join(", ")})`;
  box.replaceChildren(
    el("span", "", state.colour === "util" ? "0%" : `${stops[0][0]}°C`),
    r,
    el("span", "", state.colour === "util" ? "100%" : `${stops[stops.length - 1][0]}°C+`),
    el("span", "mark k-hot", "overheat"),
    el("span", "mark k-lost", "lost / error / stale"),
    el("span", "", "tile: hottest °C · busy share · ⚑ flagged GPUs"),
  );
}

// --- Polls
function drawSummary(s) {
  const set = (id, text) => {
    document.getElementById(id).textContent = text;
  };
  state.summary = s;
  drawGpuCount();
  set("kpi-busy-now", pct(s.utilization.now.rate));
  set("kpi-mean-now", pctOf(s.utilization.meanNowPct));
  set("kpi-util-24h", pct(s.utilization.range.utilizationRate));
  set("kpi-mean-24h", pctOf(s.utilization.range.meanUtilizationPct));
  set("kpi-energy-24h", energy(s.utilization.range.energyKwh));
  set("kpi-flags", String(s.flags.open));
  set("kpi-hot", String(s.flags.byKind.overheat ?? 0));
  document.getElementById("kpi-overheat").classList.toggle("zero", !s.flags.byKind.overheat);
  document.getElementById("kpi-open").classList.toggle("zero", s.flags.open === 0);
}
async function pollFlags() {
  drawFlags(await api(flagsQuery(state.filters, state.fleet, state.flagPages)), on);
}
async function pollCells() {
  let cells = await api(state.fleet ? "/api/v1/fleet/cells" : "/api/v1/fleet/cells?layout=true");
  if (state.fleet && cells.layoutVersion !== state.fleet.version)
    cells = await api("/api/v1/fleet/cells?layout=true");
  if (cells.layout) {
    state.fleet = buildFleet(cells);
    fillSelects();
    syncControls();
  }
  applyCells(state.fleet, cells);
  render();
}
async function poll() {
  const status = document.getElementById("status");
  try {
    // A customer or rack filter needs the layout's label keys before the flags can be asked.
    const first = state.fleet === null && Boolean(state.filters.customer || state.filters.rack);
    if (first) await pollCells();
    // Leases first: the cells and the GPU panel show which lease holds each GPU.
    await drawTenants(api);
    await Promise.all([
      first ? null : pollCells(),
      pollFlags(),
      api("/api/v1/summary?from=24h").then(drawSummary),
    ]);
    await pollMig();
    drawMigLeases(hasCell, (id) => void showGpu(id));
    if (detailId()) void refreshDetail().catch(() => {});
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    status.classList.remove("error");
    if (!document.body.dataset.loaded) performance.mark("gputel-rendered");
    document.body.dataset.loaded = "1";
  } catch (error) {
    status.textContent = `update failed: ${error.message}`;
    status.classList.add("error");
  }
}

/**
 * The MIG devices to draw apart (none on a page with cells of their GPUs) and their GPUs' open
 * down flags: the tenant's whole open flag list, one request, only where there are such devices.
 */
async function pollMig() {
  // Leased now: an ended lease is listed under the tenants table, not drawn in the fleet.
  const devices = migDevicesWithoutCell(hasCell).filter((m) => m.endMs === null);
  const flags = devices.length > 0 ? (await api("/api/v1/flags?limit=1000")).flags : [];
  state.mig = devices.map((m) => ({ ...m, kinds: downKinds(flags, m.host, m.index) }));
  render();
}

/** Whether the page has a cell of GPU `id` (UUID or host:index): the layout's lookup (fleet-model.js). */
function hasCell(id) {
  return hasCellOf(state.fleet, id);
}

async function showGpu(id) {
  // A GPU with no cell here but a MIG device leased on it (a MIG tenant's page) opens down only.
  const migs = hasCell(id) ? [] : migLeasesOn(id);
  await openDetail(
    id,
    () => {
      syncUrl();
      render();
    },
    migs,
  );
  syncUrl();
  render();
}

wireDetail();
wireControls();
syncControls();
// The token's role (GET /api/v1/whoami): a tenant's page leaves out the fleet-wide sections its
// role is refused (403), rather than ask them on every load to find out. Unknown (the answer
// failed): they are asked, and hide themselves on a 403.
const who = await api("/api/v1/whoami").catch(() => null);
const fleetWide = who?.role !== "tenant";
document.getElementById("health-report").hidden = !fleetWide;
await poll();
// After the first poll: the customer grouping needs the fleet's customer label key.
wireReports({
  tenant: who?.role === "tenant",
  customerKey: () => state.fleet?.customerKey ?? null,
  openGpu: (id) => void showGpu(id),
  changed: syncUrl,
});
if (url.gpu) void showGpu(url.gpu).catch(() => closeDetail());
setInterval(poll, POLL_MS);
if (fleetWide) {
  void drawHealthReport(api);
  setInterval(() => void drawHealthReport(api), HEALTH_MS);
  const sales = () => void drawSales(api).catch(() => {});
  sales();
  setInterval(sales, HEALTH_MS);
}
