import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_BATCH_MAX_BYTES,
  frameBatchBytes,
  planBatch,
  varintLength,
} from "../../../agent/spool/batch-plan.js";
import { encodeFrameBatchFromEncoded } from "../../../shared/codec.js";
import { MAX_PAYLOAD_BYTES } from "../../../shared/proto.js";

describe("batch planning", () => {
  it("computes varint lengths at the boundaries", () => {
    expect([0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152].map(varintLength)).toEqual([
      1, 1, 2, 2, 3, 3, 4,
    ]);
  });

  it("predicts the encoded FrameBatch size exactly", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 20 }), (sizes) => {
        const encoded = encodeFrameBatchFromEncoded(sizes.map((n) => new Uint8Array(n)));
        expect(frameBatchBytes(sizes)).toBe(encoded.byteLength);
      }),
    );
  });

  it("takes the oldest frames up to the frame limit", () => {
    expect(planBatch([600, 600, 600, 600], { maxFrames: 3, maxBytes: 1_000_000 }).count).toBe(3);
  });

  it("stops before the byte limit, and the encoded batch stays under the collector's limit", () => {
    const sizes = Array.from({ length: 1_000 }, () => 5_000);
    const plan = planBatch(sizes, { maxFrames: 1_000, maxBytes: DEFAULT_BATCH_MAX_BYTES });
    expect(plan.count).toBe(Math.floor((DEFAULT_BATCH_MAX_BYTES - 2) / (5_000 + 3)));
    const encoded = encodeFrameBatchFromEncoded(sizes.slice(0, plan.count).map((n) => new Uint8Array(n)));
    expect(encoded.byteLength).toBe(plan.bytes);
    expect(plan.bytes).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  it("never skips a frame to fit a later, smaller one (order is kept)", () => {
    expect(planBatch([100, 900, 10], { maxFrames: 10, maxBytes: 500 }).count).toBe(1);
  });

  it("sends an oversized frame alone rather than never", () => {
    expect(planBatch([300_000, 10], { maxFrames: 10, maxBytes: 1_000 })).toEqual({
      count: 1,
      bytes: 300_006,
    });
    expect(planBatch([], { maxFrames: 10, maxBytes: 1_000 })).toEqual({ count: 0, bytes: 0 });
  });
});
