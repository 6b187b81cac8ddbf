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
