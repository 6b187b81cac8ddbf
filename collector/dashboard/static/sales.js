// The fleet's sales figures above the tenants table (GET /api/v1/reports/sales): the sold rate
// and the used rate this month (UTC, as the tenants view counts), the GPUs for sale now and their
// PFLOPS, by model. Fleet-wide figures: a tenant token is refused them (403) and sees nothing
// here; app.js does not ask them for a tenant's page (GET /api/v1/whoami). A month's report is
// not asked every poll: app.js asks once a minute.
import { el, pct } from "./api.js";

/** The start of this UTC month, as /api/v1/tenants counts "this month". */
function monthStartMs(now = new Date()) {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
}

export async function drawSales(api) {
  const root = document.getElementById("sales");
  // Without leases here (the tenants view hides itself) there is nothing to sell: no request.
  if (!root || document.getElementById("tenants").hidden) return;
  let s;
  try {
    s = await api(`/api/v1/reports/sales?from=${monthStartMs()}&by=model`);
  } catch (error) {
    // Not for this token (403), or no store here (501): nothing to show, not an error of the page.
    if (error.status === 403 || error.status === 501) {
      root.hidden = true;
      return;
    }
    throw error;
  }
  const set = (id, text) => {
    document.getElementById(id).textContent = text;
  };
  set("sales-sold", pct(s.total.soldRate));
  set("sales-used", pct(s.total.usedRate));
  set("sales-for-sale", String(s.total.forSaleNow));
  set("sales-pflops", s.total.forSalePflops.toFixed(2));
  const head = el("tr");
  for (const h of ["for sale now", "GPUs", "PFLOPS"]) head.append(el("th", "", h));
  const rows = s.forSale.map((m) => {
    const tr = el("tr");
    tr.dataset.model = m.model;
    tr.append(
      el("td", "", m.model || "(no inventory yet)"),
      el("td", "num", String(m.gpus)),
      el("td", "num", m.denseFp16Tflops === null ? "–" : m.pflops.toFixed(3)),
    );
    return tr;
  });
  root.querySelector(".sales-models").replaceChildren(...(rows.length > 0 ? [head, ...rows] : []));
  root.hidden = false;
  root.dataset.loaded = String(s.nowMs);
}
