// The GPU panel's MIG devices (issue 17): each device of a partitioned GPU, from its latest
// inventory (GET /api/v1/gpus/:id: migDevices, absent when MIG is off): index, profile, UUID, SMs
// and memory used of total as of that inventory. Utilization is shown as absent with the API's
// reason: nvidia-smi reports none per MIG instance, and none is estimated.
import { cell, el, gib } from "./api.js";

function row(m) {
  const tr = el("tr");
  tr.dataset.mig = m.uuid;
  tr.append(
    cell(
      String(m.deviceIndex),
      `GPU instance ${m.gpuInstanceId}, compute instance ${m.computeInstanceId}`,
      "num",
    ),
    cell(m.profile || "–"),
    cell(m.uuid || "–", m.uuid ? "" : "nvidia-smi -L gave no UUID"),
    cell(m.smCount === null ? "–" : String(m.smCount), "", "num"),
    cell(
      `${gib(m.memoryUsedMib)} / ${gib(m.memoryTotalMib)}`,
      `as of the inventory of ${new Date(m.reportedMs).toLocaleString()}`,
      "num",
    ),
    cell("–", m.utilizationAbsent, "num absent"),
  );
  return tr;
}

/** Fills the panel's MIG section from the GPU's answer; hidden for a GPU without MIG devices. */
export function drawMig(gpu) {
  const head = document.getElementById("detail-mig-head");
  const table = document.getElementById("detail-mig");
  const list = gpu.migDevices ?? [];
  head.hidden = table.hidden = list.length === 0;
  head.textContent = `MIG devices (${list.length})`;
  if (list.length === 0) {
    table.replaceChildren();
    return;
  }
  const top = el("tr");
  for (const [n, cls] of [
    ["#", "num"],
    ["profile", ""],
    ["UUID", ""],
    ["SMs", "num"],
    ["memory used", "num"],
    ["utilization", "num"],
  ])
    top.append(el("th", cls, n));
  table.replaceChildren(top, ...list.map(row));
}
