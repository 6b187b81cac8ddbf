// costMicros (lease-lines.ts) against the exact BigInt reading of its rule: price × whole ms / one
// hour, rounded half up. Its fast path divides in doubles; the boundaries it must get right are
// products one below, at and one above a multiple (or half multiple) of an hour, and products near
// 2^53, where it hands over to BigInt.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { costMicros } from "../../../collector/reports/lease-lines.js";

const HOUR = 3_600_000n;

function exact(priceMicros: number, ms: number): number {
  const num = BigInt(priceMicros) * BigInt(Math.round(ms));
  return Number((num * 2n + HOUR) / (HOUR * 2n));
}

describe("costMicros", () => {
  it("equals the BigInt rounding for any price and time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000_000 }),
        fc.oneof(
          fc.integer({ min: 1, max: 100 * 86_400_000 }),
          fc.double({ min: 0.5, max: 1e12, noNaN: true }),
        ),
        (price, ms) => {
          expect(costMicros(price, ms)).toBe(exact(price, ms));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("rounds half up exactly at every hour boundary, up to products past 2^53", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_500_000_000 }),
        fc.constantFrom(-1, 0, 1, 1_799_999, 1_800_000, 1_800_001),
        (hours, offset) => {
          // price 1: the product is the time itself, hours × one hour plus the offset.
          const ms = hours * 3_600_000 + offset;
          expect(costMicros(1, ms)).toBe(exact(1, ms));
          // a price that puts the product next to 2^53
          const big = Math.floor(Number.MAX_SAFE_INTEGER / ms) + (offset % 2);
          expect(costMicros(big, ms)).toBe(exact(big, ms));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it("is 0 without a price or without time", () => {
    expect(costMicros(null, 3_600_000)).toBe(0);
    expect(costMicros(1_000_000, 0)).toBe(0);
    expect(costMicros(1_000_000, -5)).toBe(0);
    expect(costMicros(1_000_000, 3_600_000)).toBe(1_000_000);
    expect(costMicros(1_000_000, 1_800_000)).toBe(500_000);
    expect(costMicros(3, 1_800_000)).toBe(2); // 1.5 rounds half up
  });
});
