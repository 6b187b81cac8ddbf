// The action an Xid event calls for, and which of NVIDIA's tables says so: for an NVLink5 Xid
// (144-150) whose line NVIDIA's "XID 144-150 Decode" sheet decodes, that row; otherwise the code's
// catalogue row. Shared by `gputel xid parse` and the collector (which judges the stored event's
// message, so the wire carries nothing more). Pure.
import { decodeNvlink5, NVLINK5_XIDS, type Nvlink5Decode, readNvlink5Fields } from "./nvlink5.js";
import type { XidAction } from "./types.js";
import { xidEntry } from "./xid.js";

export interface XidJudgement {
  action: XidAction;
  /** Which table gave the action: the decode sheet's row, the code's catalogue row, or neither. */
  basis: "nvlink5-decode" | "catalogue" | "none";
  /** Why this action, in words for the operator. */
  reason: string;
  /** For an NVLink5 Xid whose line gives the decode's fields; else null. */
  nvlink5: Nvlink5Decode | null;
}

/** Judges an Xid from its code and its detail (the line's text after the code, pid and name). */
export function judgeXid(code: number, detail: string): XidJudgement {
  const entry = xidEntry(code);
  const fields = NVLINK5_XIDS.includes(code) ? readNvlink5Fields(detail) : null;
  const nvlink5 = fields ? decodeNvlink5(code, fields) : null;
  if (nvlink5?.row)
    return { action: nvlink5.row.action, basis: "nvlink5-decode", reason: nvlink5.reason, nvlink5 };
  if (!entry)
    return { action: "unknown", basis: "none", reason: `Xid ${code} is not in NVIDIA's catalogue`, nvlink5 };
  const generic = `NVIDIA's catalogue row for Xid ${code} (${entry.immediate || "no resolution given"})`;
  const reason = nvlink5
    ? `${nvlink5.reason}; ${generic}`
    : NVLINK5_XIDS.includes(code)
      ? `the line does not print the unit, intrinfo and error status NVIDIA's XID 144-150 decode needs; ${generic}`
      : generic;
  return { action: entry.action, basis: "catalogue", reason, nvlink5 };
}
