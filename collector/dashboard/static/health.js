// gputel dashboard, GPU health (issue 16): badges for fleet cells (fleet-view.js), the marks of a
// GPU's events on its charts (detail.js) and the fleet health report (app.js). A GPU's timeline
// is health-timeline.js.

/** The health badge a cell shows for its open flags, most urgent first; null when none. */
export function healthBadge(kinds) {
  if (kinds.includes("reset-required")) return { cls: "badge health reset", text: "RST" };
  if (kinds.includes("xid")) return { cls: "badge health xid", text: "XID" };
  if (kinds.includes("nvlink-degraded") || kinds.includes("pcie-degraded"))
    return { cls: "badge health link", text: "LINK" };
  return null;
}

/** A uPlot plugin drawing one vertical mark per event (hardware red, the workload's amber). */
export function eventMarks(events) {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          ctx.save();
          for (const e of events) {
            const x = u.valToPos(e.timeMs / 1000, "x", true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = e.applicationLevel ? "#f59e0b" : "#ef4444";
            ctx.lineWidth = 2;
            ctx.setLineDash([3, 3]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillStyle = ctx.strokeStyle;
            ctx.font = `${11 * devicePixelRatio}px sans-serif`;
            ctx.fillText(`Xid ${e.code}`, x + 3, u.bbox.top + 12 * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    td.textContent = String(c);
    tr.append(td);
  }
  return tr;
}

/** Fills #health-report with the fleet health report of the last 30 days. */
export async function drawHealthReport(api) {
  const root = document.getElementById("health-report");
  if (!root) return;
  let r;
  try {
    r = await api("/api/v1/reports/health?from=30d");
  } catch (error) {
    // A tenant token has no fleet health report: the section is not its to see (app.js does not
    // ask it for a tenant's page; this covers a role whoami could not tell).
    if (error.status === 403) {
      root.hidden = true;
      return;
    }
    root.querySelector(".health-summary").textContent = `health report unavailable: ${error.message}`;
    return;
  }
  root.querySelector(".health-summary").textContent =
    `${r.xid.total} Xid events in 30 days · ${r.hardwareDowntime.gpuHours} GPU-hours lost to hardware faults on ${r.hardwareDowntime.gpus} GPUs · ${r.rmaCandidates.length} RMA candidates`;
  root
    .querySelector(".health-codes")
    .replaceChildren(
      row(["Xid", "mnemonic", "action", "fault", "count"]),
      ...r.xid.byCode
        .slice(0, 12)
        .map((c) =>
          row([c.code, c.mnemonic ?? "", c.action, c.applicationLevel ? "workload" : "hardware", c.count]),
        ),
    );
  const tenants = r.tenantDowntime?.byTenant ?? [];
  root
    .querySelector(".health-tenants")
    .replaceChildren(
      ...(tenants.length === 0
        ? []
        : [
            row(["tenant", "hours down", "GPUs", "leases"]),
            ...tenants.slice(0, 20).map((t) => row([t.tenant, t.hours, t.gpus, t.leases.join(", ")])),
          ]),
    );
  root
    .querySelector(".health-rma")
    .replaceChildren(
      row(["RMA candidate", "host", "model", "why"]),
      ...r.rmaCandidates.slice(0, 20).map((c) => row([c.uuid, c.host, c.model, c.reasons.join("; ")])),
    );
}
