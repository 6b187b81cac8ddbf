// 64-bit fields decode as plain numbers, as the generated types say, including those absent on the
// wire: proto3 does not encode a zero, so the decoded message reads the generated prototype's
// default, which protobufjs fixes when the generated module is evaluated (a Long object if Long was
// still on then). See shared/proto-numbers.ts.
import { describe, expect, it } from "vitest";
import { FrameBatch, type IFrame, Inventory, Status } from "../../shared/proto.js";

function numbers(message: object, keys: readonly string[]): Record<string, string> {
  const record = message as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, typeof record[k]]));
}

describe("64-bit fields", () => {
  it("decode as numbers when absent on the wire (zero)", () => {
    const batch = FrameBatch.decode(FrameBatch.encode({ schema_version: 1, frames: [{}] }).finish());
    const frame: IFrame = batch.frames?.[0] ?? {};
    expect(numbers(frame, ["seq", "timestamp_ms", "frames_dropped"])).toEqual({
      seq: "number",
      timestamp_ms: "number",
      frames_dropped: "number",
    });
    expect(frame.frames_dropped).toBe(0);
    const status = Status.decode(Status.encode({ schema_version: 1 }).finish());
    expect(numbers(status, ["timestamp_ms"])).toEqual({ timestamp_ms: "number" });
    const inventory = Inventory.decode(Inventory.encode({ schema_version: 1, host_info: {} }).finish());
    expect(numbers(inventory, ["timestamp_ms"])).toEqual({ timestamp_ms: "number" });
    expect(numbers(inventory.host_info ?? {}, ["memory_total_bytes"])).toEqual({
      memory_total_bytes: "number",
    });
  });

  it("decode as numbers when present", () => {
    const encoded = FrameBatch.encode({
      schema_version: 1,
      frames: [{ seq: 7, timestamp_ms: 1_700_000_000_123, frames_dropped: 3 }],
    }).finish();
    const frame: IFrame = FrameBatch.decode(encoded).frames?.[0] ?? {};
    expect([frame.seq, frame.timestamp_ms, frame.frames_dropped]).toEqual([7, 1_700_000_000_123, 3]);
  });
});
