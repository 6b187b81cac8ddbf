// Scenario `xid:` entries (per GPU: an Xid at time T) and the kernel-log lines they become, in the
// real driver's format (test/fixtures/kernel-log/): `NVRM: Xid (PCI:0000:18:00): 79, pid=…,
// name=…, <message>`, preceded once per GPU by the `NVRM: GPU at PCI:…: GPU-<uuid>` line the
// driver prints before a GPU's first Xid. Printed as raw /dev/kmsg records or as `journalctl -k`
// lines. Pure.
import type { Checker } from "./scenario-checker.js";
import type { HostSpec } from "./scenario-schema.js";
import { busIdFor, uuidFor } from "./scenario-state.js";

export interface XidSpec {
  atS: number;
  code: number;
  pid?: number | undefined;
  name?: string | undefined;
  message?: string | undefined;
}

// Messages the driver prints for the common codes (from the fixtures), so a scenario needs no text.
const MESSAGES: Record<number, string> = {
  13: "Graphics SM Warp Exception on (GPC 0, TPC 0, SM 0): Out Of Range Address",
  31: "Ch 00000023, intr 00000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ 0x7f2a_00000000. Fault is of type FAULT_PDE ACCESS_TYPE_VIRT_READ",
  43: "Ch 00000008",
  45: "Ch 00000008",
  48: "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at physAddr 0x12bac1c3e0 partition 2, subpartition 1.",
  63: "Row Remapper: New row (0x00000012bac1c3e0) marked for remapping, reset gpu to activate.",
  79: "GPU has fallen off the bus.",
  94: "Contained: SM (0x1). RST: No, D-RST: No",
  119: "Timeout after 6s of waiting for RPC response from GPU0 GSP! Expected function 76 (GSP_RM_CONTROL) (0x20801813 0x4c).",
};

/** Validates a GPU's `xid:` list: `[{ at: 90s, code: 79, pid?, name?, message? }]`. */
export function checkXid(c: Checker, value: unknown, path: string): XidSpec[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return c.fail(path, "expected a list of { at, code, pid, name, message }") ?? [];
  return value.flatMap((item, i) => {
    const p = `${path}[${i}]`;
    const o = c.object(item, p, ["at", "code", "pid", "name", "message"]);
    if (o === undefined) return [];
    const atS = c.seconds(o.at, `${p}.at`);
    const code = c.number(o.code, `${p}.code`, 1, 65535);
    if (code !== undefined && !Number.isInteger(code)) c.fail(`${p}.code`, "expected an integer");
    const pid = o.pid === undefined ? undefined : c.number(o.pid, `${p}.pid`, 0, 2 ** 31);
    const name = o.name === undefined ? undefined : c.string(o.name, `${p}.name`);
    if (name !== undefined && (name.length > 15 || name.includes(",")))
      c.fail(`${p}.name`, "a process comm has at most 15 characters and no comma");
    const message = o.message === undefined ? undefined : c.string(o.message, `${p}.message`);
    if (atS === undefined || code === undefined) return [];
    return [{ atS, code, pid, name, message }];
  });
}

export type KmsgFormat = "kmsg" | "journal" | "json";

export interface TimedLine {
  atS: number;
  text: string;
}

/** `00000000:18:00.0` (nvidia-smi) → `0000:18:00` (the kernel log's spelling). */
export function kernelBusId(smiBusId: string): string {
  const [domain = "", bus = "", deviceFunction = ""] = smiBusId.split(":");
  return `${domain.slice(-4)}:${bus.toLowerCase()}:${deviceFunction.split(".")[0] ?? ""}`;
}

/** The driver's messages for one host, in time order (ties: GPU order). */
export function xidMessages(host: HostSpec): TimedLine[] {
  const lines: (TimedLine & { gpu: number })[] = [];
  host.gpus.forEach((gpu, index) => {
    const bus = `PCI:${kernelBusId(busIdFor(index))}`;
    const events = [...(gpu.xid ?? [])].sort((a, b) => a.atS - b.atS);
    events.forEach((x, k) => {
      if (k === 0)
        lines.push({ atS: x.atS, gpu: index, text: `NVRM: GPU at ${bus}: ${uuidFor(host.name, index)}` });
      const who =
        x.pid === undefined
          ? "pid='<unknown>', name=<unknown>"
          : `pid=${x.pid}, name=${x.name ?? "<unknown>"}`;
      const message = x.message ?? MESSAGES[x.code] ?? "Ch 00000001";
      lines.push({ atS: x.atS, gpu: index, text: `NVRM: Xid (${bus}): ${x.code}, ${who}, ${message}` });
    });
  });
  // A stable sort keeps each GPU's header before its Xid at the same time.
  return lines.sort((a, b) => a.atS - b.atS).map(({ atS, text }) => ({ atS, text }));
}

// The mock host booted this long before the scenario's time zero (kmsg usec counts from boot).
const UPTIME_AT_EPOCH_S = 120;
const FIRST_SEQ = 1000;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** One driver message as the chosen reader prints it: the `n`-th record since the mock's boot. */
export function formatLine(
  format: KmsgFormat,
  line: TimedLine,
  n: number,
  host: string,
  epochMs: number,
  bootId = "00000000-0000-0000-0000-000000000000",
): string {
  if (format === "kmsg") {
    // Priority 4: KERN_WARNING, the level the driver logs Xids at (`kern  :warn  :` in the fixtures).
    const usec = Math.round((UPTIME_AT_EPOCH_S + line.atS) * 1e6);
    return `4,${FIRST_SEQ + n},${usec},-;${line.text}`;
  }
  if (format === "json") {
    // `journalctl -k -o json`: one object per entry; the boot id is the machine's own (the agent
    // reads only its running boot's entries), the journal's sequence number is the record's.
    const seq = FIRST_SEQ + n;
    const realtimeUs = Math.round((epochMs + line.atS * 1000) * 1000);
    return JSON.stringify({
      __CURSOR: `s=6d6f636b6b6d7367;i=${seq.toString(16)};b=${bootId.replace(/-/g, "")};m=${Math.round((UPTIME_AT_EPOCH_S + line.atS) * 1e6).toString(16)};t=${realtimeUs.toString(16)};x=0`,
      __REALTIME_TIMESTAMP: String(realtimeUs),
      __MONOTONIC_TIMESTAMP: String(Math.round((UPTIME_AT_EPOCH_S + line.atS) * 1e6)),
      __SEQNUM: String(seq),
      _BOOT_ID: bootId.replace(/-/g, ""),
      _TRANSPORT: "kernel",
      PRIORITY: "4",
      SYSLOG_FACILITY: "0",
      SYSLOG_IDENTIFIER: "kernel",
      _HOSTNAME: host,
      MESSAGE: line.text,
    });
  }
  // journalctl's default short format, local time as journalctl prints it.
  const d = new Date(epochMs + line.atS * 1000);
  const two = (v: number) => String(v).padStart(2, "0");
  const stamp = `${MONTHS[d.getMonth()]} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return `${stamp} ${host} kernel: ${line.text}`;
}
