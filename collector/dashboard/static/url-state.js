// Filters, colour, the open GPU and the reports view's choices live in the URL's query, so a view
// can be shared or put on a wall screen as a link; the fragment stays for the token.
import { readReportUrl, writeReportUrl } from "./reports-view.js";

export const FILTER_KEYS = ["site", "customer", "rack", "model", "host", "flag", "q"];

export function readUrl() {
  const p = new URLSearchParams(location.search);
  const f = {};
  for (const k of FILTER_KEYS) if (p.get(k)) f[k] = p.get(k);
  if (p.get("problems") === "1") f.problems = true;
  readReportUrl(p);
  return { filters: f, colour: p.get("colour") === "temp" ? "temp" : "util", gpu: p.get("gpu") };
}

export function writeUrl({ filters, colour, gpu }) {
  const p = new URLSearchParams();
  for (const k of FILTER_KEYS) if (filters[k]) p.set(k, filters[k]);
  if (filters.problems) p.set("problems", "1");
  if (colour === "temp") p.set("colour", "temp");
  if (gpu) p.set("gpu", gpu);
  writeReportUrl(p);
  const search = p.toString();
  const url = `${location.pathname}${search ? `?${search}` : ""}`;
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
}
