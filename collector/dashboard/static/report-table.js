// The reports view's table and list (reports-view.js asks, this draws): per report kind the
// columns shown, titled so that busy share and mean utilization are not confused (the lease
// report by tenant has both on its rows); below the table the hottest GPUs (thermal) or every
// down GPU with why (availability), each opening its panel.
import { duration, el, energy, pct, pctOf } from "./api.js";

const num = (v, digits = 1) => (v === null || v === undefined ? "–" : v.toFixed(digits));
const hours = (v) => num(v, 1);
const percent2 = (v) => (v === null ? "–" : `${(v * 100).toFixed(2)}%`);
// What each report's table shows: [field, title, format]. Busy share and mean utilization are
// different questions; the titles say which is which.
const COLUMNS = {
  utilization: [
    ["gpus", "GPUs", String],
    ["utilizationRate", "Busy share", pct],
    ["meanUtilizationPct", "Mean utilization", pctOf],
    ["busyGpuHours", "Busy GPU-h", hours],
    ["idleGpuHours", "Idle GPU-h", hours],
    ["idleHeldGpuHours", "Idle-held GPU-h", hours],
    ["unknownGpuHours", "Unknown GPU-h", hours],
  ],
  energy: [
    ["gpus", "GPUs", String],
    ["energyKwh", "Energy", energy],
    ["idleEnergyKwh", "Idle energy", energy],
    ["wastedShare", "Idle share", pct],
  ],
  thermal: [
    ["gpus", "GPUs", String],
    ["overheatGpuHours", "Overheat GPU-h", hours],
    ["overheatEpisodes", "Overheat episodes", String],
    ["throttledGpuHours", "Throttled GPU-h", hours],
    ["throttledEpisodes", "Throttled episodes", String],
    ["throttleGpuMinutesLost", "GPU-min lost to throttling", (v) => num(v, 0)],
  ],
  downtime: [
    ["gpus", "GPUs", String],
    ["downGpus", "GPUs down", String],
    ["downIntervals", "Down intervals", String],
    ["downGpuHours", "Down GPU-h", hours],
    ["availability", "Availability", percent2],
    ["lostGpuHours", "Lost GPU-h", hours],
    ["errorGpuHours", "Error GPU-h", hours],
    ["resetRequiredGpuHours", "Reset-required GPU-h", hours],
    ["xidGpuHours", "Xid GPU-h", hours],
    ["unreachableGpuHours", "Unreachable GPU-h", hours],
  ],
  // The lease report (by tenant): leased time, and what the tenants' GPUs did in it.
  leases: [
    ["leases", "Leases", String],
    ["gpus", "GPUs", String],
    ["leasedGpuHours", "Leased GPU-h", hours],
    ["utilizationRate", "Busy share", pct],
    ["meanUtilizationPct", "Mean utilization", pctOf],
    ["busyGpuHours", "Busy GPU-h", hours],
    ["idleHeldGpuHours", "Idle-held GPU-h", hours],
    ["downGpuHours", "Down GPU-h", hours],
    ["availabilityRate", "Availability", percent2],
    ["slaMissed", "SLAs missed", String],
    ["energyKwh", "Energy", energy],
    ["idleEnergyKwh", "Idle energy", energy],
  ],
};

const BY_TITLES = { site: "Site", model: "Model", host: "Host", customer: "Customer", tenant: "Tenant" };

/** Draws the report; `by` titles the group column, `openGpu(id)` opens a listed GPU's panel. */
export function drawReport(report, by, openGpu) {
  const columns = COLUMNS[report.kind];
  const mean = report.meanUtilizationPct;
  // The utilization report keeps mean utilization beside its rows; the lease report on them.
  const value = (row, field, isTotal) =>
    field === "meanUtilizationPct" && mean ? (isTotal ? mean.total : mean.groups[row.key]) : row[field];
  const head = el("tr");
  head.append(el("th", "", BY_TITLES[by]), ...columns.map(([, title]) => el("th", "num", title)));
  const line = (row, isTotal) => {
    const tr = el("tr", isTotal ? "total" : "");
    tr.append(el("td", "", isTotal ? "Total" : row.key || "(none)"));
    for (const [field, , format] of columns) {
      const v = value(row, field, isTotal);
      tr.append(el("td", "num", v === null || v === undefined ? "–" : format(v)));
    }
    return tr;
  };
  document
    .getElementById("r-table")
    .replaceChildren(head, ...report.groups.map((g) => line(g, false)), line(report.total, true));
  drawList(report, openGpu);
}

/** Below the table: the hottest GPUs (thermal) or every down GPU with why (downtime). */
function drawList(report, openGpu) {
  const list = document.getElementById("r-list");
  const title = document.getElementById("r-list-title");
  const gpuItem = (gpu, text) => {
    const li = el("li", "r-gpu");
    const b = el("button", "link", gpu);
    b.type = "button";
    b.addEventListener("click", () => openGpu(gpu));
    li.append(b, el("span", "", text));
    return li;
  };
  if (report.kind === "downtime") {
    title.hidden = report.down.length === 0;
    title.textContent = `GPUs down (${report.down.length}), longest first`;
    list.replaceChildren(
      ...report.down
        .slice(0, 200)
        .map((d) =>
          gpuItem(
            d.gpu,
            ` ${d.model} · down ${duration(d.downMs)} · ${d.intervals
              .map(
                (i) =>
                  `${new Date(i.fromMs).toLocaleString()} ${duration(i.toMs - i.fromMs)} ${i.kinds.join("+")}: ${i.reasons[0] ?? ""}`,
              )
              .join(" | ")}`,
          ),
        ),
    );
  } else if (report.kind === "thermal") {
    title.hidden = report.hottest.length === 0;
    title.textContent = "Hottest GPUs";
    list.replaceChildren(
      ...report.hottest.map((h) =>
        gpuItem(
          h.index === null ? h.host : `${h.host}:${h.index}`,
          ` ${h.model} · ${Math.round(h.maxTemperatureC)} °C`,
        ),
      ),
    );
  } else {
    title.hidden = true;
    list.replaceChildren();
  }
}
