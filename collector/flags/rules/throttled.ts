// throttled: power-cap or power-brake slowdown active for a sustained period. The flag carries
// the GPU time lost (time spent throttled in the episode), updated about once a minute.
import { formatDuration } from "../../../shared/duration.js";
import { POWER_SLOWDOWN_MASK } from "../../../shared/metrics.js";
import type { FlagValues } from "../types.js";
import { present, type RuleInput, type RuleResult, type Transition } from "./rule.js";
import { hotOrCool, type Signals, SUSTAIN_OFF, type SustainState, sustainStep } from "./sustain.js";

export interface ThrottledState {
  sustain: SustainState;
  /** Time spent throttled in the current episode (from its start). */
  lostMs: number;
  /** lostMs last reported in an update. */
  reportedMs: number;
}

export const THROTTLED_INITIAL: ThrottledState = { sustain: SUSTAIN_OFF, lostMs: 0, reportedMs: 0 };
export const THROTTLED_SIGNALS = ["power"];
const UPDATE_EVERY_MS = 60_000;

function lostValues(lostMs: number, reasons: number | null | undefined): FlagValues {
  return {
    clock_event_reasons: reasons ?? null,
    throttled_ms: lostMs,
    gpu_minutes_lost: Math.round((lostMs / 60_000) * 100) / 100,
  };
}

function describe(reasons: number | null | undefined, lostMs: number): string {
  const which = present(reasons) && reasons & 0x80 ? "Power-brake slowdown" : "Power-cap slowdown";
  return `${which} active for ${formatDuration(Math.round(lostMs / 1000) * 1000)} (${(lostMs / 60_000).toFixed(1)} GPU-minutes lost)`;
}

export function throttledStep(state: ThrottledState, input: RuleInput): RuleResult<ThrottledState> {
  const rule = input.rules.throttled;
  const reasons = input.sample.clock_event_reasons;
  const active = present(reasons) ? (reasons & POWER_SLOWDOWN_MASK) !== 0 : undefined;
  const signals: Signals = { power: active === undefined ? undefined : hotOrCool(active) };
  const timing = { raiseMs: rule.raise_after_ms, clearMs: rule.clear_after_ms, maxStepMs: input.maxStepMs };
  const prev = state.sustain;
  const step = prev.lastMs === null ? 0 : Math.min(Math.max(0, input.t - prev.lastMs), input.maxStepMs);
  const { state: sustain, change } = sustainStep(prev, signals, input.t, timing);
  const transitions: Transition[] = [];

  if (change.type === "raise") {
    const lostMs = input.t - change.startMs;
    transitions.push({
      type: "open",
      kind: "throttled",
      severity: "warning",
      startMs: change.startMs,
      reason: describe(reasons, lostMs),
      values: lostValues(lostMs, reasons),
    });
    return { state: { sustain, lostMs, reportedMs: lostMs }, transitions };
  }
  if (change.type === "clear") {
    transitions.push({
      type: "close",
      kind: "throttled",
      endMs: change.endMs,
      reason: describe(reasons, state.lostMs),
      values: lostValues(state.lostMs, reasons),
    });
    return { state: { sustain, lostMs: 0, reportedMs: 0 }, transitions };
  }
  if (!sustain.on) {
    if (sustain === prev && state.lostMs === 0 && state.reportedMs === 0) return { state, transitions };
    return { state: { sustain, lostMs: 0, reportedMs: 0 }, transitions };
  }
  const lostMs = active === true ? state.lostMs + step : state.lostMs;
  if (lostMs - state.reportedMs >= UPDATE_EVERY_MS) {
    transitions.push({
      type: "update",
      kind: "throttled",
      reason: describe(reasons, lostMs),
      values: lostValues(lostMs, reasons),
    });
    return { state: { sustain, lostMs, reportedMs: lostMs }, transitions };
  }
  return { state: { sustain, lostMs, reportedMs: state.reportedMs }, transitions };
}
