// Property tests over the ingest boundary (decode + validate): whatever the bytes, checkMessage
// returns; a frame it passes obeys every rule; and for generated frames it accepts exactly those
// an independent oracle considers valid.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkMessage } from "../../../collector/ingest/check.js";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import { encodeFrameBatch } from "../../../shared/codec.js";
import { METRICS } from "../../../shared/metrics.js";
import { type IGpuSample, MAX_PAYLOAD_BYTES } from "../../../shared/proto.js";
import { framePayload, gpuSample, makeFrame } from "./frames.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const HOST = "fuzz-host";
const TOPICS = [
  `gputel/v1/${HOST}/frame`,
  `gputel/v1/${HOST}/status`,
  `gputel/v1/${HOST}/inventory`,
  "gputel/v1/x/y/frame",
  "junk",
];

/** The rules a stored frame must satisfy, checked on what checkMessage let through. */
function assertSane(frame: ValidFrame, topic: string): void {
  expect(topic).toBe(`gputel/v1/${frame.host}/frame`);
  expect(Number.isSafeInteger(frame.seq) && frame.seq >= 1).toBe(true);
  expect(Number.isSafeInteger(frame.timestamp_ms)).toBe(true);
  expect(frame.timestamp_ms).toBeLessThanOrEqual(NOW + 10 * 60_000);
  expect(frame.boot_id.length).toBeGreaterThan(0);
  const gpus = frame.gpus ?? [];
  expect(gpus.length).toBeLessThanOrEqual(64);
  expect(new Set(gpus.map((g) => g.index ?? 0)).size).toBe(gpus.length);
  for (const gpu of gpus) {
    for (const metric of METRICS) {
      const value = (gpu as Record<string, unknown>)[metric.key];
      if (typeof value === "number") {
        expect(Number.isFinite(value) && value >= metric.min && value <= metric.max).toBe(true);
      }
    }
  }
}

function checkAll(topic: string, payload: Uint8Array) {
  const checked = checkMessage(topic, payload, { username: undefined, nowMs: NOW });
  for (const frame of checked.frames) assertSane(frame, topic);
  return checked;
}

describe("ingest boundary (property tests)", () => {
  it("never throws on random bytes and passes nothing insane", () => {
    fc.assert(
      fc.property(fc.constantFrom(...TOPICS), fc.uint8Array({ maxLength: 2048 }), (topic, bytes) => {
        const checked = checkAll(topic, bytes);
        expect(
          checked.frames.length +
            checked.rejections.length +
            (checked.status ? 1 : 0) +
            (checked.inventory ? 1 : 0),
        ).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on mutated valid frames (flipped, truncated, spliced bytes)", () => {
    const valid = framePayload(HOST, 5, { timestampMs: NOW - 1000, gpus: 4 });
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant("flip" as const),
        at: fc.nat(valid.length - 1),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ kind: fc.constant("cut" as const), at: fc.nat(valid.length - 1), value: fc.constant(0) }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(valid.length - 1),
        value: fc.integer({ min: 0, max: 255 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 8 }), (mutations) => {
        let bytes = Array.from(valid);
        for (const m of mutations) {
          const at = Math.min(m.at, bytes.length);
          if (m.kind === "flip") bytes[at] = m.value;
          else if (m.kind === "cut") bytes = bytes.slice(0, at);
          else bytes.splice(at, 0, m.value);
        }
        checkAll(`gputel/v1/${HOST}/frame`, Uint8Array.from(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts a generated frame exactly when an independent oracle says it is valid", () => {
    const gpuArb = fc.record({
      index: fc.integer({ min: 0, max: 3 }),
      utilization: fc.option(fc.integer({ min: 0, max: 130 }), { nil: undefined }),
      temperature: fc.option(fc.integer({ min: -60, max: 200 }), { nil: undefined }),
      power: fc.option(fc.float({ min: -10, max: 6000, noNaN: false }), { nil: undefined }),
      ecc: fc.option(fc.constantFrom(0, 5, 2 ** 52, 2 ** 60), { nil: undefined }),
    });
    const frameArb = fc.record({
      host: fc.constantFrom(HOST, HOST, HOST, "intruder"),
      seq: fc.integer({ min: 0, max: 3 }),
      offsetMs: fc.integer({ min: -400 * 24 * 3600_000, max: 3600_000 }),
      zeroTimestamp: fc.boolean(),
      gpus: fc.array(gpuArb, { maxLength: 4 }),
    });
    const outcomes = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(frameArb, (g) => {
        const gpus: IGpuSample[] = g.gpus.map((x) =>
          gpuSample(x.index, {
            uuid: `GPU-${x.index}`,
            utilization_gpu_pct: x.utilization,
            temperature_gpu_celsius: x.temperature,
            power_draw_watts: x.power,
            ecc_corrected_volatile: x.ecc,
          }),
        );
        const timestamp = g.zeroTimestamp ? 0 : NOW + g.offsetMs;
        const frame = makeFrame(g.host, g.seq, { timestampMs: timestamp, gpus: 0, overrides: { gpus } });
        const payload = encodeFrameBatch([frame]);
        if (payload.byteLength > MAX_PAYLOAD_BYTES) return;
        const power = (v: number | undefined) =>
          v === undefined || (Number.isFinite(v) && v >= 0 && v <= 5000);
        const oracle =
          g.host === HOST &&
          g.seq >= 1 &&
          !g.zeroTimestamp &&
          timestamp >= Date.UTC(2000, 0, 1) &&
          g.offsetMs <= 10 * 60_000 &&
          new Set(g.gpus.map((x) => x.index)).size === g.gpus.length &&
          g.gpus.every(
            (x) =>
              (x.utilization === undefined || x.utilization <= 100) &&
              (x.temperature === undefined || (x.temperature >= -40 && x.temperature <= 150)) &&
              power(x.power) &&
              (x.ecc === undefined || x.ecc <= 2 ** 52),
          );
        const checked = checkAll(`gputel/v1/${HOST}/frame`, payload);
        outcomes[oracle ? "valid" : "invalid"] += 1;
        expect(checked.frames.length === 1).toBe(oracle);
        expect(checked.rejections.length === 1).toBe(!oracle);
      }),
      { numRuns: 3000 },
    );
    // Not vacuous: both outcomes were exercised.
    expect(outcomes.valid).toBeGreaterThan(100);
    expect(outcomes.invalid).toBeGreaterThan(100);
  });
});
