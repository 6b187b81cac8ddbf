// Looking up NVIDIA's catalogue entry for an Xid code.
import { XID_CATALOGUE } from "./catalogue.js";
import type { XidAction, XidEntry } from "./types.js";

export type { XidAction, XidEntry } from "./types.js";
export { XID_ACTIONS } from "./types.js";

const BY_CODE = new Map(XID_CATALOGUE.map((entry) => [entry.code, entry]));

/** The catalogue entry, or undefined for a code NVIDIA's catalogue does not list. */
export function xidEntry(code: number): XidEntry | undefined {
  return BY_CODE.get(code);
}

/** Words for people, e.g. in `gputel xid parse`'s table. */
export const ACTION_TEXT: Record<XidAction, string> = {
  none: "none",
  "restart-app": "restart the application",
  "reset-gpu": "reset the GPU",
  reboot: "reboot the node",
  "contact-support": "contact NVIDIA support (RMA candidate)",
  "check-hardware": "check the hardware (cables, seating)",
  "update-software": "update driver/firmware",
  investigate: "investigate (NVIDIA workflow)",
  "recovery-action": "follow the GPU recovery action",
  unknown: "unknown",
};

/**
 * Whether an Xid is the hardware's and needs someone to act: not the workload's own fault, and not
 * one whose NVIDIA immediate resolution is IGNORE (action `none`: 63, a row-remapping event; 92,
 * a high single-bit ECC rate), which leaves the GPU working. Any other action (restarting the
 * application after a contained error included: the hardware broke the work) is one. The one
 * answer for the health report's hardware Xids and for whether an xid episode is down time
 * (collector/reports/down-time.ts isDown).
 */
export function isHardwareXid(x: { applicationLevel: boolean; action: string }): boolean {
  return !x.applicationLevel && x.action !== "none";
}
