// One GPU's panel: charts (uPlot) with its Xid marks, its open flags, its MIG devices (mig-view.js),
// the processes holding it now (processes-view.js), its health timeline (health-timeline.js) and its flag history. It opens over the page
// (no scrolling to find it), refreshes on every poll while open, closes with Escape or ×, and is
// addressable: the app keeps `?gpu=host:index` in the URL. For a MIG device's tenant the GPU its
// device is on opens down only: its health timeline alone (the GPU's down flags and down time over
// the tenant's stays, docs/leases.md), the GPU's own routes (`gpus/:id`, its series, flags and
// processes) answering 404 to it by design, so they are not asked.
import { api, duration, el } from "./api.js";
import { eventMarks } from "./health.js";
import { drawTimeline, gpuTimeline } from "./health-timeline.js";
import { drawMig } from "./mig-view.js";
import { drawProcesses, processesOf } from "./processes-view.js";
import { leaseText, migLeaseText } from "./tenants.js";

// uPlot loads with the first panel opened, not with the page: the wall view never needs it.
let uPlot = null;

const RANGE_STEP = { "1h": "10s", "6h": "1m", "24h": "5m", "7d": "1h" };
const METRICS =
  "utilization_gpu_pct,temperature_gpu_celsius,power_draw_watts,power_limit_watts,memory_used_mib,memory_total_mib";
const d = { id: null, range: "1h", charts: [], busy: false, onClose: () => {}, migs: [] };

export function detailId() {
  return d.id;
}

/**
 * Opens GPU `id`'s panel; `migs` (the MIG devices of the tenant's on it, tenants.js) opens it down
 * only, for a page that has no cell of the GPU.
 */
export async function openDetail(id, onClose, migs = []) {
  d.id = id;
  d.onClose = onClose;
  d.migs = migs;
  const panel = document.getElementById("gpu-detail");
  panel.hidden = false;
  panel.classList.toggle("down-only", migs.length > 0);
  await refreshDetail(true);
  document.getElementById("detail-close").focus({ preventScroll: true });
}

export function closeDetail() {
  if (d.id === null) return;
  d.id = null;
  document.getElementById("gpu-detail").hidden = true;
  for (const c of d.charts) c.destroy();
  d.charts = [];
  d.onClose();
}

/** Redraws the open panel (each poll); `force` also when a previous draw is still under way. */
export async function refreshDetail(force = false) {
  const id = d.id;
  if (!id || (d.busy && !force)) return;
  d.busy = true;
  try {
    if (d.migs.length > 0) {
      const health = await gpuTimeline(api, id);
      if (d.id === id) drawDownOnly(id, health);
      return;
    }
    const enc = encodeURIComponent(id);
    const gpu = await api(`/api/v1/gpus/${enc}`);
    const [s, history, health, processes] = await Promise.all([
      api(`/api/v1/gpus/${enc}/series?metrics=${METRICS}&from=${d.range}&step=${RANGE_STEP[d.range]}`),
      // This GPU's flags and its host's host-level ones (offline, stale), newest first.
      api(`/api/v1/flags?state=all&gpu=${encodeURIComponent(gpu.uuid)}&limit=200`),
      gpuTimeline(api, gpu.uuid),
      processesOf(api, gpu.uuid),
    ]);
    uPlot ??= (await import("/vendor/uplot.esm.js")).default;
    if (d.id !== id) return;
    draw(gpu, s, history, health);
    drawMig(gpu);
    drawProcesses(processes);
  } finally {
    d.busy = false;
  }
}

/** The GPU's down time for the tenant of MIG devices on it, labelled as the GPU they are on. */
function drawDownOnly(id, health) {
  const at = id.lastIndexOf(":");
  document.getElementById("detail-title").textContent = `${id.slice(0, at)} · GPU ${id.slice(at + 1)}`;
  const devices = d.migs.map((m) => m.uuid).join(", ");
  document.getElementById("detail-sub").textContent =
    `the GPU your MIG device${d.migs.length === 1 ? "" : "s"} ${devices} ${d.migs.length === 1 ? "is" : "are"} on`;
  document.getElementById("detail-lease").textContent = d.migs.map(migLeaseText).join(" · ");
  drawTimeline(health);
}

