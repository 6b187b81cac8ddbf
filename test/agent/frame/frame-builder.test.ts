// The collector takes (GPU, timestamp) as a sample's identity (a frame re-sent under another boot
// id is a duplicate by it), so two frames of one boot must never share a timestamp. The nvidia-smi
// stream stamps an iteration with the time its first line was read: when the agent is starved of
// CPU, two iterations arrive in one chunk and get the same read time. The collector then stored
// the second frame's sequence number but dropped its GPU samples as duplicates (collector-kill's
// "92 rollup samples for 94 GPU entries" under load).
import { describe, expect, it } from "vitest";
import { type AgentIdentity, FrameBuilder } from "../../../agent/frame/frame-builder.js";
import { CsvStream, type StreamEvent } from "../../../agent/sources/nvidia-smi/csv-stream.js";
import { planQuery } from "../../../agent/sources/nvidia-smi/discovery.js";
import type { SourceSample } from "../../../agent/sources/source.js";

const identity: AgentIdentity = {
  host: "fb-host",
  bootId: "boot-1",
  site: "",
  labels: {},
  intervalMs: 100,
  agentVersion: "test",
};
const sample = (timestampMs: number): SourceSample => ({ timestampMs, gpus: [] });

describe("FrameBuilder timestamps", () => {
  it("two iterations read in one chunk become frames with distinct, increasing timestamps", () => {
    const plan = planQuery(new Set(["utilization.gpu"]));
    const stream = new CsvStream(plan, [
      { index: 0, uuid: "GPU-0" },
      { index: 1, uuid: "GPU-1" },
    ]);
    const row = (i: number) => `2026/07/14 08:12:38.696, ${i}, GPU-${i}, 00000000:3${i}:00.0, 50`;
    // Both iterations' lines handed over at one instant (one read after a stall).
    const events: StreamEvent[] = [row(0), row(1), row(0), row(1), row(0)].flatMap((l) =>
      stream.push(l, 1_000),
    );
    const readings = events.flatMap((e) => (e.type === "sample" ? [e] : []));
    expect(readings.map((r) => r.timestampMs)).toEqual([1_000, 1_000]);

    const builder = new FrameBuilder(identity);
    const frames = readings.map((r) =>
      builder.build({ timestampMs: r.timestampMs, gpus: r.gpus }, undefined, 0),
    );
    expect(frames.map((f) => [f.seq, f.timestamp_ms])).toEqual([
      [1, 1_000],
      [2, 1_001],
    ]);
  });

  it("keeps source times that increase, and moves a repeated one just past the previous frame", () => {
    const builder = new FrameBuilder(identity);
    const times = [5_000, 5_100, 5_100, 5_100, 5_101, 5_300].map(
      (t) => builder.build(sample(t), undefined, 0).timestamp_ms,
    );
    expect(times).toEqual([5_000, 5_100, 5_101, 5_102, 5_103, 5_300]);
  });

  it("follows a wall clock stepped back by more than an interval (no clamping for an hour)", () => {
    const builder = new FrameBuilder(identity);
    const times = [10_000_000, 10_000_100, 6_400_000, 6_400_100].map(
      (t) => builder.build(sample(t), undefined, 0).timestamp_ms,
    );
    expect(times).toEqual([10_000_000, 10_000_100, 6_400_000, 6_400_100]);
  });
});
