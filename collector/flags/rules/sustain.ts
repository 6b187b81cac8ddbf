// The timer every sustained rule shares: raise after a condition has held for a duration,
// clear after the opposite has held for another, with a band in between (hysteresis).
//
// A rule reduces each sample to named signals, each tri-state: hot (in the raise zone), cool
// (past the hysteresis, in the clear zone), neither (the band), or undefined (unknown: the value
// was absent). Unknown never moves a timer in either direction; it freezes it, and the unknown
// stretch is not counted as time held.
//
// Every GPU's rules step on every sample (10,000 GPUs at 1 s, issue 19): a step that changes
// nothing returns the state it was given, and the signals are shared constants, so the steady
// case allocates next to nothing and the states do not turn over in the collector's heap.

export interface Signal {
  hot: boolean;
  cool: boolean;
}

export type Signals = Readonly<Record<string, Signal | undefined>>;

/** The three known signals, shared (rules pick one rather than build one per sample). */
export const HOT: Signal = Object.freeze({ hot: true, cool: false });
export const COOL: Signal = Object.freeze({ hot: false, cool: true });
export const BAND: Signal = Object.freeze({ hot: false, cool: false });

/** hot when `hot`, else cool: a signal without a band. */
export function hotOrCool(hot: boolean): Signal {
  return hot ? HOT : COOL;
}

export interface SustainState {
  on: boolean;
  /** Off: start of the current hot stretch (null when none). On: start of the episode. */
  sinceMs: number | null;
  /** On: start of the current cool stretch (null when none). */
  clearSinceMs: number | null;
  /** Known time held toward raising (off) or clearing (on). */
  heldMs: number;
  /**
   * Timestamp of the previous sample seen, known or not, while a timer runs (pending or on); off
   * with nothing pending no time is counted, and it stays where it was.
   */
  lastMs: number | null;
  /** Signals that were hot in this stretch or episode: only they can end it (an absent one freezes it). */
  triggers: string[];
}

export interface SustainTiming {
  raiseMs: number;
  clearMs: number;
  /** The most one sample may add to the held time (a gap in the data is not held time). */
  maxStepMs: number;
}

export type SustainChange =
  | { type: "none" }
  | { type: "raise"; startMs: number; triggers: string[] }
  | { type: "clear"; endMs: number; triggers: string[] };

export const SUSTAIN_OFF: SustainState = {
  on: false,
  sinceMs: null,
  clearSinceMs: null,
  heldMs: 0,
  lastMs: null,
  triggers: [],
};

const NONE: SustainChange = { type: "none" };

function union(a: readonly string[], b: readonly string[]): string[] {
  if (b.every((k) => a.includes(k))) return a as string[];
  return [...new Set([...a, ...b])];
}

/** The hot signals' names; undefined when none is hot (the usual case: no array). */
function hotNames(signals: Signals): string[] | undefined {
  let hot: string[] | undefined;
  for (const k in signals) {
    if (signals[k]?.hot !== true) continue;
    hot ??= [];
    hot.push(k);
  }
  return hot;
}

/** Advances the timer by one sample at `t` (samples arrive in time order). Pure. */
export function sustainStep(
  state: SustainState,
  signals: Signals,
  t: number,
  timing: SustainTiming,
): { state: SustainState; change: SustainChange } {
  const step = state.lastMs === null ? 0 : Math.min(Math.max(0, t - state.lastMs), timing.maxStepMs);
  const hot = hotNames(signals);

  if (!state.on) {
    // Off with nothing pending and nothing hot: no timer runs, nothing changes.
    if (!hot && state.sinceMs === null) return { state, change: NONE };
    if (hot) {
      const pending = state.sinceMs !== null;
      const next: SustainState = pending
        ? { ...state, lastMs: t, heldMs: state.heldMs + step, triggers: union(state.triggers, hot) }
        : { ...state, lastMs: t, sinceMs: t, heldMs: 0, triggers: hot };
      if (next.heldMs >= timing.raiseMs) {
        const startMs = next.sinceMs ?? t;
        return {
          state: { ...next, on: true, sinceMs: startMs, clearSinceMs: null, heldMs: 0 },
          change: { type: "raise", startMs, triggers: next.triggers },
        };
      }
      return { state: next, change: NONE };
    }
    // Not hot: a pending stretch ends only when the signals that made it are known again.
    if (state.triggers.every((k) => signals[k] !== undefined)) {
      return { state: { ...state, lastMs: t, sinceMs: null, heldMs: 0, triggers: [] }, change: NONE };
    }
    return { state: { ...state, lastMs: t }, change: NONE };
  }

  if (hot) {
    return {
      state: { ...state, lastMs: t, clearSinceMs: null, heldMs: 0, triggers: union(state.triggers, hot) },
      change: NONE,
    };
  }
  const known = state.triggers.every((k) => signals[k] !== undefined);
  if (!known) return { state: { ...state, lastMs: t }, change: NONE };
  const cool = state.triggers.every((k) => signals[k]?.cool === true);
  if (!cool) return { state: { ...state, lastMs: t, clearSinceMs: null, heldMs: 0 }, change: NONE };
  const clearing = state.clearSinceMs !== null;
  const next: SustainState = clearing
    ? { ...state, lastMs: t, heldMs: state.heldMs + step }
    : { ...state, lastMs: t, clearSinceMs: t, heldMs: 0 };
  if (next.heldMs >= timing.clearMs) {
    return {
      state: { ...SUSTAIN_OFF, lastMs: t },
      change: { type: "clear", endMs: next.clearSinceMs ?? t, triggers: state.triggers },
    };
  }
  return { state: next, change: NONE };
}

/** A sustain state that is on, for an open flag restored without its saved timers. */
export function sustainOn(startMs: number, triggers: string[]): SustainState {
  return { ...SUSTAIN_OFF, on: true, sinceMs: startMs, triggers };
}
