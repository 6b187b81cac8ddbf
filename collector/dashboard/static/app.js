// gputel dashboard: polls the collector's API and draws the fleet heat map, the open flags,
// the 24 h figures and, on click, one GPU's charts (uPlot, served by the collector itself).

import { drawHealthReport, eventMarks, gpuEvents, healthBadge } from "/static/health.js";
import uPlot from "/vendor/uplot.esm.js";

const POLL_MS = 5000;
const TOKEN_KEY = "gputel.token";
const state = { colour: "util", gpus: [], selected: null, range: "1h", charts: [] };

// --- API access: the token comes from a #token= fragment or a prompt, kept for the session.
function token() {
  const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path) {
  const t = token();
  const response = await fetch(path, { headers: t ? { authorization: `Bearer ${t}` } : {} });
  if (response.status === 401) {
    const entered = prompt("This collector needs its API token:");
    if (entered) {
      sessionStorage.setItem(TOKEN_KEY, entered.trim());
      return api(path);
    }
    throw new Error("unauthorized: no API token");
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

// --- Formatting
const pct = (r) => (r === null || r === undefined ? "–" : `${Math.round(r * 100)}%`);
function duration(ms) {
  const m = Math.floor(ms / 60000);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
function energy(kwh) {
  if (kwh === null || kwh === undefined) return "–";
  return kwh >= 1000 ? `${(kwh / 1000).toFixed(1)} MWh` : `${kwh.toFixed(kwh < 10 ? 1 : 0)} kWh`;
}
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// --- Colour scales: utilization dark slate → green; temperature blue → yellow → red.
function mix(a, b, t) {
  return a.map((v, i) => Math.round(v + (b[i] - v) * t));
}
function ramp(stops, x) {
  for (let i = 1; i < stops.length; i++) {
    const [x1, c1] = stops[i];
    const [x0, c0] = stops[i - 1];
    if (x <= x1) return mix(c0, c1, Math.max(0, (x - x0) / (x1 - x0)));
  }
  return stops[stops.length - 1][1];
}
const UTIL_STOPS = [
  [0, [38, 48, 66]],
  [30, [21, 94, 117]],
  [70, [22, 163, 74]],
  [100, [132, 225, 94]],
];
const TEMP_STOPS = [
  [25, [37, 99, 235]],
  [55, [20, 184, 166]],
  [70, [234, 179, 8]],
  [82, [249, 115, 22]],
  [90, [220, 38, 38]],
];
function cellColour(g) {
  const v = state.colour === "util" ? g.values.utilization_gpu_pct : g.values.temperature_gpu_celsius;
  if (v === undefined) return null;
  const [r, gr, b] = ramp(state.colour === "util" ? UTIL_STOPS : TEMP_STOPS, v);
  return { css: `rgb(${r},${gr},${b})`, dark: 0.299 * r + 0.587 * gr + 0.114 * b < 120 };
}
function cellText(g) {
  const v = state.colour === "util" ? g.values.utilization_gpu_pct : g.values.temperature_gpu_celsius;
  if (v === undefined) return g.state === "ok" ? "n/a" : g.state;
  return state.colour === "util" ? `${Math.round(v)}%` : `${Math.round(v)}°`;
}
function legend() {
  const box = document.getElementById("legend");
  box.replaceChildren();
  const stops = state.colour === "util" ? UTIL_STOPS : TEMP_STOPS;
  const r = el("span", "ramp");
  r.style.background = `linear-gradient(to right, ${stops.map(([, c]) => `rgb(${c.join(",")})`).join(", ")})`;
  box.append(
    el("span", "", state.colour === "util" ? "0%" : `${stops[0][0]}°C`),
    r,
    el("span", "", state.colour === "util" ? "100%" : `${stops[stops.length - 1][0]}°C+`),
  );
  for (const [cls, label] of [
    ["flag-overheat", "overheat"],
    ["flag-idle-held", "idle-held"],
    ["flag-idle", "idle"],
    ["flag-lost", "lost / error / stale"],
  ]) {
    const m = el("span", "mark");
    const s = el("span", `swatch cell ${cls}`);
    s.style.height = "1rem";
    s.style.animation = "none";
    m.append(s, el("span", "", label));
    box.append(m);
  }
}

// --- Heat map: one block per host, one cell per GPU; elements are reused between polls.
const cellsByUuid = new Map();
function drawHeatmap(gpus) {
  const root = document.getElementById("heatmap");
  // Past a few hundred GPUs the cells shrink to coloured squares so a whole fleet fits one screen.
  const dense = gpus.length > 256;
  root.classList.toggle("dense", dense);
  const cellWidth = dense ? "1.3rem" : "4.2rem";
  const byHost = new Map();
  for (const g of gpus) {
    if (!byHost.has(g.host)) byHost.set(g.host, []);
    byHost.get(g.host).push(g);
  }
  const blocks = [];
  for (const [host, list] of byHost) {
    let block = root.querySelector(`.host[data-host="${CSS.escape(host)}"]`);
    if (!block) {
      block = el("div", "host");
      block.dataset.host = host;
      const head = el("div", "host-head");
      head.append(el("span", "host-name", host), el("span", "host-site", ""));
      block.append(head, el("div", "cells"));
    }
    block.querySelector(".host-site").textContent = list[0].site;
    const cells = block.querySelector(".cells");
    cells.style.gridTemplateColumns = `repeat(${Math.min(list.length, 8)}, ${cellWidth})`;
    const wanted = list.map((g) => drawCell(g));
    cells.replaceChildren(...wanted);
    blocks.push(block);
  }
  root.replaceChildren(...blocks);
  if (blocks.length === 0) root.replaceChildren(el("div", "empty", "No GPUs reported yet."));
}
function drawCell(g) {
  let c = cellsByUuid.get(g.uuid);
  if (!c) {
    c = el("div", "cell");
    c.dataset.uuid = g.uuid;
    c.tabIndex = 0;
    c.append(el("span", "i"), el("span", "v"));
    c.addEventListener("click", () => openDetail(c.dataset.uuid));
    c.addEventListener("keydown", (e) => e.key === "Enter" && openDetail(c.dataset.uuid));
    cellsByUuid.set(g.uuid, c);
  }
  const kinds = [...new Set(g.flags.map((f) => f.kind))];
  c.dataset.flags = kinds.join(" ");
  c.dataset.host = g.host;
  c.dataset.index = String(g.index);
  const colour = cellColour(g);
  c.className = [
    "cell",
    ...kinds.map((k) => `flag-${k}`),
    colour ? (colour.dark ? "dark" : "") : "none",
    state.selected === g.uuid ? "selected" : "",
  ]
    .filter(Boolean)
    .join(" ");
  c.style.backgroundColor = colour ? colour.css : "";
  c.querySelector(".i").textContent = String(g.index);
  c.querySelector(".v").textContent = cellText(g);
  c.querySelector(".badge")?.remove();
  if (kinds.includes("overheat")) c.append(el("span", "badge", "HOT"));
  const health = kinds.includes("overheat") ? null : healthBadge(kinds);
  if (health) c.append(el("span", health.cls, health.text));
  const t = g.values.temperature_gpu_celsius;
  const u = g.values.utilization_gpu_pct;
  c.title =
    `${g.host} GPU ${g.index} · ${g.model}\n${u === undefined ? "–" : `${u}%`} · ${t === undefined ? "–" : `${t} °C`}` +
    (kinds.length ? `\nflags: ${kinds.join(", ")}` : "");
  return c;
}

// --- Flags list and figures
function drawFlags(flags, nowMs) {
  const list = document.getElementById("flags");
  document.getElementById("flag-count").textContent = String(flags.length);
  const order = [
    "gpu-claim-conflict",
    "overheat",
    "lost",
    "error",
    "offline",
    "stale",
    "throttled",
    "idle-held",
    "idle",
  ];
  const sorted = [...flags].sort(
    (a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.startMs - b.startMs,
  );
  list.replaceChildren(
    ...sorted.map((f) => {
      const li = el("li", `flag k-${f.kind}`);
      const row = el("div", "row");
      row.append(
        el("span", "kind", f.kind),
        el("span", "where", f.gpuIndex === null ? f.host : `${f.host} · GPU ${f.gpuIndex}`),
        el("span", "dur", duration(nowMs - f.startMs)),
      );
      li.append(row, el("div", "reason", f.reason));
      if (f.gpuUuid) li.addEventListener("click", () => openDetail(f.gpuUuid));
      return li;
    }),
  );
  if (flags.length === 0) list.replaceChildren(el("li", "empty", "No open flags."));
}
function drawSummary(s) {
  document.getElementById("kpi-gpus").textContent = String(s.gpus.total);
  document.getElementById("kpi-busy-now").textContent = pct(s.utilization.now.rate);
  document.getElementById("kpi-util-24h").textContent = pct(s.utilization.range.utilizationRate);
  document.getElementById("kpi-energy-24h").textContent = energy(s.utilization.range.energyKwh);
  document.getElementById("kpi-flags").textContent = String(s.flags.open);
  document.getElementById("kpi-hot").textContent = String(s.flags.byKind.overheat ?? 0);
  document.getElementById("kpi-hot").parentElement.classList.toggle("zero", !s.flags.byKind.overheat);
  document.getElementById("kpi-flags").parentElement.classList.toggle("zero", s.flags.open === 0);
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const [gpus, flags, summary] = await Promise.all([
      api("/api/v1/gpus"),
      api("/api/v1/flags?limit=200"),
      api("/api/v1/summary?from=24h"),
    ]);
    state.gpus = gpus.gpus;
    drawHeatmap(state.gpus);
    drawFlags(flags.flags, flags.generatedMs);
    drawSummary(summary);
    if (Date.now() - (state.healthAt ?? 0) > 60_000) {
      state.healthAt = Date.now();
      void drawHealthReport(api);
    }
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    status.classList.remove("error");
    document.body.dataset.loaded = "1";
  } catch (error) {
    status.textContent = `update failed: ${error.message}`;
    status.classList.add("error");
  }
}

// --- One GPU's charts
const RANGE_STEP = { "1h": "10s", "6h": "1m", "24h": "5m", "7d": "1h" };
async function openDetail(uuid) {
  state.selected = uuid;
  for (const c of cellsByUuid.values()) c.classList.toggle("selected", c.dataset.uuid === uuid);
  const panel = document.getElementById("gpu-detail");
  panel.hidden = false;
  await drawDetail();
  panel.scrollIntoView({ behavior: "smooth", block: "start" });
}
async function drawDetail() {
  const uuid = state.selected;
  if (!uuid) return;
  const id = encodeURIComponent(uuid);
  const metrics =
    "utilization_gpu_pct,temperature_gpu_celsius,power_draw_watts,power_limit_watts,memory_used_mib,memory_total_mib";
  const [gpu, s, events] = await Promise.all([
    api(`/api/v1/gpus/${id}`),
    api(`/api/v1/gpus/${id}/series?metrics=${metrics}&from=${state.range}&step=${RANGE_STEP[state.range]}`),
    gpuEvents(api, uuid, state.range),
  ]);
  state.events = events;
  if (state.selected !== uuid) return;
  document.getElementById("detail-title").textContent = `${gpu.host} · GPU ${gpu.index}`;
  document.getElementById("detail-sub").textContent =
    `${gpu.model} · ${gpu.uuid}${gpu.inventory ? ` · S/N ${gpu.inventory.serial} · driver ${gpu.inventory.driverVersion}` : ""} · tier ${s.tier}`;
  const pills = document.getElementById("detail-flags");
  pills.replaceChildren(
    ...gpu.flags.map((f) =>
      el("span", f.kind === "overheat" ? "pill" : "pill other", `${f.kind}: ${f.reason}`),
    ),
  );
  for (const c of state.charts) c.destroy();
  state.charts = [];
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
  );
  chart(
    "chart-power",
    t,
    [
      ["avg", m.power_draw_watts.avg, "#60a5fa"],
      ["limit", m.power_limit_watts.max, "#94a3b8", [4, 4]],
    ],
    [0, null],
  );
  chart(
    "chart-memory",
    t,
    [
      ["used", gib(m.memory_used_mib.avg), "#c084fc"],
      ["total", gib(m.memory_total_mib.max), "#94a3b8", [4, 4]],
    ],
    [0, null],
  );
}
function chart(id, t, series, yRange) {
  const fig = document.getElementById(id);
  fig.querySelector(".uplot")?.remove();
  const width = Math.max(300, fig.clientWidth - 16);
  const opts = {
    width,
    height: 220,
    cursor: { drag: { x: true, y: false } },
    plugins: state.events?.length ? [eventMarks(state.events)] : [],
    scales: {
      x: { time: true },
      y: yRange
        ? {
            range: (_u, lo, hi) => [
              yRange[0] ?? lo,
              yRange[1] ?? Math.max(hi + (hi - (yRange[0] ?? lo)) * 0.08, 1),
            ],
          }
        : {},
    },
    axes: [
      { stroke: "#8593a8", grid: { stroke: "#223049" }, ticks: { stroke: "#223049" } },
      { stroke: "#8593a8", grid: { stroke: "#223049" }, ticks: { stroke: "#223049" } },
    ],
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
  state.charts.push(new uPlot(opts, [t, ...series.map(([, data]) => data ?? t.map(() => null))], fig));
}

// --- Wiring
for (const b of document.querySelectorAll("[data-colour]")) {
  b.addEventListener("click", () => {
    state.colour = b.dataset.colour;
    for (const x of document.querySelectorAll("[data-colour]")) x.classList.toggle("active", x === b);
    legend();
    drawHeatmap(state.gpus);
  });
}
for (const b of document.querySelectorAll("[data-range]")) {
  b.addEventListener("click", () => {
    state.range = b.dataset.range;
    for (const x of document.querySelectorAll("[data-range]")) x.classList.toggle("active", x === b);
    void drawDetail();
  });
}
document.getElementById("detail-close").addEventListener("click", () => {
  state.selected = null;
  document.getElementById("gpu-detail").hidden = true;
  for (const c of cellsByUuid.values()) c.classList.remove("selected");
});
legend();
await poll();
setInterval(poll, POLL_MS);
