import { describe, expect, it } from "vitest";
import { excessBytes, planEviction } from "../../../agent/spool/bound.js";

describe("spool bound", () => {
  it("needs nothing while the new frame fits", () => {
    expect(excessBytes(900, 100, 1_000)).toBe(0);
    expect(excessBytes(950, 100, 1_000)).toBe(50);
  });

  it("drops the oldest until enough is freed", () => {
    const rows = [1, 2, 3, 4].map((id) => ({ id, size: 100 }));
    expect(planEviction(rows, 150)).toEqual({ ids: [1, 2], freedBytes: 200, short: false });
  });

  it("spares frames in flight, and says when the candidates were not enough", () => {
    const rows = [1, 2, 3].map((id) => ({ id, size: 100 }));
    expect(planEviction(rows, 150, (id) => id === 1)).toEqual({ ids: [2, 3], freedBytes: 200, short: false });
    expect(planEviction(rows, 250, (id) => id !== 3)).toEqual({ ids: [3], freedBytes: 100, short: true });
  });
});
