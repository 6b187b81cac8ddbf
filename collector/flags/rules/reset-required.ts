// reset-required: the GPU needs a reset or reboot before it can be trusted. Opened by a reset-class
// Xid (catalogue action reset-gpu or reboot; Xid 154 when its line says a reset or reboot is
// required), by a GPU recovery action other than none (nvidia-smi), or by remapped rows pending.
// Closed ONLY on evidence, each cause by its own: the recovery action seen back at none, remapped
// rows seen no longer pending, the GPU seen healthy after its host rebooted (a frame from a new
// agent boot whose host boot time is after the Xid), or an operator's acknowledgement. Never by a
// timer and never by missing data: an absent value changes nothing.
//
// The rule's state is the open flag's values (persisted with the flag), so a restart continues it.
import { GpuState, type IGpuSample, type IHostSample } from "../../../shared/proto.js";
import type { ValidEvent } from "../../ingest/validate-event.js";
import type { Flag, FlagValues } from "../types.js";
import { present } from "./rule.js";

export type ResetCause = "xid" | "recovery" | "remap";

export const RECOVERY_ACTION_TEXT: Record<number, string> = {
  0: "none",
  1: "GPU reset",
  2: "node reboot",
  3: "drain P2P",
  4: "drain and reset",
  9: "other",
};

/** Whether an Xid asks for a reset or reboot. */
export function isResetClass(e: ValidEvent): boolean {
  if (e.kind !== "xid") return false;
  if (e.action === "reset-gpu" || e.action === "reboot") return true;
  return e.action === "recovery-action" && /reset required|reboot required|drain/i.test(e.message);
}

export function causesOf(flag: Flag | undefined): Set<ResetCause> {
  const raw = flag?.values.causes;
  return new Set(
    typeof raw === "string" && raw !== "" ? (raw.split(",") as ResetCause[]) : ([] as ResetCause[]),
  );
}

export interface ResetChange {
  /** Causes after this input. */
  causes: Set<ResetCause>;
  /** Values to merge into the flag. */
  values: FlagValues;
  /** Sentences for the added or cleared causes. */
  said: string[];
}

/** An Xid: adds the xid cause (with the agent boot it happened under, for the reboot evidence). */
export function resetOnXid(
  flag: Flag | undefined,
  e: ValidEvent,
  agentBootId: string,
): ResetChange | undefined {
  if (!isResetClass(e)) return undefined;
  const causes = causesOf(flag);
  causes.add("xid");
  return {
    causes,
    values: {
      causes: [...causes].join(","),
      xid_code: e.code,
      xid_time_ms: Math.max(e.timeMs, Number(flag?.values.xid_time_ms ?? 0)),
      agent_boot_id: agentBootId,
    },
    said: [`Xid ${e.code} on ${e.pciBusId} asks for: ${e.action}`],
  };
}

export interface ResetSample {
  sample: IGpuSample;
  t: number;
  agentBootId: string;
  hostSample: IHostSample | null | undefined;
}

/** A sample: adds or clears the metric causes, and clears the Xid cause on reboot evidence. */
export function resetOnSample(flag: Flag | undefined, input: ResetSample): ResetChange | undefined {
  const { sample, t } = input;
  // The common case, on every sample of every GPU: nothing open and nothing asking for a reset.
  if (
    !flag &&
    !(present(sample.gpu_recovery_action) && sample.gpu_recovery_action !== 0) &&
    sample.remapped_rows_pending !== true
  )
    return undefined;
  const causes = causesOf(flag);
  const before = causes.size;
  const values: FlagValues = {};
  const said: string[] = [];
  let changed = false;
  const action = sample.gpu_recovery_action;
  if (present(action)) {
    if (action !== 0 && !causes.has("recovery")) {
      causes.add("recovery");
      said.push(`GPU recovery action: ${RECOVERY_ACTION_TEXT[action] ?? action}`);
      changed = true;
    } else if (action === 0 && causes.has("recovery")) {
      causes.delete("recovery");
      said.push("GPU recovery action back to none");
      // The recovery action is what the driver asks after the Xid (154): none again answers it.
      if (causes.delete("xid")) said.push("the Xid's recovery is done");
      changed = true;
    }
    if (action !== 0) values.recovery_action = action;
  }
  const pending = sample.remapped_rows_pending;
  if (present(pending)) {
    if (pending && !causes.has("remap")) {
      causes.add("remap");
      said.push("remapped rows pending a GPU reset");
      changed = true;
    } else if (!pending && causes.has("remap")) {
      causes.delete("remap");
      said.push("remapped rows no longer pending");
      changed = true;
    }
  }
  if (causes.has("xid") && flag && rebootedSince(flag, input)) {
    causes.delete("xid");
    said.push("GPU healthy after the host rebooted");
    changed = true;
  }
  if (!changed) return undefined;
  values.causes = [...causes].join(",");
  if (before === 0 && causes.size > 0) values.opened_ms = t;
  return { causes, values, said };
}

/**
 * Evidence of a reboot since the Xid: a new agent boot, a host boot time (the frame's time less the
 * host's uptime) after the Xid, and the GPU read normally. Missing uptime is no evidence.
 */
function rebootedSince(flag: Flag, input: ResetSample): boolean {
  const uptime = input.hostSample?.uptime_seconds;
  if (!present(uptime) || input.sample.state !== GpuState.GPU_STATE_OK) return false;
  if (input.agentBootId === flag.values.agent_boot_id) return false;
  const xidMs = Number(flag.values.xid_time_ms ?? flag.startMs);
  return input.t - uptime * 1000 > xidMs;
}

export function resetReason(causes: ReadonlySet<ResetCause>, said: readonly string[]): string {
  const what = [...causes].map((c) =>
    c === "xid"
      ? "a reset-class Xid"
      : c === "recovery"
        ? "the GPU recovery action"
        : "remapped rows pending",
  );
  return `GPU reset required (${what.join(", ")}): ${said.join("; ")}`;
}
