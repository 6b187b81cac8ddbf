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

/** NVIDIA's severity of an NVLink5 error (sheet "XID 144-150 Decode"), footnote marks dropped. */
export type Nvlink5Severity = "fatal" | "link-fatal" | "non-fatal";

/**
 * One row of NVIDIA's "XID 144-150 Decode" sheet (shared/xid/nvlink5-decode.ts, generated): an
 * NVLink5 Xid's unit, interrupt-info bit pattern and error status, and what to do about it.
 */
export interface Nvlink5DecodeRow {
  xid: number;
  /** The unit as NVIDIA names it; alternative names are joined by `/` (`NETIR_LINK_EVT/NETIR_LINK_DOWN`). */
  unit: string;
  /**
   * The interrupt info (the line's first hex word) as 32 characters, bit 31 first: `0` and `1`
   * must match, `-` is any. NVIDIA gives two layouts (v1, v2); either selects the row.
   */
  intrinfoV1: string;
  intrinfoV2: string;
  /** The error status (the line's second hex word), matched exactly. */
  errorStatus: number;
  /** The resolution, normalised: IGNORE: none, RESET_GPU: reset-gpu, XID_154_EVAL: recovery-action. */
  action: XidAction;
  /** The resolution as NVIDIA writes it (`RESET_GPU`). */
  resolution: string;
  /** The investigatory action as NVIDIA writes it (`INVESTIGATE_PEER_DEVICE`). */
  investigatory: string;
  severity: Nvlink5Severity;
  /** As NVIDIA writes it, footnote marks included (`Fatal**`, `Link Fatal?`, `Non-fatal*`). */
  severityText: string;
  /** NVIDIA's second action (`RESET_GPU` on the `Non-fatal*` rows); "" when none. */
  action2: string;
  /** Where the fault lies as NVIDIA writes it: `HW`, `SW`, `HW/SW`, `FW`, `NA`. */
  hwSw: string;
  /** The local and remote effect as NVIDIA writes it (`Local: Xid 48, AppCrash (Xid 45); | Remote: …`). */
  effect: string;
}
