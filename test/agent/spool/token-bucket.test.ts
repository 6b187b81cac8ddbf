import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../../shared/token-bucket.js";

describe("TokenBucket", () => {
  it("starts full and refills at the rate, up to the capacity", () => {
    const bucket = new TokenBucket(100, 50);
    expect(bucket.tryTake(50, 0)).toBe(true);
    expect(bucket.tryTake(1, 0)).toBe(false);
    expect(bucket.available(100)).toBeCloseTo(10);
    expect(bucket.available(10_000)).toBe(50);
  });

  it("says how long to wait for n tokens, and that wait is enough", () => {
    const bucket = new TokenBucket(200, 100);
    expect(bucket.tryTake(100, 1_000)).toBe(true);
    const wait = bucket.waitMs(100, 1_000);
    expect(wait).toBe(500);
    expect(bucket.tryTake(100, 1_000 + wait - 1)).toBe(false);
    expect(bucket.tryTake(100, 1_000 + wait)).toBe(true);
  });

  it("keeps the average rate over many takes", () => {
    const bucket = new TokenBucket(50, 10);
    let now = 0;
    let taken = 0;
    while (now < 60_000) {
      const wait = bucket.waitMs(10, now);
      now += wait;
      if (bucket.tryTake(10, now)) taken += 10;
    }
    // 60 s at 50/s plus the initial burst of 10.
    expect(taken).toBeGreaterThanOrEqual(3_000);
    expect(taken).toBeLessThanOrEqual(3_010 + 10);
  });

  it("caps a request above capacity at capacity, and ignores a clock that steps back", () => {
    const bucket = new TokenBucket(10, 5);
    expect(bucket.tryTake(500, 0)).toBe(true);
    expect(bucket.available(-60_000)).toBe(0);
    expect(bucket.available(500)).toBeCloseTo(5);
  });

  it("rejects a zero rate", () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
  });
});