function draw(gpu, s, history, health) {
  document.getElementById("detail-title").textContent = `${gpu.host} · GPU ${gpu.index}`;
  document.getElementById("detail-lease").textContent = leaseText(gpu.uuid);
  document.getElementById("detail-sub").textContent =
    `${gpu.model} · ${gpu.site} · ${gpu.uuid}${gpu.inventory ? ` · S/N ${gpu.inventory.serial} · driver ${gpu.inventory.driverVersion}` : ""} · tier ${s.tier}`;
  document
    .getElementById("detail-flags")
    .replaceChildren(
      ...gpu.flags.map((f) =>
        el("span", f.kind === "overheat" ? "pill" : "pill other", `${f.kind}: ${f.reason}`),
      ),
    );
  const mine = history.flags;
  const total = history.total ?? mine.length;
  document.getElementById("detail-history-head").textContent =
    `Flag history (${Math.min(50, mine.length) < total ? `newest ${Math.min(50, mine.length)} of ${total}` : total})`;
  const list = document.getElementById("detail-history");
  list.replaceChildren(
    ...mine.slice(0, 50).map((f) => {
      const li = el("li", `k-${f.kind}`);
      li.append(
        el("span", "h-kind", f.kind),
        el("span", "when", new Date(f.startMs).toLocaleString()),
        el("span", "dur", `${duration(f.durationMs)}${f.endMs === null ? " (open)" : ""}`),
        el("span", "reason", f.reason),
      );
      return li;
    }),
  );
  if (mine.length === 0) list.replaceChildren(el("li", "empty", "No flags in this GPU's history."));
  drawTimeline(health);
  for (const c of d.charts) c.destroy();
  d.charts = [];
  // The timeline's events reach 30 days back; the marks skip those outside the chart's range.
  const marks = eventMarks(health.timeline?.events ?? []);
  const t = s.t.map((ms) => ms / 1000);
  const m = s.metrics;
  const gib = (xs) => xs.map((v) => (v === null ? null : v / 1024));
  const slowdown = s.slowdownTemperatureC;
  chart(
    "chart-util",
    t,
    [
      ["avg", m.utilization_gpu_pct.avg, "#22c55e"],
      ["max", m.utilization_gpu_pct.max, "rgba(34,197,94,0.35)"],
    ],
    [0, 100],
    marks,
  );
  chart(
    "chart-temp",
    t,
    [
      ["avg", m.temperature_gpu_celsius.avg, "#f97316"],
      ["max", m.temperature_gpu_celsius.max, "rgba(249,115,22,0.35)"],
      ...(slowdown === null ? [] : [["slowdown", t.map(() => slowdown), "#ff3b30", [8, 6]]]),
    ],
    [20, null],
    marks,
  );
  chart(
    "chart-power",
    t,
    [
      ["avg", m.power_draw_watts.avg, "#60a5fa"],
      ["limit", m.power_limit_watts.max, "#94a3b8", [4, 4]],
    ],
    [0, null],
    marks,
  );
  chart(
    "chart-memory",
    t,
    [
      ["used", gib(m.memory_used_mib.avg), "#c084fc"],
      ["total", gib(m.memory_total_mib.max), "#94a3b8", [4, 4]],
    ],
    [0, null],
    marks,
  );
}

function chart(id, t, series, yRange, marks) {
  const fig = document.getElementById(id);
  fig.querySelector(".uplot")?.remove();
  const width = Math.max(260, fig.clientWidth - 16);
  const axis = { stroke: "#8593a8", grid: { stroke: "#223049" }, ticks: { stroke: "#223049" } };
  const opts = {
    width,
    height: 180,
    cursor: { drag: { x: true, y: false } },
    scales: {
      x: { time: true },
      y: {
        range: (_u, lo, hi) => [
          yRange[0] ?? lo,
          yRange[1] ?? Math.max(hi + (hi - (yRange[0] ?? lo)) * 0.08, 1),
        ],
      },
    },
    axes: [axis, axis],
    plugins: [marks],
    series: [
      {},
      ...series.map(([label, , stroke, dash]) => ({
        label,
        stroke,
        width: 2,
        ...(dash ? { dash } : {}),
        spanGaps: false,
      })),
    ],
  };
  d.charts.push(new uPlot(opts, [t, ...series.map(([, data]) => data ?? t.map(() => null))], fig));
}

export function wireDetail() {
  for (const b of document.querySelectorAll("[data-range]")) {
    b.addEventListener("click", () => {
      d.range = b.dataset.range;
      for (const x of document.querySelectorAll("[data-range]")) x.classList.toggle("active", x === b);
      void refreshDetail(true);
    });
  }
  document.getElementById("detail-close").addEventListener("click", closeDetail);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") closeDetail();
  });
}
