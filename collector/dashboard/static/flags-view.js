// Open flags, problems first: the API orders them (most severe, then longest open) and gives the
// true totals per kind, so the header and the chips count every open flag, not the page shown.
import { duration, el } from "./api.js";

export const PAGE = 50;

/**
 * The flags query for the page's filters, spelled as the API takes them (model, q and problems
 * too: the API searches host, host:index, UUID, label values and model as the page does;
 * problems leaves out the informational idle flags).
 */
export function flagsQuery(filters, fleet, pages) {
  const p = new URLSearchParams({ limit: String(PAGE * pages) });
  if (filters.site) p.set("site", filters.site);
  if (filters.host) p.set("host", filters.host);
  if (filters.flag) p.set("kind", filters.flag);
  if (filters.model) p.set("model", filters.model);
  if (filters.q) p.set("q", filters.q);
  if (filters.problems) p.set("problems", "true");
  if (filters.customer && fleet?.customerKey) p.set("label", `${fleet.customerKey}:${filters.customer}`);
  else if (filters.rack && fleet?.rackKey) p.set("label", `${fleet.rackKey}:${filters.rack}`);
  return `/api/v1/flags?${p}`;
}

export function drawFlags(answer, on) {
  const list = document.getElementById("flags");
  const total = answer.total ?? answer.flags.length;
  document.getElementById("flag-count").textContent = String(total);
  const chips = document.getElementById("flag-kinds");
  const kinds = Object.entries(answer.totalsByKind ?? {}).filter(([, n]) => n > 0);
  chips.replaceChildren(
    ...kinds.map(([kind, n]) => {
      const b = el("button", `chip k-${kind}`, `${kind} ${n}`);
      b.type = "button";
      b.dataset.kind = kind;
      b.addEventListener("click", () => on.filter({ flag: kind }));
      return b;
    }),
  );
  const now = answer.generatedMs;
  list.replaceChildren(
    ...answer.flags.map((f) => {
      const li = el("li", `flag k-${f.kind}`);
      li.dataset.kind = f.kind;
      const row = el("div", "row");
      row.append(
        el("span", "kind", f.kind),
        el("span", "where", f.gpuIndex === null ? f.host : `${f.host} · GPU ${f.gpuIndex}`),
        el("span", "dur", duration(now - f.startMs)),
      );
      li.append(row, el("div", "reason", f.reason));
      li.addEventListener("click", () =>
        f.gpuIndex === null ? on.filter({ host: f.host }) : on.open(`${f.host}:${f.gpuIndex}`),
      );
      return li;
    }),
  );
  if (answer.flags.length === 0) list.replaceChildren(el("li", "empty", "No open flags."));
  const more = document.getElementById("flags-more");
  more.hidden = !answer.truncated;
  more.textContent = `Show more (${answer.flags.length} of ${total})`;
}
