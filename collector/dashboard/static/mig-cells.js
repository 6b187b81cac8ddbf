// The fleet area's MIG devices. A tenant that leases MIG devices of a GPU, not the GPU, has no cell
// of that GPU (`fleet/cells` draws whole GPUs only), so each MIG device it leases now whose GPU has
// no cell on the page gets a cell of its own: its UUID, the GPU it is on, and that GPU's down
// state as the tenant's flag list shows it (docs/leases.md: its GPU's down flags and its host's
// stale or offline ones, nothing else of the GPU). A click opens the GPU's panel down only. Other
// tenants' MIG devices on the same GPU never reach the page: /api/v1/tenants gives a tenant token
// its own row only.
import { el } from "./api.js";

/** Flag kinds that make a MIG device's GPU down (docs/leases.md, "Availability"). */
const DOWN = ["lost", "error", "reset-required", "xid", "stale", "offline"];

/** The kinds of the open down flags of GPU `index` on `host` (its own and its host's), once each. */
export function downKinds(flags, host, index) {
  const kinds = flags
    .filter((f) => f.endMs === null && f.host === host && (f.gpuIndex === null || f.gpuIndex === index))
    .map((f) => f.kind)
    .filter((k) => DOWN.includes(k));
  return [...new Set(kinds)];
}

/** Whether MIG device `m` (with the `kinds` of its GPU) passes the page's filters. */
export function migMatches(m, f) {
  // Site, customer, rack and model come from the fleet layout, which holds no MIG device.
  if (f.site || f.customer || f.rack || f.model) return false;
  if (f.host && m.host !== f.host) return false;
  if (f.flag && !m.kinds.includes(f.flag)) return false;
  if (f.problems && m.kinds.length === 0) return false;
  if (f.q && !`${m.host} ${m.at} ${m.uuid}`.toLowerCase().includes(f.q.toLowerCase())) return false;
  return true;
}

/** "1 MIG device", "3 MIG devices". */
export function migCount(n) {
  return `${n} MIG device${n === 1 ? "" : "s"}`;
}

/** Draws `devices` into root (hidden when none); `open` opens a GPU's panel by `host:index`. */
export function drawMigCells(root, devices, open) {
  root.hidden = devices.length === 0;
  root.replaceChildren(
    ...devices.map((m) => {
      const b = el("button", m.kinds.length > 0 ? "mig-cell down" : "mig-cell");
      b.type = "button";
      b.dataset.mig = m.uuid;
      b.title = `Open the down time of the GPU your MIG device ${m.uuid} is on`;
      b.append(
        el("span", "mig-uuid", m.uuid),
        el("span", "mig-at", `${m.host} · GPU ${m.index}`),
        el("span", "mig-state", m.kinds.length > 0 ? `GPU down: ${m.kinds.join(", ")}` : "GPU up"),
      );
      b.addEventListener("click", () => open(m.at));
      return b;
    }),
  );
}
