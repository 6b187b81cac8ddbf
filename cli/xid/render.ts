// `gputel xid parse`'s table for people: one row per event, the action coloured by how much it
// costs (hardware action red, restart the application yellow, nothing grey).
import { ACTION_TEXT, type XidAction } from "../../shared/xid/xid.js";
import { type Cell, type Colour, type Style, table } from "../query/table.js";
import type { XidRow } from "./events.js";

const ACTION_COLOUR: Record<XidAction, Colour | undefined> = {
  none: "grey",
  "restart-app": "yellow",
  "reset-gpu": "red",
  reboot: "red",
  "contact-support": "red",
  "check-hardware": "red",
  "update-software": "yellow",
  investigate: "magenta",
  "recovery-action": "red",
  unknown: undefined,
};

const MESSAGE_WIDTH = 72;

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

export function renderRows(rows: readonly XidRow[], withFile: boolean, style: Style): string {
  if (rows.length === 0) return "";
  const header = [
    ...(withFile ? ["FILE:LINE"] : ["LINE"]),
    "TIME",
    "PCI BUS ID",
    "XID",
    "MNEMONIC",
    "PID",
    "PROCESS",
    "FAULT",
    "ACTION",
    "MESSAGE",
  ];
  const body = rows.map((r): Cell[] => [
    { text: withFile ? `${r.file}:${r.line}` : String(r.line), right: !withFile },
    { text: r.time ?? "–" },
    { text: r.pci_bus_id },
    { text: String(r.xid), right: true },
    { text: r.mnemonic ?? "(not in catalogue)" },
    { text: r.pid === null ? "–" : String(r.pid), right: true },
    { text: r.process_name ?? "–" },
    { text: r.application_level === null ? "–" : r.application_level ? "application" : "hardware" },
    { text: ACTION_TEXT[r.action], colour: ACTION_COLOUR[r.action] },
    { text: clip(r.message, MESSAGE_WIDTH) },
  ]);
  return table(style, header, body);
}
