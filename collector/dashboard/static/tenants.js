// The tenants view: each tenant's leased GPUs, busy share today and this month, GPUs idle-held
// now, and availability this month against its SLA (GET /api/v1/tenants); and, for the fleet
// cells and the GPU panel, which lease holds each GPU now. A GPU no lease holds is for sale.
// A MIG device leased now whose GPU has no cell on the page (a MIG tenant's: it sees no whole
// GPU) is listed below the table, each opening the down time of the GPU it is on (issue 17); so is
// a MIG lease that ended in the last 30 days (the answer's `ended`), marked ended: the GPU's
// health timeline the panel opens covers those 30 days, its down time over the lease with it.
import { el, pct } from "./api.js";

/** GPU UUID → { tenant, leaseId, sinceMs } for the GPUs leased now. */
export const leaseOf = new Map();
/**
 * "host:index" of a GPU → the MIG devices on it leased now or ended in the last 30 days:
 * { uuid, tenant, leaseId, sinceMs, endMs } (endMs null while in force).
 */
const migOn = new Map();
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
      migOn.clear();
      known = false;
      return;
    }
    throw error;
  }
  leaseOf.clear();
  migOn.clear();
  known = true;
  // A MIG device's lease names the host and index of the GPU it is on.
  const addMig = (g, lease) => {
    if (!/^MIG-/.test(g.uuid) || g.index < 0) return;
    const at = `${g.host}:${g.index}`;
    migOn.set(at, [...(migOn.get(at) ?? []), { uuid: g.uuid, ...lease }]);
  };
  for (const t of answer.tenants)
    for (const g of t.gpus) {
      const lease = { tenant: t.tenant, leaseId: g.leaseId, sinceMs: g.sinceMs };
      leaseOf.set(g.uuid, lease);
      addMig(g, { ...lease, endMs: null });
    }
  for (const e of answer.ended ?? [])
    addMig(e, { tenant: e.tenant, leaseId: e.leaseId, sinceMs: e.sinceMs, endMs: e.endMs });
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

/** The MIG devices leased now, or ended in the last 30 days, on the GPU `host:index`, or none. */
export function migLeasesOn(id) {
  return migOn.get(id) ?? [];
}

/** "host:index" as { host, index }. */
function place(at) {
  const i = at.lastIndexOf(":");
  return { host: at.slice(0, i), index: Number(at.slice(i + 1)) };
}

/**
 * The MIG devices leased now or ended in the last 30 days whose GPU `hasCell` says the page has
 * no cell of (none on an admin's page), each with the place of its GPU:
 * { uuid, tenant, leaseId, sinceMs, endMs, at, host, index }.
 */
export function migDevicesWithoutCell(hasCell) {
  return [...migOn]
    .filter(([at]) => !hasCell(at))
    .flatMap(([at, list]) => list.map((m) => ({ ...m, at, ...place(at) })));
}

/** A MIG device's lease in one line: `leaseText` while in force, else when it ended. */
export function migLeaseText(m) {
  return m.endMs === null
    ? leaseText(m.uuid)
    : `lease ${m.leaseId} ended ${new Date(m.endMs).toLocaleString()}`;
}

/**
 * Lists under the tenants table the MIG devices leased now or ended in the last 30 days (marked
 * ended) whose GPU `hasCell` says the page has no cell of (none on an admin's page), each with a
 * button opening its GPU's down time (`open`).
 */
export function drawMigLeases(hasCell, open) {
  const root = document.getElementById("tenant-mig");
  if (!root) return;
  const rows = migDevicesWithoutCell(hasCell).map((m) => {
    const li = el("li", m.endMs === null ? "" : "ended");
    li.dataset.mig = m.uuid;
    const b = el("button", "link", "down time of its GPU");
    b.type = "button";
    b.addEventListener("click", () => open(m.at));
    const ended = m.endMs === null ? "" : `ended ${new Date(m.endMs).toLocaleString()} · `;
    li.append(el("span", "", `MIG device ${m.uuid} · on ${m.host} · GPU ${m.index} · ${ended}`), b);
    return li;
  });
  root.hidden = rows.length === 0;
  root.querySelector("ol").replaceChildren(...rows);
}
