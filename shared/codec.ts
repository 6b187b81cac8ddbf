// Encoding and decoding of the wire messages, and their JSON form (field names as in the proto).
import {
  Frame,
  FrameBatch,
  type IFrame,
  type IInventory,
  Inventory,
  type IStatus,
  SCHEMA_VERSION,
  Status,
} from "./proto.js";

export function encodeFrameBatch(frames: readonly IFrame[]): Uint8Array {
  return FrameBatch.encode({ schema_version: SCHEMA_VERSION, frames: [...frames] }).finish();
}

/** Wraps already-encoded frames into a FrameBatch without decoding them (replay path). */
export function encodeFrameBatchFromEncoded(encodedFrames: readonly Uint8Array[]): Uint8Array {
  const writer = FrameBatch.encode({ schema_version: SCHEMA_VERSION, frames: [] });
  for (const bytes of encodedFrames) writer.uint32((2 << 3) | 2).bytes(bytes);
  return writer.finish();
}

export function encodeFrame(frame: IFrame): Uint8Array {
  return Frame.encode(frame).finish();
}

export function encodeStatus(status: IStatus): Uint8Array {
  return Status.encode(status).finish();
}

export function encodeInventory(inventory: IInventory): Uint8Array {
  return Inventory.encode(inventory).finish();
}

const JSON_OPTIONS = { enums: String, longs: Number, defaults: false, arrays: true, objects: true } as const;

/** float32 fields print as the decimal they were read as (69.85, not 69.8499984741211). */
function shortestFloat32(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(7)) : value;
}

/** Plain JSON view of a frame: absent fields stay absent, enums by name. */
export function frameToJson(frame: IFrame): Record<string, unknown> {
  const object = Frame.toObject(Frame.fromObject(frame as Record<string, unknown>), JSON_OPTIONS);
  return JSON.parse(JSON.stringify(object, shortestFloat32)) as Record<string, unknown>;
}
