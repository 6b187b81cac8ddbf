// xid: a GPU logged an Xid (the driver's error report, read from the kernel log by the agent).
// Severity comes from NVIDIA's catalogue action (shared/xid/types.ts), or for an NVLink5 Xid
// (144-150) from the row of the "XID 144-150 Decode" sheet its message selects (the reason says
// which). Application-level Xids (13, 31, 43, 45 …) are the workload's fault: the flag says so and
// names the process the line names, and such a flag never counts as hardware downtime (reports use
// reset-required and lost), nor does one opened by an Xid NVIDIA says to ignore (action none:
// reports/down-time.ts isDown, shared/xid/xid.ts isHardwareXid).
// One flag per GPU while Xids keep coming; a more severe Xid closes it and opens a new one (so an
// alert escalates); it closes once the GPU logged no Xid for XID_QUIET_MS, or on acknowledgement.
// Whose fault an episode is stays what its first Xid said: reports count a hardware episode as
// down from its start to its end, so a later Xid must not rewrite that past. A hardware Xid on a
// workload's flag closes it and opens the hardware's (down from that Xid on); a workload Xid on a
// hardware flag, or one NVIDIA says to ignore (action none) on a flag whose Xid needs acting, is
// counted but changes neither its fault, code, severity nor sentence, and does not hold it open
// (the time after the last Xid that takes the GPU down is not down time).
import { judgeXid } from "../../../shared/xid/judge.js";
import { NVLINK5_XIDS } from "../../../shared/xid/nvlink5.js";
import type { XidAction } from "../../../shared/xid/types.js";
import { isHardwareXid, xidEntry } from "../../../shared/xid/xid.js";
import type { ValidEvent } from "../../ingest/validate-event.js";
import type { Flag, FlagValues, NewFlag, Severity } from "../types.js";

/** An xid flag closes this long after its GPU's last Xid (collector clock). */
export const XID_QUIET_MS = 15 * 60_000;

const CRITICAL: ReadonlySet<XidAction> = new Set([
  "reset-gpu",
  "reboot",
  "contact-support",
  "check-hardware",
]);
const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function xidSeverity(action: XidAction): Severity {
  if (action === "none") return "info";
  return CRITICAL.has(action) ? "critical" : "warning";
}

/** The flag an Xid opens (host, GPU and labels are the caller's). */
export function xidFlagFields(
  e: ValidEvent,
): Pick<NewFlag, "kind" | "severity" | "startMs" | "reason" | "values"> {
  const entry = xidEntry(e.code);
  const name = entry ? `${entry.mnemonic}: ${entry.description}` : "not in NVIDIA's catalogue";
  const who = e.processName ? ` (process ${e.processName}${e.pid !== null ? `, pid ${e.pid}` : ""})` : "";
  const judged = judgeXid(e.code, e.message);
  const basis = NVLINK5_XIDS.includes(e.code) ? ` (${judged.reason})` : "";
  const reason = e.applicationLevel
    ? `Xid ${e.code} (${name}) on ${e.pciBusId}: the workload's fault${who}, not the hardware's; action: ${e.action}${basis}`
    : `Xid ${e.code} (${name}) on ${e.pciBusId}${who}; action: ${e.action}${basis}`;
  return { kind: "xid", severity: xidSeverity(e.action), startMs: e.timeMs, reason, values: xidValues(e, 1) };
}

export function xidValues(e: ValidEvent, count: number): FlagValues {
  return {
    code: e.code,
    mnemonic: xidEntry(e.code)?.mnemonic ?? null,
    action: e.action,
    fault: faultOf(e),
    pid: e.pid,
    process: e.processName,
    pci_bus_id: e.pciBusId,
    message: e.message.slice(0, 256),
    count,
    last_ms: e.timeMs,
  };
}

/** Whose fault an Xid (or the xid flag it opened) is. */
export type XidFault = "hardware" | "workload";

const faultOf = (e: ValidEvent): XidFault => (e.applicationLevel ? "workload" : "hardware");

/**
 * What an Xid does to the GPU's open xid flag: open one; escalate (close it at the Xid and open
 * another: a more severe Xid of the same fault, or the hardware's after the workload's); update it
 * (an Xid of the same fault, no more severe: counted, and the flag's quiet spell starts again); or
 * count it (the workload's on a hardware flag, or one NVIDIA says to ignore on a flag whose Xid
 * needs acting: counted only).
 */
export function xidDecision(open: Flag | undefined, e: ValidEvent): "open" | "escalate" | "update" | "count" {
  if (!open) return "open";
  const fault = faultOf(e);
  if (open.values.fault !== fault) return fault === "hardware" ? "escalate" : "count";
  // One NVIDIA says to ignore, on a flag whose Xid needs acting (down time: isHardwareXid), is
  // counted as a workload's is: it must not stretch the episode's down time to itself.
  if (!isHardwareXid(e) && isHardwareXid({ applicationLevel: false, action: String(open.values.action) }))
    return "count";
  return RANK[xidSeverity(e.action)] > RANK[open.severity] ? "escalate" : "update";
}

/**
 * The values an Xid counted on the open flag changes: the count, the latest Xid's code, time and
 * line (its pid, process and message). What the flag was opened for (code, mnemonic, action,
 * fault) stays, as its severity and sentence do.
 */
export function xidCountValues(open: Flag, e: ValidEvent): FlagValues {
  const {
    code: _code,
    mnemonic: _mnemonic,
    action: _action,
    fault: _fault,
    ...latest
  } = xidValues(e, Number(open.values.count ?? 1) + 1);
  return { ...latest, last_code: e.code };
}
