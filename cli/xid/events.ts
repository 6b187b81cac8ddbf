// A kernel-log dump → the rows `gputel xid parse` prints: each Xid event with NVIDIA's catalogue
// entry attached, and for an NVLink5 Xid (144-150) the row of NVIDIA's "XID 144-150 Decode" sheet
// its line selects, which then gives the action (shared/xid/judge.ts). Pure. The JSON names are
// the operator-facing contract (issue 16).
import { type LogRecord, readRecord } from "../../agent/sources/kernel-log/record.js";
import { type KernelLogEvent, parseKernelLogLine } from "../../agent/sources/kernel-log/xid-line.js";
import { judgeXid, type XidJudgement } from "../../shared/xid/judge.js";
import type { Nvlink5Severity } from "../../shared/xid/types.js";
import { type XidAction, xidEntry } from "../../shared/xid/xid.js";

/** An NVLink5 Xid's fields and the decode sheet's row they select. */
export interface Nvlink5Json {
  unit: string;
  /** The driver's word: `Fatal` or `Nonfatal`. */
  driver_severity: string;
  link: number;
  /** The hex words as `0x` and 8 digits. */
  intrinfo: string;
  error_status: string;
  /** Bits 20-25 of the interrupt info. */
  sub_code: number;
  /** null when no row of the sheet fits. */
  decoded: {
    unit: string;
    resolution: string;
    investigatory: string;
    severity: Nvlink5Severity;
    severity_text: string;
    action2: string;
    hw_sw: string;
    effect: string;
  } | null;
}

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
  /** From the decode sheet's row when one fits an NVLink5 Xid's line, else the catalogue's. */
  action: XidAction;
  /** Which table gave the action: `nvlink5-decode`, `catalogue`, or `none`. */
  action_basis: XidJudgement["basis"];
  /** Why that action, in words. */
  action_reason: string;
  /** Xids 144-150 whose line prints the decode's fields; else null. */
  nvlink5: Nvlink5Json | null;
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
    // A `journalctl -k -o json` entry (what the agent reads) is parsed by its MESSAGE and stamped
    // with the journal's clocks, as the agent reads it; read raw, the Xid kept the entry's `"}`.
    const record = readRecord(raw);
    const journal = record.form === "journal" ? record : null;
    const event: KernelLogEvent | null = parseKernelLogLine(journal ? journal.text : raw, options);
    if (event === null) return;
    if (event.kind === "sxid") {
      sxidLines += 1;
      return;
    }
    const entry = xidEntry(event.xid);
    const judged = judgeXid(event.xid, event.message);
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
      action: judged.action,
      action_basis: judged.basis,
      action_reason: judged.reason,
      nvlink5: nvlink5Json(judged),
      application_level: entry?.applicationLevel ?? null,
      time: rowTime(journal, event),
      monotonic_us: journal?.monotonicUs ?? event.monotonicUs,
      kmsg_seq: event.kmsg?.seq ?? null,
      channel: event.channel,
    });
  });
  return { rows, sxidLines };
}

/** A journal entry's wall clock (UTC), else the line's own stamp: ISO when it has a date, else as printed. */
function rowTime(journal: LogRecord | null, event: KernelLogEvent): string | null {
  if (journal !== null && journal.realtimeMs !== null) return new Date(journal.realtimeMs).toISOString();
  return event.time === null ? null : (event.time.iso ?? event.time.text);
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

function nvlink5Json(judged: XidJudgement): Nvlink5Json | null {
  if (judged.nvlink5 === null) return null;
  const { fields, row } = judged.nvlink5;
  return {
    unit: fields.unit,
    driver_severity: fields.driverSeverity,
    link: fields.link,
    intrinfo: hex(fields.intrinfo),
    error_status: hex(fields.errorStatus),
    sub_code: fields.subCode,
    decoded:
      row === null
        ? null
        : {
            unit: row.unit,
            resolution: row.resolution,
            investigatory: row.investigatory,
            severity: row.severity,
            severity_text: row.severityText,
            action2: row.action2,
            hw_sw: row.hwSw,
            effect: row.effect,
          },
  };
}
