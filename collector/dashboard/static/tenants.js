// The tenants view: each tenant's leased GPUs, busy share today and this month, GPUs idle-held
// now, and availability this month against its SLA (GET /api/v1/tenants); and, for the fleet
// cells and the GPU panel, which lease holds each GPU now. A GPU no lease holds is for sale.
import { el, pct } from "./api.js";

/** GPU UUID → { tenant, leaseId, sinceMs } for the GPUs leased now. */
export const leaseOf = new Map();
/** Whether this collector keeps leases (else no GPU is said to be for sale). */
let known = false;

/** One line for a GPU's lease: "leased to acme since …", "for sale (no lease)", or "" where leases are not kept. */
export function leaseText(uuid) {
  if (!known) return "";
  const l = leaseOf.get(uuid);
  return l ? `leased to ${l.tenant} since ${new Date(l.sinceMs).toLocaleString()}` : "for sale (no lease)";
}

function availability(t) {
  if (t.availabilityMonth === null) return "–";
  const a = `${(t.availabilityMonth * 100).toFixed(2)}%`;
  if (t.slaAvailability === null) return a;
  return `${a} / SLA ${(t.slaAvailability * 100).toFixed(2)}% ${t.slaMet ? "met" : "missed"}`;
}

/** Fills #tenants from the API; hides it where the collector keeps no leases. */
export async function drawTenants(api) {
  const root = document.getElementById("tenants");
  if (!root) return;
  let answer;
  try {
    answer = await api("/api/v1/tenants");
  } catch (error) {
    // No lease store here (501) or no right to it: nothing to show, not an error of the page.
    if (error.status === 501 || error.status === 403) {
      root.hidden = true;
      leaseOf.clear();
      known = false;
      return;
    }
    throw error;
  }
  leaseOf.clear();
  known = true;
  for (const t of answer.tenants)
    for (const g of t.gpus) leaseOf.set(g.uuid, { tenant: t.tenant, leaseId: g.leaseId, sinceMs: g.sinceMs });
  root.hidden = false;
  const head = el("tr");
  for (const h of [
    "tenant",
    "GPUs leased",
    "busy share today",
    "busy share this month",
    "idle-held now",
    "availability this month",
  ])
    head.append(el("th", "", h));
  const rows = answer.tenants.map((t) => {
    const tr = el("tr", t.slaMet === false ? "sla-missed" : "");
    tr.dataset.tenant = t.tenant;
    for (const v of [
      t.tenant,
      String(t.leasedGpus),
      pct(t.utilizationToday),
      pct(t.utilizationMonth),
      String(t.idleHeldNow),
      availability(t),
    ])
      tr.append(el("td", "", v));
    if (t.idleHeldNow > 0) tr.children[4].className = "idle-held";
    return tr;
  });
  const table = root.querySelector(".tenants-table");
  table.replaceChildren(head, ...rows);
  if (rows.length === 0) table.replaceChildren(el("tr", "", "No leases this month."));
}
