// What every GPU rule takes and returns: plain data in, new state and flag transitions out.
import type { IGpuInfo, IGpuSample } from "../../../shared/proto.js";
import type { GpuRules } from "../config.js";
import type { FlagKind, FlagValues, Severity } from "../types.js";

export interface RuleInput {
  sample: IGpuSample;
  /** The frame's sample timestamp (agent clock, ms). */
  t: number;
  intervalMs: number;
  /** Inventory entry for this GPU, when one has arrived. */
  info: IGpuInfo | undefined;
  rules: GpuRules;
  /** The most one sample may count as held time: a longer gap is missing data, not time held. */
  maxStepMs: number;
}

export type Transition =
  | { type: "open"; kind: FlagKind; severity: Severity; startMs: number; reason: string; values: FlagValues }
  | { type: "update"; kind: FlagKind; reason: string; values: FlagValues }
  | { type: "close"; kind: FlagKind; endMs: number; reason?: string; values?: FlagValues };

export interface RuleResult<S> {
  state: S;
  transitions: Transition[];
}

export { present } from "../../usage/classify.js";

/** "NVIDIA H100 80GB HBM3" for the reason sentence, or "GPU" when inventory has not arrived. */
export function modelName(info: IGpuInfo | undefined): string {
  return info?.name ? info.name : "GPU";
}
