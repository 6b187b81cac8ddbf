// How many of the oldest pending frames go into one FrameBatch (pure).
// The size is computed exactly as shared/codec.ts encodeFrameBatchFromEncoded writes it, so a planned
// batch never exceeds the byte budget once encoded.
import { MAX_PAYLOAD_BYTES } from "../../shared/proto.js";

/** Room left under the collector's 256 KiB payload limit for the MQTT framing and future fields. */
export const BATCH_HEADROOM_BYTES = 4 * 1024;
export const DEFAULT_BATCH_MAX_BYTES = MAX_PAYLOAD_BYTES - BATCH_HEADROOM_BYTES;
export const DEFAULT_BATCH_MAX_FRAMES = 100;

/** FrameBatch field 1 (schema_version = 1): one tag byte and one varint byte. */
const BATCH_HEADER_BYTES = 2;

export interface BatchLimits {
  maxFrames: number;
  maxBytes: number;
}

export function varintLength(value: number): number {
  let length = 1;
  let rest = value;
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80);
    length += 1;
  }
  return length;
}

/** Bytes one encoded frame adds to a FrameBatch (field 2: tag, length varint, bytes). */
export function batchEntryBytes(payloadBytes: number): number {
  return 1 + varintLength(payloadBytes) + payloadBytes;
}

/** Encoded size of a FrameBatch holding frames of these payload sizes. */
export function frameBatchBytes(payloadSizes: readonly number[]): number {
  let total = BATCH_HEADER_BYTES;
  for (const size of payloadSizes) total += batchEntryBytes(size);
  return total;
}

/**
 * The number of leading frames (oldest first, in the order given) that fit the limits.
 * At least one frame whenever there is one, even if it alone exceeds maxBytes: a frame that big
 * could never be sent any other way, and the collector's own limit decides its fate.
 */
export function planBatch(
  payloadSizes: readonly number[],
  limits: BatchLimits,
): { count: number; bytes: number } {
  const batch = { count: 0, bytes: 0 };
  for (const size of payloadSizes) {
    if (!addToBatch(batch, size, limits)) break;
  }
  return batch;
}

/** Adds one frame to a batch being filled (`{count: 0, bytes: 0}` when empty) if it fits; says whether it did. */
export function addToBatch(
  batch: { count: number; bytes: number },
  payloadBytes: number,
  limits: BatchLimits,
): boolean {
  if (batch.count >= limits.maxFrames) return false;
  const next = (batch.count === 0 ? BATCH_HEADER_BYTES : batch.bytes) + batchEntryBytes(payloadBytes);
  if (batch.count > 0 && next > limits.maxBytes) return false;
  batch.bytes = next;
  batch.count += 1;
  return true;
}
