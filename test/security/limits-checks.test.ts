// The limit checks on their own (pure, fast): counting a batch's frames on the wire, the per-host
// frame rate, and the `limits:` defaults and validation in the collector's configuration.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCollectorConfig } from "../../collector/config.js";
import { countBatchFrames } from "../../collector/ingest/decode.js";
import { DEFAULT_LIMITS, toIngestLimits } from "../../collector/ingest/limits.js";
import { RateGate } from "../../collector/ingest/rate-gate.js";
import { encodeFrameBatch } from "../../shared/codec.js";
import { FrameBatch } from "../../shared/proto.js";
import { frameOf } from "./attack-parts.js";

describe("countBatchFrames", () => {
  it("counts what the decoder finds, and stops counting just past the limit", () => {
    fc.assert(
      fc.property(fc.nat(40), fc.nat(40), fc.nat(4), (n, max, gpus) => {
        const frames = Array.from({ length: n }, (_, i) =>
          frameOf(
            "node-a",
            i + 1,
            Object.fromEntries(Array.from({ length: gpus }, (_, g) => [`GPU-${g}`, 40])),
          ),
        );
        const payload = encodeFrameBatch(frames);
        expect(FrameBatch.decode(payload).frames).toHaveLength(n);
        expect(countBatchFrames(payload, max)).toBe(Math.min(n, max + 1));
      }),
    );
  });

  it("stops at the limit on a 200 KB batch of 100,000 empty frames (the cost does not grow with the attack)", () => {
    const payload = new Uint8Array(2 + 200_000);
    payload.set([0x08, 1]);
    for (let i = 0; i < 100_000; i++) payload[2 + 2 * i] = 0x12;
    expect(countBatchFrames(payload, 2000)).toBe(2001);
    expect(countBatchFrames(payload, Number.POSITIVE_INFINITY)).toBe(100_000);
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(countBatchFrames(bytes, 10)).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe("RateGate", () => {
  it("lets one full batch through at once, then the rate per host", () => {
    const gate = new RateGate(100, 200);
    expect(gate.admit("a", 200, 0)).toBe(true);
    expect(gate.admit("a", 1, 0)).toBe(false);
    expect(gate.admit("b", 150, 0)).toBe(true);
    expect(gate.admit("a", 50, 499)).toBe(false);
    expect(gate.admit("a", 50, 500)).toBe(true);
    // A batch larger than the bucket never passes, however long the host waited.
    expect(gate.admit("c", 201, 10_000)).toBe(false);
  });

  it("forgets refilled buckets, so invented hosts do not grow it past its bound", () => {
    const gate = new RateGate(10, 10, 100);
    for (let i = 0; i < 10_000; i++) gate.admit(`host-${i}`, 1, i * 1000);
    expect(gate.tracked).toBeLessThanOrEqual(100);
  });
});

describe("limits: configuration", () => {
  it("has its defaults written once, in the schema", () => {
    const loaded = loadCollectorConfig({ env: {}, overrides: {} });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    expect(toIngestLimits(loaded.config.limits)).toEqual(DEFAULT_LIMITS);
    expect(DEFAULT_LIMITS).toEqual({
      maxHosts: 10_000,
      maxGpus: 100_000,
      maxGpusPerHost: 64,
      maxBootsPerHost: 1000,
      maxLabelKeys: 32,
      maxLabelKeyLength: 64,
      maxLabelValueLength: 256,
      maxProcessesPerMessage: 1024,
      maxStringLength: 256,
      maxFramesPerBatch: 2000,
      maxEventsPerBatch: 1000,
      maxFramesPerSecond: 1000,
      gpuMoveHoldMs: 600_000,
    });
  });

  it("refuses a limit that is not a positive number, naming the key", () => {
    const loaded = loadCollectorConfig({
      env: {},
      overrides: { "limits.max_hosts": 0, "limits.gpu_move_hold": "soon" },
    });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems.map((p) => p.path).sort()).toEqual(["limits.gpu_move_hold", "limits.max_hosts"]);
  });
});
