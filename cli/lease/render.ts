// Tables for `gputel lease list|show`: times in UTC to the minute, money with its currency.
import type { LeaseView } from "../../collector/leases/model.js";
import { type Style, table } from "../query/table.js";

const minute = (iso: string | null) => (iso === null ? "open" : `${iso.slice(0, 16).replace("T", " ")}Z`);
const price = (l: LeaseView) => (l.pricePerGpuHour === null ? "–" : `${l.pricePerGpuHour} ${l.currency}/h`);
const sla = (l: LeaseView) => (l.committedAvailabilityPct === null ? "–" : `${l.committedAvailabilityPct} %`);

export function renderLeases(leases: readonly LeaseView[], style: Style): string {
  if (leases.length === 0) return "No leases.\n";
  return table(
    style,
    ["ID", "DEVICE", "TENANT", "START", "END", "STATE", "PRICE", "SLA", "CONTRACT"],
    leases.map((l) => [
      { text: l.id },
      { text: l.device },
      { text: l.tenant },
      { text: minute(l.start) },
      { text: minute(l.end) },
      { text: l.state, colour: l.state === "active" ? "green" : l.state === "scheduled" ? "cyan" : "grey" },
      { text: price(l), right: true },
      { text: sla(l), right: true },
      { text: l.contract ?? "–" },
    ]),
  );
}

export interface HistoryView {
  at: string;
  actor: string;
  action: string;
}

export function renderLease(l: LeaseView & { history?: HistoryView[] }, style: Style): string {
  const rows: [string, string][] = [
    ["id", l.id],
    ["device", l.device === l.gpu ? l.device : `${l.device} (on ${l.gpu})`],
    ["tenant", l.tenant],
    ["start", minute(l.start)],
    ["end", minute(l.end)],
    ["state", l.state],
    ["price", price(l)],
    ["committed availability", sla(l)],
    ["contract", l.contract ?? "–"],
    [
      "labels",
      Object.entries(l.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ") || "–",
    ],
    ["source", l.source],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const head = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
  const history = l.history ?? [];
  if (history.length === 0) return `${head}\n`;
  return `${head}\n\nHistory:\n${table(
    style,
    ["WHEN", "WHO", "WHAT"],
    history.map((h) => [{ text: minute(h.at) }, { text: h.actor }, { text: h.action }]),
  )}`;
}
