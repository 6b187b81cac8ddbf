// What a kernel-log line says before the driver's own text: the raw /dev/kmsg record header
// (`prio,seq,usec,flags;`), and the times the tools in front of the kernel add: `dmesg`'s
// `[  219.470994]` (seconds since boot), `dmesg -T`'s `[Sun Feb 23 16:24:18 2025]`, `dmesg
// --time-format=iso` / Talos's RFC 3339 stamps, and the journal/syslog `Dec  2 11:38:27 host kernel:`.
// Pure: every function takes text and returns plain data.

/** A wall-clock time as the line printed it. */
export interface WallTime {
  /** The stamp as printed, e.g. `Dec  2 11:38:27` or `2024-11-15T05:39:15,491363+00:00`. */
  text: string;
  /**
   * ISO 8601 (`2024-11-15T05:39:15.491363+00:00`, `2025-02-23T16:24:18`): with an offset when the
   * line gives one, without when the line's time is local (dmesg -T, syslog). null when the stamp
   * has no year (syslog) and no year was supplied.
   */
  iso: string | null;
}

export interface KmsgHeader {
  /** Syslog priority: facility * 8 + level. */
  priority: number;
  /** The kernel's record sequence number (resets at boot). */
  seq: number;
  /** Microseconds since boot (CLOCK_MONOTONIC). */
  usec: number;
  /** The record's text (everything after the first `;`). */
  message: string;
}

export interface PrefixTimes {
  time: WallTime | null;
  /** Microseconds since boot, from a dmesg `[seconds.micros]` stamp. */
  monotonicUs: number | null;
}

// `prio,seq,usec,flags[,more fields];message` (Documentation/ABI/testing/dev-kmsg). Flags are `-`
// or `c` (a continuation record); more comma-separated fields may follow in newer kernels.
const KMSG = /^(\d{1,4}),(\d{1,20}),(\d{1,20}),[^;,]*(?:,[^;]*)?;/;

/** The /dev/kmsg header of a raw record, or null when the line is not one. */
export function readKmsgHeader(line: string): KmsgHeader | null {
  const m = KMSG.exec(line);
  if (!m) return null;
  return {
    priority: Number(m[1]),
    seq: Number(m[2]),
    usec: Number(m[3]),
    message: line.slice(m[0].length),
  };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number | string) => String(n).padStart(2, "0");

// dmesg --time-format=iso writes a comma before the fraction and `+00:00`; Talos and
// journalctl -o short-iso write RFC 3339 with a dot, `Z` or an offset.
const ISO = /(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?/;
const CTIME = /\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}:\d{2}:\d{2}) (\d{4})\]/;
// `journalctl -o short-precise` adds microseconds to the journal's syslog-style stamp.
const SYSLOG = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?) /;
const UPTIME = /\[\s*(\d{1,10})\.(\d{6})\]/;

function monthNumber(name: string | undefined): number {
  return MONTHS.indexOf(name ?? "") + 1;
}

function readWallTime(prefix: string, year: number | undefined): WallTime | null {
  const iso = ISO.exec(prefix);
  if (iso) {
    const fraction = iso[3] === undefined ? "" : `.${iso[3]}`;
    const zone = iso[4] ?? "";
    return { text: iso[0], iso: `${iso[1]}T${iso[2]}${fraction}${zone}` };
  }
  const ctime = CTIME.exec(prefix);
  if (ctime) {
    const month = monthNumber(ctime[1]);
    if (month > 0) {
      return {
        text: ctime[0].slice(1, -1),
        iso: `${ctime[4]}-${two(month)}-${two(ctime[2] ?? "")}T${ctime[3]}`,
      };
    }
  }
  const syslog = SYSLOG.exec(prefix);
  if (syslog) {
    const month = monthNumber(syslog[1]);
    if (month > 0) {
      const text = syslog[0].trimEnd();
      const iso = year === undefined ? null : `${year}-${two(month)}-${two(syslog[2] ?? "")}T${syslog[3]}`;
      return { text, iso };
    }
  }
  return null;
}

/**
 * The times in the text in front of the driver's message. `year` completes syslog stamps, which
 * print none.
 */
export function readPrefixTimes(prefix: string, year?: number): PrefixTimes {
  const uptime = UPTIME.exec(prefix);
  return {
    time: readWallTime(prefix, year),
    monotonicUs: uptime ? Number(uptime[1]) * 1_000_000 + Number(uptime[2]) : null,
  };
}
