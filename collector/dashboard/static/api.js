// The page's API access: the token comes from a #token= fragment or a prompt and is kept for the
// session; answers are JSON, or a file (CSV) for downloads (the browser asks for and undoes
// brotli/gzip itself).
const TOKEN_KEY = "gputel.token";

function token() {
  const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** The response to GET path with the session's token; asks for one on a 401. */
async function authorized(path) {
  const t = token();
  const response = await fetch(path, { headers: t ? { authorization: `Bearer ${t}` } : {} });
  if (response.status === 401) {
    const entered = prompt("This collector needs its API token:");
    if (entered) {
      sessionStorage.setItem(TOKEN_KEY, entered.trim());
      return authorized(path);
    }
    throw new Error("unauthorized: no API token");
  }
  return response;
}

export async function api(path) {
  const response = await authorized(path);
  const body = await response.json();
  if (!response.ok) {
    const error = new Error(body.message ?? `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

/** A file answer (CSV) as a Blob, with the name the API gives it (Content-Disposition). */
export async function apiFile(path) {
  const response = await authorized(path);
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.message ?? `HTTP ${response.status}`);
  }
  const m = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "");
  return { blob: await response.blob(), filename: m ? m[1] : null };
}

// --- Formatting shared by the views
export const pct = (r) => (r === null || r === undefined ? "–" : `${Math.round(r * 100)}%`);
export const pctOf = (v) => (v === null || v === undefined ? "–" : `${Math.round(v)}%`);
export function duration(ms) {
  const m = Math.floor(ms / 60000);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
export function energy(kwh) {
  if (kwh === null || kwh === undefined) return "–";
  return kwh >= 1000 ? `${(kwh / 1000).toFixed(1)} MWh` : `${kwh.toFixed(kwh < 10 ? 1 : 0)} kWh`;
}
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
/** A table cell with an optional hover title (the panel's process and MIG tables). */
export function cell(text, title, cls) {
  const td = el("td", cls ?? "", text);
  if (title) td.title = title;
  return td;
}
/** MiB as GiB with one decimal; "–" where absent. */
export const gib = (mib) => (mib === null || mib === undefined ? "–" : `${(mib / 1024).toFixed(1)} GiB`);

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
export const UTIL_STOPS = [
  [0, [38, 48, 66]],
  [30, [21, 94, 117]],
  [70, [22, 163, 74]],
  [100, [132, 225, 94]],
];
export const TEMP_STOPS = [
  [25, [37, 99, 235]],
  [55, [20, 184, 166]],
  [70, [234, 179, 8]],
  [82, [249, 115, 22]],
  [90, [220, 38, 38]],
];
/** [r, g, b] for a value on the chosen scale, or null when there is no value. */
export function colourOf(mode, g) {
  const v = mode === "util" ? g.util : g.temp;
  if (v === null || v === undefined) return null;
  return ramp(mode === "util" ? UTIL_STOPS : TEMP_STOPS, v);
}
