// One kernel-log line (any of the formats in test/fixtures/kernel-log/README.md) → an Xid event,
// an SXid event, or null. Pure and total: it never throws, whatever the text.
//
// The driver prints `NVRM: Xid (PCI:<domain>:<bus>:<device>): <code>, <detail>`; drivers before
// ~R340 print `NVRM: Xid (<domain>:<bus>:<device>): <code>, <detail>` (no `PCI:`). Since ~R450 the
// detail starts with `pid=<n|'<unknown>'>, name=<comm|<unknown>>, ` (some paths print only
// `pid=N, `). Continuation lines (`NVRM: GPU at PCI:…`, RPC history tables, stack traces) do not
// carry the `Xid (` marker, so they never become events. NVLink5 Xids (144-150) print their unit,
// link and two hex words in the detail: read into `nvlink5` (shared/xid/nvlink5.ts). NVSwitch
// errors are `nvidia-nvswitchN: SXid (PCI:…): <code>, <detail>`: a switch, not a GPU, so a kind of
// their own.
import { NVLINK5_XIDS, type Nvlink5Fields, readNvlink5Fields } from "../../../shared/xid/nvlink5.js";
import { type KmsgHeader, readKmsgHeader, readPrefixTimes, type WallTime } from "./line-prefix.js";

/** Where a line came from in the kernel's ring buffer (raw /dev/kmsg records only). */
export interface KmsgPosition {
  seq: number;
  priority: number;
}

interface LineEventBase {
  /** PCI bus id as printed, without `PCI:` (`0000:01:00`, `0000:aa:00.0`). */
  pciBusId: string;
  /** The driver's text after the code (and after pid/name), e.g. `GPU has fallen off the bus.`. */
  message: string;
  /** Wall-clock time when the line carries one (dmesg -T/iso, journal/syslog, Talos). */
  time: WallTime | null;
  /** Microseconds since boot: the kmsg record's usec, or dmesg's `[seconds]` stamp. */
  monotonicUs: number | null;
  /** Set for raw /dev/kmsg records. */
  kmsg: KmsgPosition | null;
}

export interface XidLineEvent extends LineEventBase {
  kind: "xid";
  xid: number;
  /** null when the line gives none or `'<unknown>'`. */
  pid: number | null;
  /** The process's comm (at most 15 characters); null when absent or `<unknown>`. */
  processName: string | null;
  /** The channel as printed (`00000008`, `0x23`), when the detail names one. */
  channel: string | null;
  /**
   * An NVLink5 Xid's (144-150) unit, link, interrupt info and error status, what NVIDIA's
   * "XID 144-150 Decode" sheet needs (shared/xid/nvlink5.ts); null for other Xids or another shape.
   */
  nvlink5: Nvlink5Fields | null;
}

export interface SxidLineEvent extends LineEventBase {
  kind: "sxid";
  sxid: number;
  /** `nvidia-nvswitch1`. */
  device: string;
}

export type KernelLogEvent = XidLineEvent | SxidLineEvent;

export interface ParseLineOptions {
  /** Completes journal/syslog stamps (`Dec  2 11:38:27`), which print no year. */
  year?: number;
}

const BUS = "[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(?:\\.[0-7])?";
const XID = new RegExp(`^NVRM: Xid \\((?:PCI:)?(${BUS})\\): (\\d{1,5}),\\s?(.*)$`, "s");
const SXID = new RegExp(`^(nvidia-nvswitch\\d*): SXid \\((?:PCI:)?(${BUS})\\): (\\d{1,6}),\\s?(.*)$`, "s");
const PID_NAME = /^pid=(?:'<unknown>'|<unknown>|(\d{1,10})),\s?(?:name=([^,]*),\s?)?/;
const CHANNEL = /\b(?:Ch|Channel|channel) (0x[0-9a-fA-F]+|[0-9a-fA-F]{8})\b/;

/** Parses one line; null for anything that is not an Xid or SXid line. Never throws. */
export function parseKernelLogLine(line: string, options: ParseLineOptions = {}): KernelLogEvent | null {
  // Fast path: almost every kernel line lacks the marker.
  const marker = line.indexOf("Xid (");
  if (marker < 0) return null;
  const kmsg = readKmsgHeader(line);
  // A /dev/kmsg continuation record (` KEY=value` dictionary lines) starts with a space: no header.
  const body = kmsg ? kmsg.message : line;
  const start = body.indexOf("NVRM: Xid (");
  if (start >= 0) return fromUserSpace(body, start) ? null : xidEvent(body, start, kmsg, options);
  const sx = /nvidia-nvswitch\d*: SXid \(/.exec(body);
  if (sx) return fromUserSpace(body, sx.index) ? null : sxidEvent(body, sx.index, kmsg, options);
  return null;
}

// In a syslog file, a program quoting the driver (`host gpud[812]: NVRM: Xid …`, a health agent
// relaying what it read) is not the kernel; the kernel's lines carry `kernel:` and no [pid].
const USER_IDENT = /\S\[\d+\]:\s*$/;

function fromUserSpace(body: string, start: number): boolean {
  return USER_IDENT.test(body.slice(0, start));
}

function common(body: string, start: number, kmsg: KmsgHeader | null, options: ParseLineOptions) {
  const times = readPrefixTimes(body.slice(0, start), options.year);
  return {
    time: times.time,
    monotonicUs: kmsg ? kmsg.usec : times.monotonicUs,
    kmsg: kmsg ? { seq: kmsg.seq, priority: kmsg.priority } : null,
  };
}

function xidEvent(
  body: string,
  start: number,
  kmsg: KmsgHeader | null,
  options: ParseLineOptions,
): XidLineEvent | null {
  const m = XID.exec(body.slice(start).trimEnd());
  if (!m) return null;
  let detail = m[3] ?? "";
  let pid: number | null = null;
  let processName: string | null = null;
  const pn = PID_NAME.exec(detail);
  if (pn) {
    pid = pn[1] === undefined ? null : Number(pn[1]);
    const name = pn[2]?.trim();
    processName = name === undefined || name === "" || name === "<unknown>" ? null : name;
    detail = detail.slice(pn[0].length);
  }
  const xid = Number(m[2]);
  return {
    kind: "xid",
    xid,
    pciBusId: m[1] ?? "",
    pid,
    processName,
    channel: CHANNEL.exec(detail)?.[1] ?? null,
    nvlink5: NVLINK5_XIDS.includes(xid) ? readNvlink5Fields(detail) : null,
    message: detail.trim(),
    ...common(body, start, kmsg, options),
  };
}

function sxidEvent(
  body: string,
  start: number,
  kmsg: KmsgHeader | null,
  options: ParseLineOptions,
): SxidLineEvent | null {
  const m = SXID.exec(body.slice(start).trimEnd());
  if (!m) return null;
  return {
    kind: "sxid",
    device: m[1] ?? "",
    pciBusId: m[2] ?? "",
    sxid: Number(m[3]),
    message: (m[4] ?? "").trim(),
    ...common(body, start, kmsg, options),
  };
}

/** Every event in a dump (one line each; `\r\n` and a missing final newline are fine). */
export function parseKernelLog(text: string, options: ParseLineOptions = {}): KernelLogEvent[] {
  const events: KernelLogEvent[] = [];
  for (const line of text.split(/\r?\n/)) {
    const event = parseKernelLogLine(line, options);
    if (event) events.push(event);
  }
  return events;
}
