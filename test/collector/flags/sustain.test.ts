import { describe, expect, it } from "vitest";
import {
  type Signals,
  SUSTAIN_OFF,
  type SustainState,
  sustainStep,
} from "../../../collector/flags/rules/sustain.js";

const timing = { raiseMs: 60_000, clearMs: 30_000, maxStepMs: 30_000 };
const HOT = { hot: true, cool: false };
const COOL = { hot: false, cool: true };
const BAND = { hot: false, cool: false };

function drive(steps: [number, Signals][]) {
  let state: SustainState = SUSTAIN_OFF;
  const changes: string[] = [];
  for (const [t, signals] of steps) {
    const r = sustainStep(state, signals, t, timing);
    state = r.state;
    if (r.change.type !== "none") changes.push(`${r.change.type}@${t}`);
  }
  return { state, changes };
}

describe("sustainStep", () => {
  it("raises once the condition has held for raiseMs, with the start of the stretch", () => {
    const steps: [number, Signals][] = [];
    for (let t = 0; t <= 70_000; t += 10_000) steps.push([t, { a: HOT }]);
    const { changes, state } = drive(steps);
    expect(changes).toEqual(["raise@60000"]);
    expect(state.sinceMs).toBe(0);
  });

  it("unknown freezes the pending timer without counting the unknown stretch", () => {
    const steps: [number, Signals][] = [
      [0, { a: HOT }],
      [30_000, { a: HOT }],
      [40_000, { a: undefined }],
      [100_000, { a: undefined }],
      [110_000, { a: HOT }], // +10 s: 40 s held
      [130_000, { a: HOT }], // 60 s held
    ];
    expect(drive(steps).changes).toEqual(["raise@130000"]);
  });

  it("a gap in the data counts at most maxStepMs", () => {
    const { changes } = drive([
      [0, { a: HOT }],
      [600_000, { a: HOT }], // a 10-minute gap counts 30 s
      [620_000, { a: HOT }],
      [630_000, { a: HOT }],
    ]);
    expect(changes).toEqual(["raise@630000"]);
  });

  it("clears only after cool for clearMs; the band resets the clear timer (hysteresis)", () => {
    const steps: [number, Signals][] = [];
    for (let t = 0; t <= 60_000; t += 10_000) steps.push([t, { a: HOT }]);
    steps.push(
      [70_000, { a: COOL }],
      [90_000, { a: BAND }],
      [100_000, { a: COOL }],
      [120_000, { a: COOL }],
      [130_000, { a: COOL }],
    );
    expect(drive(steps).changes).toEqual(["raise@60000", "clear@130000"]);
  });

  it("an unknown trigger never clears, even when another signal is cool", () => {
    const steps: [number, Signals][] = [];
    for (let t = 0; t <= 60_000; t += 10_000) steps.push([t, { a: HOT, b: COOL }]);
    for (let t = 70_000; t <= 600_000; t += 10_000) steps.push([t, { a: undefined, b: COOL }]);
    const { changes, state } = drive(steps);
    expect(changes).toEqual(["raise@60000"]);
    expect(state.on).toBe(true);
  });

  it("absent data alone never raises", () => {
    const steps: [number, Signals][] = [];
    for (let t = 0; t <= 3_600_000; t += 10_000) steps.push([t, { a: undefined }]);
    expect(drive(steps).changes).toEqual([]);
  });

  it("off with nothing pending returns the state it was given (no state per sample)", () => {
    let state: SustainState = SUSTAIN_OFF;
    state = sustainStep(state, { a: HOT }, 0, timing).state;
    state = sustainStep(state, { a: COOL }, 10_000, timing).state;
    for (const signals of [{ a: COOL }, { a: BAND }, { a: undefined }]) {
      const r = sustainStep(state, signals, 20_000, timing);
      expect(r.state).toBe(state);
      expect(r.change.type).toBe("none");
    }
  });

  it("a quiet stretch before the condition counts nothing toward raising", () => {
    const steps: [number, Signals][] = [];
    for (let t = 0; t <= 3_600_000; t += 10_000) steps.push([t, { a: COOL }]);
    for (let t = 3_610_000; t <= 3_700_000; t += 10_000) steps.push([t, { a: HOT }]);
    expect(drive(steps).changes).toEqual(["raise@3670000"]);
  });
});
