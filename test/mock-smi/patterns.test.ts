import { describe, expect, it } from "vitest";
import { evaluate } from "../../mock-smi/patterns.js";

describe("scenario patterns", () => {
  it("constant", () => {
    expect(evaluate({ kind: "constant", value: 42 }, 1e6)).toBe(42);
  });
  it("sine starts at the midpoint, peaks at a quarter period", () => {
    const sine = { kind: "sine", min: 20, max: 80, periodS: 60, phaseS: 0 } as const;
    expect(evaluate(sine, 0)).toBeCloseTo(50);
    expect(evaluate(sine, 15)).toBeCloseTo(80);
    expect(evaluate(sine, 45)).toBeCloseTo(20);
    expect(evaluate({ ...sine, phaseS: 15 }, 0)).toBeCloseTo(80);
  });
  it("square is high for the duty share of each period", () => {
    const square = { kind: "square", low: 1, high: 9, periodS: 20, duty: 0.25, phaseS: 0 } as const;
    expect([0, 4.9, 5, 19.9, 20, 24].map((t) => evaluate(square, t))).toEqual([9, 9, 1, 1, 9, 9]);
    expect(evaluate(square, -1)).toBe(1);
  });
  it("ramp holds at its ends unless it repeats", () => {
    const ramp = { kind: "ramp", from: 30, to: 90, startS: 10, durationS: 60, repeat: false } as const;
    expect([0, 10, 40, 70, 1000].map((t) => evaluate(ramp, t))).toEqual([30, 30, 60, 90, 90]);
    expect(evaluate({ ...ramp, repeat: true }, 100)).toBe(60);
  });
  it("steps hold each value until the next step", () => {
    const steps = {
      kind: "steps",
      steps: [
        [10, 5],
        [60, 90],
        [300, 40],
      ],
    } as const;
    expect([0, 10, 59, 60, 299, 300, 1e6].map((t) => evaluate(steps, t))).toEqual([5, 5, 5, 90, 90, 40, 40]);
  });
});
