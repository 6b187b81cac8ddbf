// The fleet drawn two ways. At fleet scale: one column per site, one tile per rack (or run of
// hosts) with a pixel map of its GPUs on a canvas and its numbers (hottest, busy share, mean
// utilization, problems), so 10,000 GPUs fit one wall screen. Narrowed (a rack, a host, a search,
// at most CELLS_MAX GPUs): one block per host with a cell per GPU. Elements are kept between
// polls; nothing animates forever (a pulse per hot cell kept the main thread busy).
import { colourOf, el, pctOf } from "./api.js";
import { stats, tiles } from "./fleet-model.js";
import { healthBadge } from "./health.js";
import { leaseOf, leaseText } from "./tenants.js";

export const CELLS_MAX = 256;
const PX = 4;
const LOST = ["lost", "error", "stale", "offline"];
/** Flag kinds a health badge or outline shows (issue 16). */
const HEALTH = ["xid", "reset-required", "pcie-degraded", "nvlink-degraded"];

const tileEls = new Map();
const siteEls = new Map();
const cellsByUuid = new Map();
const hostEls = new Map();

/** Draws `gpus` into root; `on` holds the drill-down and open-GPU callbacks. */
export function drawFleet(root, gpus, opts) {
  const cellView = gpus.length <= CELLS_MAX || opts.forceCells;
  root.classList.toggle("tiles-view", !cellView);
  root.classList.toggle("cells-view", cellView);
  if (gpus.length === 0) {
    // `others`: MIG devices drawn beside the GPUs (mig-cells.js), counted in `total`.
    if (opts.others > 0) root.replaceChildren();
    else
      root.replaceChildren(
        el("div", "empty", opts.total === 0 ? "No GPUs reported yet." : "No GPU matches the filters."),
      );
    return;
  }
  if (cellView) drawCells(root, gpus, opts);
  else drawTiles(root, gpus, opts);
}

function drawTiles(root, gpus, opts) {
  const bySite = tiles(gpus);
  let hottest = null;
  for (const racks of bySite.values())
    for (const t of racks) {
      t.stats = stats(t.gpus);
      if (t.stats.hottest !== null && (hottest === null || t.stats.hottest > hottest.stats.hottest))
        hottest = t;
    }
  const sections = [];
  for (const [site, racks] of bySite) {
    let s = siteEls.get(site);
    if (!s) {
      s = el("section", "site");
      s.dataset.site = site;
      const head = el("h3", "site-head");
      const name = el("button", "site-name", site);
      name.type = "button";
      name.title = `Only ${site}`;
      name.addEventListener("click", () => opts.on.filter({ site }));
      head.append(name, el("span", "site-stats"), el("span", "badge hot-badge"));
      s.append(head, el("div", "tiles"));
      siteEls.set(site, s);
    }
    const all = racks.flatMap((t) => t.gpus);
    const st = stats(all);
    s.querySelector(".site-stats").textContent =
      `${st.gpus} GPUs · busy ${pctOf(st.busyShare === null ? null : st.busyShare * 100)} · mean ${pctOf(st.meanUtil)} · ${st.hottest ?? "–"}°C max · ${st.problems} flagged`;
    const badge = s.querySelector(".hot-badge");
    badge.textContent = st.hot > 0 ? `HOT ${st.hot}` : "";
    badge.hidden = st.hot === 0;
    s.querySelector(".tiles").replaceChildren(...racks.map((t) => drawTile(t, t === hottest, opts)));
    sections.push(s);
  }
  root.style.setProperty("--sites", String(sections.length));
  root.replaceChildren(...sections);
}

function drawTile(t, isHottest, opts) {
  const key = `${t.site}\u0000${t.rack}`;
  let b = tileEls.get(key);
  if (!b) {
    b = el("button", "tile");
    b.type = "button";
    b.dataset.site = t.site;
    b.dataset.rack = t.rack;
    const head = el("span", "tile-head");
    // The site heads the column already: "lon1-r16" shows as "r16".
    const short = t.rack.startsWith(`${t.site}-`) ? t.rack.slice(t.site.length + 1) : t.rack;
    head.append(el("span", "tile-name", short), el("span", "badge", "HOT"));
    b.append(head, el("span", "tile-cust"), el("canvas", "tile-map"), el("span", "tile-stats"));
    b.addEventListener("click", () => opts.on.filter({ site: b.dataset.site, rack: b.dataset.rack }));
    tileEls.set(key, b);
  }
  const s = t.stats;
  b.classList.toggle("hot", s.hot > 0);
  b.classList.toggle("flagged", s.problems > 0);
  b.classList.toggle("hottest", isHottest);
  // A static outline (no animation) when a GPU of the tile has an open health flag.
  const sick = t.gpus.filter((g) => g.kinds.some((k) => HEALTH.includes(k))).length;
  b.classList.toggle("health", sick > 0);
  b.dataset.health = String(sick);
  b.querySelector(".badge").hidden = s.hot === 0;
  b.querySelector(".tile-cust").textContent =
    s.customers.length === 1 ? s.customers[0] : `${s.customers.length} customers`;
  b.querySelector(".tile-stats").textContent =
    `${s.hottest ?? "–"}° ${pctOf(s.busyShare === null ? null : s.busyShare * 100)}${s.problems ? ` ⚑${s.problems}` : ""}`;
  b.title =
    `${t.site} · ${t.rack}: ${s.gpus} GPUs on ${t.hosts.size} hosts\nbusy share ${pctOf(s.busyShare === null ? null : s.busyShare * 100)} · mean utilization ${pctOf(s.meanUtil)}\n` +
    `hottest ${s.hottest ?? "–"} °C · ${s.problems} GPUs flagged (${s.hot} overheating) · ${s.down} not ok` +
    (sick > 0 ? `\n${sick} GPUs with a health flag (Xid, reset required, degraded link)` : "");
  paintMap(b.querySelector("canvas"), t, opts.colour);
  return b;
}

