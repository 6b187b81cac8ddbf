// Values over time for scenarios: deterministic functions of the seconds since the scenario's
// epoch, so tests can predict every reading. Pure.

export type Pattern =
  | { kind: "constant"; value: number }
  | { kind: "sine"; min: number; max: number; periodS: number; phaseS: number }
  | { kind: "square"; low: number; high: number; periodS: number; duty: number; phaseS: number }
  | { kind: "ramp"; from: number; to: number; startS: number; durationS: number; repeat: boolean }
  | { kind: "steps"; steps: readonly (readonly [number, number])[] };

/** The pattern's value at `t` seconds after the epoch. */
export function evaluate(pattern: Pattern, t: number): number {
  switch (pattern.kind) {
    case "constant":
      return pattern.value;
    case "sine": {
      // Starts at the midpoint and rises, like sin(0).
      const angle = (2 * Math.PI * (t + pattern.phaseS)) / pattern.periodS;
      return pattern.min + ((pattern.max - pattern.min) * (1 + Math.sin(angle))) / 2;
    }
    case "square": {
      const position = mod(t + pattern.phaseS, pattern.periodS) / pattern.periodS;
      return position < pattern.duty ? pattern.high : pattern.low;
    }
    case "ramp": {
      let elapsed = t - pattern.startS;
      if (elapsed <= 0) return pattern.from;
      if (pattern.repeat) elapsed = mod(elapsed, pattern.durationS);
      else if (elapsed >= pattern.durationS) return pattern.to;
      return pattern.from + ((pattern.to - pattern.from) * elapsed) / pattern.durationS;
    }
    case "steps": {
      // Each step holds from its time until the next; before the first, the first value holds.
      let value = pattern.steps[0]?.[1] ?? 0;
      for (const [at, v] of pattern.steps) {
        if (t >= at) value = v;
        else break;
      }
      return value;
    }
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
