// lost and error: a GPU that fell off the bus (state LOST, or missing from its host's frames),
// or one that cannot be read (TIMEOUT/ERROR), has rising uncorrectable ECC errors, or a failed
// row remap. Raised on the first sample that shows it; cleared when the GPU reads normally again
// (ECC: when the volatile count is reset by a driver reload or GPU reset).
import { GpuState, type IGpuSample } from "../../../shared/proto.js";
import type { FlagValues, Severity } from "../types.js";
import { present, type RuleResult, type Transition } from "./rule.js";
import {
  COOL,
  HOT,
  hotOrCool,
  type Signals,
  SUSTAIN_OFF,
  type SustainState,
  sustainStep,
} from "./sustain.js";

export interface ErrorState {
  sustain: SustainState;
  /** Last known uncorrectable volatile ECC count, and whether it rose since the driver loaded. */
  eccLast: number | null;
  eccRising: boolean;
}

export const ERROR_INITIAL: ErrorState = { sustain: SUSTAIN_OFF, eccLast: null, eccRising: false };
export const ERROR_SIGNALS = ["state", "ecc", "remap"];

export function errorStep(
  state: ErrorState,
  sample: IGpuSample,
  t: number,
  maxStepMs: number,
): RuleResult<ErrorState> {
  const ecc = sample.ecc_uncorrected_volatile;
  let { eccLast, eccRising } = state;
  const eccBefore = eccLast;
  if (present(ecc)) {
    if (eccLast !== null && ecc > eccLast) eccRising = true;
    if (eccLast !== null && ecc < eccLast) eccRising = false; // volatile counters reset: driver reload or GPU reset
    eccLast = ecc;
  }
  const s = sample.state;
  const stateSignal =
    s === GpuState.GPU_STATE_TIMEOUT || s === GpuState.GPU_STATE_ERROR
      ? HOT
      : s === GpuState.GPU_STATE_OK
        ? COOL
        : undefined; // LOST belongs to the lost rule
  const remap = sample.remapped_rows_failure;
  const signals: Signals = {
    state: stateSignal,
    ecc: present(ecc) ? hotOrCool(eccRising) : undefined,
    remap: present(remap) ? hotOrCool(remap) : undefined,
  };
  const timing = { raiseMs: 0, clearMs: 0, maxStepMs };
  const { state: sustain, change } = sustainStep(state.sustain, signals, t, timing);
  const transitions: Transition[] = [];
  if (change.type === "raise") {
    const values: FlagValues = { state: GpuState[s ?? 0] ?? null, state_detail: sample.state_detail || null };
    const reasons: string[] = [];
    let severity: Severity = "warning";
    if (signals.state?.hot) {
      reasons.push(
        `GPU could not be read (${s === GpuState.GPU_STATE_TIMEOUT ? "timeout" : "error"}${sample.state_detail ? `: ${sample.state_detail}` : ""})`,
      );
    }
    if (signals.ecc?.hot) {
      severity = "critical";
      values.ecc_uncorrected_volatile = ecc ?? null;
      values.ecc_uncorrected_volatile_before = eccBefore;
      reasons.push(`Uncorrectable ECC errors rising (${eccBefore} → ${ecc} since the driver loaded)`);
    }
    if (signals.remap?.hot) {
      severity = "critical";
      values.remapped_rows_failure = true;
      reasons.push("Row remapping failed: the GPU needs service");
    }
    transitions.push({
      type: "open",
      kind: "error",
      severity,
      startMs: change.startMs,
      reason: reasons.join("; "),
      values,
    });
  } else if (change.type === "clear") {
    transitions.push({ type: "close", kind: "error", endMs: change.endMs });
  }
  if (sustain === state.sustain && eccLast === state.eccLast && eccRising === state.eccRising)
    return { state, transitions };
  return { state: { sustain, eccLast, eccRising }, transitions };
}

/**
 * A GPU judged lost cannot be read by definition: an open error raised only because it could not
 * be read (a timeout or error state, e.g. the stalled nvidia-smi iteration in which it fell off
 * the bus) closes when lost opens, at that time, so one fault carries one flag. Errors raised by
 * ECC or row remapping are facts about the hardware and stay open.
 */
export function errorSupersededByLost(state: ErrorState, t: number): RuleResult<ErrorState> {
  const { sustain } = state;
  if (!sustain.on || sustain.triggers.some((signal) => signal !== "state")) return { state, transitions: [] };
  return {
    state: { ...state, sustain: { ...SUSTAIN_OFF, lastMs: t } },
    transitions: [{ type: "close", kind: "error", endMs: t }],
  };
}

export interface LostState {
  sustain: SustainState;
  /** Since when the GPU has been missing from its host's frames (null while reported). */
  missingSinceMs: number | null;
}

export const LOST_INITIAL: LostState = { sustain: SUSTAIN_OFF, missingSinceMs: null };
export const LOST_SIGNALS = ["state", "missing"];

/**
 * One step of the lost rule: `sample` null means the host's frame at `t` did not list this GPU.
 * Missing must last `missingAfterMs` (a few intervals) to count; state LOST counts at once.
 */
export function lostStep(
  state: LostState,
  sample: IGpuSample | null,
  t: number,
  missingAfterMs: number,
  maxStepMs: number,
): RuleResult<LostState> {
  const missingSinceMs = sample ? null : (state.missingSinceMs ?? t);
  const missing = missingSinceMs !== null && t - missingSinceMs >= missingAfterMs;
  const stateLost = sample?.state === GpuState.GPU_STATE_LOST;
  const signals: Signals = {
    state: sample ? hotOrCool(stateLost) : undefined,
    missing: sample ? COOL : missing ? HOT : undefined,
  };
  const timing = { raiseMs: 0, clearMs: 0, maxStepMs };
  const { state: sustain, change } = sustainStep(state.sustain, signals, t, timing);
  const transitions: Transition[] = [];
  if (change.type === "raise") {
    const reason = stateLost
      ? `GPU is lost (fell off the bus${sample?.state_detail ? `: ${sample.state_detail}` : ""})`
      : `GPU has been missing from its host's reports since ${new Date(missingSinceMs ?? t).toISOString()}`;
    const values: FlagValues = {
      state: stateLost ? "GPU_STATE_LOST" : "missing",
      state_detail: sample?.state_detail || null,
    };
    const startMs = stateLost ? change.startMs : (missingSinceMs ?? t);
    transitions.push({ type: "open", kind: "lost", severity: "critical", startMs, reason, values });
  } else if (change.type === "clear") {
    transitions.push({ type: "close", kind: "lost", endMs: change.endMs });
  }
  if (sustain === state.sustain && missingSinceMs === state.missingSinceMs) return { state, transitions };
  return { state: { sustain, missingSinceMs }, transitions };
}
