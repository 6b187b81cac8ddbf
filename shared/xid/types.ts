// The shape of one entry of NVIDIA's Xid catalogue (shared/xid/catalogue.ts, generated) and the
// small set of actions an operator chooses between. Shared by the agent (which attaches the entry
// to each event) and the collector (which judges severity from the action).

/**
 * NVIDIA's "immediate resolution" bucket, normalised. The buckets map as:
 * IGNORE → none; RESTART_APP → restart-app; RESET_GPU → reset-gpu; RESTART_BM, RESTART_VM →
 * reboot; CONTACT_SUPPORT → contact-support (an RMA candidate); CHECK_MECHANICALS →
 * check-hardware; UPDATE_SWFW → update-software; WORKFLOW_* and CHECK_UVM → investigate (follow
 * NVIDIA's diagnostic workflow for the code); XID_154 → recovery-action (do what nvidia-smi's GPU
 * Recovery Action says); no bucket → unknown.
 */
export const XID_ACTIONS = [
  "none",
  "restart-app",
  "reset-gpu",
  "reboot",
  "contact-support",
  "check-hardware",
  "update-software",
  "investigate",
  "recovery-action",
  "unknown",
] as const;

export type XidAction = (typeof XID_ACTIONS)[number];

export interface XidEntry {
  code: number;
  /** NVIDIA's name, e.g. `ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS`. */
  mnemonic: string;
  description: string;
  /** The immediate resolution, normalised. */
  action: XidAction;
  /** The immediate resolution bucket as NVIDIA writes it (`RESTART_BM`); "" when none is given. */
  immediate: string;
  /** The investigatory resolution as NVIDIA writes it; "" when none is given. */
  investigatory: string;
  /**
   * The workload's own fault rather than the hardware's: not counted as hardware downtime, and
   * attributed to the process named in the line. The rule is in the catalogue's header.
   */
  applicationLevel: boolean;
}
