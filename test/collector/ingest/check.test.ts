import { describe, expect, it } from "vitest";
import { checkMessage } from "../../../collector/ingest/check.js";
import { encodeFrameBatch, encodeInventory } from "../../../shared/codec.js";
import { FrameBatch, MAX_PAYLOAD_BYTES, SCHEMA_VERSION, Status } from "../../../shared/proto.js";
import { AgentState, framePayload, frameTopic, gpuSample, makeFrame, statusPayload } from "./frames.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const ctx = { username: undefined, nowMs: NOW };
const H = "gpu-node-01";

function reasons(topic: string, payload: Uint8Array, username?: string): string[] {
  return checkMessage(topic, payload, { ...ctx, username }).rejections.map((r) => r.reason);
}

describe("checkMessage", () => {
  it("accepts a valid frame with its values intact and typed for storage", () => {
    const checked = checkMessage(frameTopic(H), framePayload(H, 7, { timestampMs: NOW }), ctx);
    expect(checked.rejections).toEqual([]);
    expect(checked.frames).toHaveLength(1);
    const frame = checked.frames[0]!;
    expect(frame).toMatchObject({ host: H, seq: 7, timestamp_ms: NOW, boot_id: "boot-1", interval_ms: 1000 });
    expect(typeof frame.seq).toBe("number");
    expect(frame.gpus?.[3]).toMatchObject({ index: 3, utilization_gpu_pct: 87, power_draw_watts: 512.5 });
  });

  it("keeps absent metrics absent", () => {
    const gpu = gpuSample(0, { utilization_gpu_pct: undefined });
    const payload = encodeFrameBatch([
      makeFrame(H, 1, { timestampMs: NOW, gpus: 0, overrides: { gpus: [gpu] } }),
    ]);
    const frame = checkMessage(frameTopic(H), payload, ctx).frames[0]!;
    expect(frame.gpus?.[0]?.utilization_gpu_pct ?? undefined).toBeUndefined();
    expect(frame.gpus?.[0]?.temperature_gpu_celsius).toBe(64);
  });

  it("accepts a replay batch oldest first and drops only the bad frame", () => {
    const frames = [1, 2, 3].map((seq) => makeFrame(H, seq, { timestampMs: NOW - (4 - seq) * 1000 }));
    frames[1] = makeFrame(H, 2, {
      timestampMs: NOW,
      gpus: 0,
      overrides: { gpus: [gpuSample(0, { temperature_gpu_celsius: 900 })] },
    });
    const checked = checkMessage(frameTopic(H), encodeFrameBatch(frames), ctx);
    expect(checked.frames.map((f) => f.seq)).toEqual([1, 3]);
    expect(checked.rejections.map((r) => r.reason)).toEqual(["value_out_of_range"]);
  });

  it("accepts frames older than any retention (they feed the rollups)", () => {
    const old = NOW - 400 * 24 * 3600_000;
    expect(checkMessage(frameTopic(H), framePayload(H, 1, { timestampMs: old }), ctx).frames).toHaveLength(1);
  });

  it.each([
    ["random bytes", frameTopic(H), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), "decode_error"],
    ["truncated", frameTopic(H), framePayload(H, 1, { timestampMs: NOW }).slice(0, 100), "decode_error"],
    ["oversized", frameTopic(H), new Uint8Array(MAX_PAYLOAD_BYTES + 1), "payload_too_large"],
    ["wrong topic", "gputel/v1/a/b/frame", framePayload(H, 1, { timestampMs: NOW }), "topic_invalid"],
    ["unknown kind", `gputel/v1/${H}/metrics`, framePayload(H, 1, { timestampMs: NOW }), "topic_invalid"],
    ["wrong host", frameTopic("other-host"), framePayload(H, 1, { timestampMs: NOW }), "host_mismatch"],
    ["future", frameTopic(H), framePayload(H, 1, { timestampMs: NOW + 11 * 60_000 }), "timestamp_future"],
    ["no timestamp", frameTopic(H), framePayload(H, 1, { timestampMs: 0 }), "timestamp_invalid"],
    ["seq 0", frameTopic(H), framePayload(H, 0, { timestampMs: NOW }), "field_invalid"],
    ["no boot id", frameTopic(H), framePayload(H, 1, { timestampMs: NOW, bootId: "" }), "field_invalid"],
    ["empty batch", frameTopic(H), encodeFrameBatch([]), "empty_batch"],
    [
      "batch version",
      frameTopic(H),
      FrameBatch.encode({ schema_version: 2, frames: [makeFrame(H, 1, { timestampMs: NOW })] }).finish(),
      "schema_version",
    ],
    [
      "frame version",
      frameTopic(H),
      encodeFrameBatch([makeFrame(H, 1, { timestampMs: NOW, overrides: { schema_version: 9 } })]),
      "schema_version",
    ],
    ["too many GPUs", frameTopic(H), framePayload(H, 1, { timestampMs: NOW, gpus: 65 }), "too_many_gpus"],
    [
      "duplicate GPU",
      frameTopic(H),
      encodeFrameBatch([
        makeFrame(H, 1, { timestampMs: NOW, gpus: 0, overrides: { gpus: [gpuSample(1), gpuSample(1)] } }),
      ]),
      "duplicate_gpu",
    ],
    [
      "NaN power",
      frameTopic(H),
      encodeFrameBatch([
        makeFrame(H, 1, {
          timestampMs: NOW,
          gpus: 0,
          overrides: { gpus: [gpuSample(0, { power_draw_watts: Number.NaN })] },
        }),
      ]),
      "value_out_of_range",
    ],
    [
      "absurd utilization",
      frameTopic(H),
      encodeFrameBatch([
        makeFrame(H, 1, {
          timestampMs: NOW,
          gpus: 0,
          overrides: { gpus: [gpuSample(0, { utilization_gpu_pct: 101 })] },
        }),
      ]),
      "value_out_of_range",
    ],
    [
      "absurd host load",
      frameTopic(H),
      encodeFrameBatch([
        makeFrame(H, 1, { timestampMs: NOW, overrides: { host_sample: { cpu_load_pct: -3 } } }),
      ]),
      "value_out_of_range",
    ],
  ])("rejects %s", (_name, topic, payload, reason) => {
    const checked = checkMessage(topic, payload, ctx);
    expect(checked.frames).toEqual([]);
    expect(checked.rejections.map((r) => r.reason)).toEqual([reason]);
  });

  it("checks the username only where authentication is on", () => {
    const payload = framePayload(H, 1, { timestampMs: NOW });
    expect(reasons(frameTopic(H), payload, "someone-else")).toEqual(["username_mismatch"]);
    expect(reasons(frameTopic(H), payload, H)).toEqual([]);
    expect(reasons(frameTopic(H), payload, undefined)).toEqual([]);
  });

  it("accepts a status and an inventory, and checks their host and version", () => {
    const status = checkMessage(
      `gputel/v1/${H}/status`,
      statusPayload(H, AgentState.AGENT_STATE_OFFLINE, "connection lost", NOW),
      ctx,
    );
    expect(status.status).toMatchObject({ host: H, state: AgentState.AGENT_STATE_OFFLINE });
    const inventory = encodeInventory({
      schema_version: SCHEMA_VERSION,
      host: H,
      timestamp_ms: NOW,
      gpus: [{ index: 0, uuid: "GPU-1" }],
    });
    expect(checkMessage(`gputel/v1/${H}/inventory`, inventory, ctx).inventory?.host).toBe(H);
    expect(reasons(`gputel/v1/other/inventory`, inventory)).toEqual(["host_mismatch"]);
    const v2 = Status.encode({ schema_version: 2, host: H, state: 1, timestamp_ms: NOW }).finish();
    expect(reasons(`gputel/v1/${H}/status`, v2)).toEqual(["schema_version"]);
  });
});