function paintMap(canvas, t, mode) {
  const hosts = [...t.hosts.values()];
  const cols = Math.max(...hosts.map((h) => h.length), 1);
  const w = cols * PX;
  const h = hosts.length * PX;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#0b0f17";
  ctx.fillRect(0, 0, w, h);
  hosts.forEach((list, row) => {
    list.forEach((g, col) => {
      let c = colourOf(mode, g);
      if (g.kinds.includes("overheat")) c = [255, 59, 48];
      else if (g.kinds.some((k) => LOST.includes(k)) || g.state !== "ok") c = [168, 85, 247];
      ctx.fillStyle = c ? `rgb(${c[0]},${c[1]},${c[2]})` : "#273244";
      ctx.fillRect(col * PX, row * PX, PX - 1, PX - 1);
    });
  });
}

function drawCells(root, gpus, opts) {
  const dense = gpus.length > 64;
  root.classList.toggle("dense", dense);
  const byHost = new Map();
  for (const g of gpus) {
    if (!byHost.has(g.host)) byHost.set(g.host, []);
    byHost.get(g.host).push(g);
  }
  const blocks = [];
  for (const [host, list] of byHost) {
    let block = hostEls.get(host);
    if (!block) {
      block = el("div", "host");
      block.dataset.host = host;
      const head = el("div", "host-head");
      const name = el("span", "host-name", host);
      name.title = `Only ${host}`;
      name.addEventListener("click", () => opts.on.filter({ host }));
      head.append(name, el("span", "host-site", ""));
      block.append(head, el("div", "host-place"), el("div", "cells"));
      hostEls.set(host, block);
    }
    const g0 = list[0];
    block.querySelector(".host-site").textContent = g0.site;
    block.querySelector(".host-place").textContent = `${g0.rack} · ${g0.customer}`;
    const cells = block.querySelector(".cells");
    cells.style.setProperty("--cols", String(Math.min(list.length, 8)));
    cells.replaceChildren(...list.map((g) => drawCell(g, opts)));
    blocks.push(block);
  }
  root.replaceChildren(...blocks);
}

function drawCell(g, opts) {
  let c = cellsByUuid.get(g.uuid);
  if (!c) {
    c = el("div", "cell");
    c.dataset.uuid = g.uuid;
    c.tabIndex = 0;
    c.append(el("span", "i"), el("span", "v"));
    c.addEventListener("click", () => opts.on.open(`${g.host}:${g.index}`));
    c.addEventListener("keydown", (e) => e.key === "Enter" && opts.on.open(`${g.host}:${g.index}`));
    cellsByUuid.set(g.uuid, c);
  }
  c.dataset.flags = g.kinds.join(" ");
  c.dataset.host = g.host;
  c.dataset.index = String(g.index);
  const rgb = colourOf(opts.colour, g);
  const dark = rgb ? 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 120 : false;
  c.className = [
    "cell",
    ...g.kinds.map((k) => `flag-${k}`),
    rgb ? (dark ? "dark" : "") : "none",
    opts.selected === `${g.host}:${g.index}` ? "selected" : "",
  ]
    .filter(Boolean)
    .join(" ");
  c.style.backgroundColor = rgb ? `rgb(${rgb[0]},${rgb[1]},${rgb[2]})` : "";
  const v = opts.colour === "util" ? g.util : g.temp;
  c.querySelector(".i").textContent = String(g.index);
  c.querySelector(".v").textContent =
    v === null ? (g.state === "ok" ? "n/a" : g.state) : opts.colour === "util" ? `${v}%` : `${v}°`;
  for (const b of c.querySelectorAll(".badge")) b.remove();
  if (g.kinds.includes("overheat")) c.append(el("span", "badge", "HOT"));
  const health = g.kinds.length > 0 ? healthBadge(g.kinds) : null;
  if (health) c.append(el("span", health.cls, health.text));
  c.title =
    `${g.host} GPU ${g.index} · ${g.model}\n${g.util === null ? "–" : `${g.util}%`} · ${g.temp === null ? "–" : `${g.temp} °C`}` +
    (g.kinds.length ? `\nflags: ${g.kinds.join(", ")}` : "") +
    (leaseText(g.uuid) ? `\n${leaseText(g.uuid)}` : "");
  const tenant = leaseOf.get(g.uuid)?.tenant;
  if (tenant) c.dataset.tenant = tenant;
  else delete c.dataset.tenant;
  return c;
}
