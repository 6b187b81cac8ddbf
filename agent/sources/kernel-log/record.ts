// One line of what the kernel-log reader prints → the driver's text and where it sits in the
// kernel's log: a raw /dev/kmsg record (`prio,seq,usec,flags;text`: sequence and boot time in the
// record), a `journalctl -o json` entry (MESSAGE, _BOOT_ID, the journal's sequence number, its
// wall-clock and monotonic stamps), or any other text line (a dmesg dump, a syslog file: no
// position, so it cannot be resumed). Pure and total: it never throws.
import { readKmsgHeader } from "./line-prefix.js";

export type RecordForm = "kmsg" | "journal" | "file";

export interface LogRecord {
  form: RecordForm;
  /** What the parser reads: the whole kmsg record or text line, the journal entry's MESSAGE. */
  text: string;
  /** The kernel's boot id (dashed, lower case) where the record names it (journal). */
  bootId: string | null;
  /** kmsg sequence number, or the journal's sequence number; null for plain text. */
  seq: number | null;
  /** Wall clock the journal recorded (ms since the epoch). */
  realtimeMs: number | null;
  /** Microseconds since boot (kmsg usec, journal __MONOTONIC_TIMESTAMP). */
  monotonicUs: number | null;
}

/** `0123…cdef` (journal) or `0123…-…` (/proc) → the dashed lower-case form; null if neither. */
export function normaliseBootId(id: string): string | null {
  const hex = id.trim().toLowerCase().replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const int = (value: unknown): number | null =>
  typeof value === "string" && /^\d{1,20}$/.test(value) ? Number(value) : null;

/** The journal's sequence number: `__SEQNUM` (systemd ≥ 254), else the cursor's `i=` (hex). */
function journalSeq(entry: Record<string, unknown>): number | null {
  const seqnum = int(entry.__SEQNUM);
  if (seqnum !== null) return seqnum;
  const cursor = typeof entry.__CURSOR === "string" ? entry.__CURSOR : "";
  const i = /(?:^|;)i=([0-9a-fA-F]{1,16})(?:;|$)/.exec(cursor);
  return i ? Number.parseInt(i[1] ?? "", 16) : null;
}

/** MESSAGE is a string, or an array of bytes when it is not valid UTF-8. */
function journalMessage(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((b) => typeof b === "number"))
    return Buffer.from(value as number[]).toString("utf8");
  return null;
}

function journalRecord(line: string): LogRecord | null {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return null;
  const e = entry as Record<string, unknown>;
  const text = journalMessage(e.MESSAGE);
  if (text === null) return null;
  const realtimeUs = int(e.__REALTIME_TIMESTAMP);
  return {
    form: "journal",
    text,
    bootId: typeof e._BOOT_ID === "string" ? normaliseBootId(e._BOOT_ID) : null,
    seq: journalSeq(e),
    realtimeMs: realtimeUs === null ? null : Math.floor(realtimeUs / 1000),
    monotonicUs: int(e.__MONOTONIC_TIMESTAMP),
  };
}

export function readRecord(line: string): LogRecord {
  if (line.startsWith("{")) {
    const journal = journalRecord(line);
    if (journal) return journal;
  }
  const kmsg = readKmsgHeader(line);
  if (kmsg)
    return {
      form: "kmsg",
      text: line,
      bootId: null,
      seq: kmsg.seq,
      realtimeMs: null,
      monotonicUs: kmsg.usec,
    };
  return { form: "file", text: line, bootId: null, seq: null, realtimeMs: null, monotonicUs: null };
}
