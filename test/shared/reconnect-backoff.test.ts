// The reconnect policy both MQTT clients use (shared/mqtt-reconnect.ts): a capped doubling, each
// wait jittered upward only, so the floor holds and a broker restart's clients spread out.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffMs, jitteredMs } from "../../shared/backoff.js";
import { MAX_RECONNECT_MS, MIN_RECONNECT_MS, reconnectWaitMs } from "../../shared/mqtt-reconnect.js";

describe("reconnect waits", () => {
  it("stay within [backoff, 1.5 × backoff) for any draw", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, minMs, draw) => {
          const base = backoffMs(attempt, minMs, MAX_RECONNECT_MS);
          const wait = reconnectWaitMs(attempt, minMs, () => draw);
          expect(wait).toBeGreaterThanOrEqual(base);
          expect(wait).toBeLessThan(base * 1.5 + 1);
          expect(Number.isInteger(wait)).toBe(true);
        },
      ),
    );
  });

  it("spread a thousand clients cut off together over the half they may add", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const first = Array.from({ length: 1000 }, () => reconnectWaitMs(0, MIN_RECONNECT_MS, random));
    // Ten 50 ms slots of the 500 ms the jitter may add: each holds some of the clients, none most.
    const slots = new Array<number>(10).fill(0);
    for (const w of first) {
      const slot = Math.floor((w - MIN_RECONNECT_MS) / 50);
      slots[slot] = (slots[slot] ?? 0) + 1;
    }
    expect(Math.min(...slots)).toBeGreaterThan(50);
    expect(Math.max(...slots)).toBeLessThan(200);
  });

  it("jitter nothing when the draw is 0, and add under half at the draw's top", () => {
    expect(jitteredMs(1000, () => 0)).toBe(1000);
    expect(jitteredMs(1000, () => 0.999_999)).toBe(1499);
  });
});
