// A kernel-log dump → the rows `gputel xid parse` prints: each Xid event with NVIDIA's catalogue
// entry attached. Pure. The JSON names are the operator-facing contract (issue 16).
import { type KernelLogEvent, parseKernelLogLine } from "../../agent/sources/kernel-log/xid-line.js";
import { type XidAction, xidEntry } from "../../shared/xid/xid.js";

export interface XidRow {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  xid: number;
  /** As printed, e.g. `0000:01:00`. */
  pci_bus_id: string;
  pid: number | null;
  process_name: string | null;
  message: string;
  /** null for a code the catalogue does not list. */
  mnemonic: string | null;
  description: string | null;
  action: XidAction;
  application_level: boolean | null;
  /** ISO 8601 when the line's stamp has a date (offset only when printed), else as printed; null without a wall-clock stamp. */
  time: string | null;
  monotonic_us: number | null;
  kmsg_seq: number | null;
  channel: string | null;
}

export interface DumpSummary {
  rows: XidRow[];
  /** NVSwitch SXid lines seen (not GPU events, so not rows). */
  sxidLines: number;
}

export function xidRows(file: string, text: string, year?: number): DumpSummary {
  const rows: XidRow[] = [];
  let sxidLines = 0;
  const options = year === undefined ? {} : { year };
  text.split(/\r?\n/).forEach((raw, i) => {
    const event: KernelLogEvent | null = parseKernelLogLine(raw, options);
    if (event === null) return;
    if (event.kind === "sxid") {
      sxidLines += 1;
      return;
    }
    const entry = xidEntry(event.xid);
    rows.push({
      file,
      line: i + 1,
      xid: event.xid,
      pci_bus_id: event.pciBusId,
      pid: event.pid,
      process_name: event.processName,
      message: event.message,
      mnemonic: entry?.mnemonic ?? null,
      description: entry?.description ?? null,
      action: entry?.action ?? "unknown",
      application_level: entry?.applicationLevel ?? null,
      time: event.time === null ? null : (event.time.iso ?? event.time.text),
      monotonic_us: event.monotonicUs,
      kmsg_seq: event.kmsg?.seq ?? null,
      channel: event.channel,
    });
  });
  return { rows, sxidLines };
}
