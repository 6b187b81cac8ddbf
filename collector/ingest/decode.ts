// Topic and payload to a decoded wire message (pure). The size is checked before decoding and only
// the schemas compiled at build time (shared/proto.ts) are used; nothing here throws.

import protobuf from "protobufjs/minimal.js";
import {
  EventBatch,
  FrameBatch,
  type IEventBatch,
  type IFrameBatch,
  type IInventory,
  Inventory,
  type IProcessSet,
  type IStatus,
  MAX_PAYLOAD_BYTES,
  ProcessSet,
  SCHEMA_VERSION,
  Status,
} from "../../shared/proto.js";
import { parseTopic } from "../../shared/topics.js";
import { type Rejection, UNKNOWN_HOST } from "./reasons.js";

const { Reader } = protobuf;

export type Decoded =
  | { ok: true; kind: "frame"; host: string; batch: IFrameBatch }
  | { ok: true; kind: "status"; host: string; status: IStatus }
  | { ok: true; kind: "inventory"; host: string; inventory: IInventory }
  | { ok: true; kind: "event"; host: string; events: IEventBatch }
  | { ok: true; kind: "processes"; host: string; processes: IProcessSet }
  | { ok: false; rejection: Rejection };

function reject(host: string, reason: Rejection["reason"], detail: string): Decoded {
  return { ok: false, rejection: { host, reason, detail } };
}

/**
 * Decodes what one topic carries: a FrameBatch (1..N frames, oldest first), a Status, an Inventory
 * an EventBatch (1..N kernel-log events) or a ProcessSet (0..N compute processes).
 */
export function decodePayload(
  topic: string,
  payload: Uint8Array,
  maxFrames = Number.POSITIVE_INFINITY,
  maxEvents = Number.POSITIVE_INFINITY,
  maxProcesses = Number.POSITIVE_INFINITY,
): Decoded {
  const parsed = parseTopic(topic);
  if (!parsed) return reject(UNKNOWN_HOST, "topic_invalid", `topic ${JSON.stringify(topic.slice(0, 200))}`);
  const { host, kind } = parsed;
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return reject(host, "payload_too_large", `${payload.byteLength} bytes > ${MAX_PAYLOAD_BYTES}`);
  }
  try {
    switch (kind) {
      case "frame": {
        // Counted on the wire first: 100,000 empty frames fit in 200 KB, and decoding them
        // (objects, then validation) is what would stall the collector.
        const frames = countBatchFrames(payload, maxFrames);
        if (frames > maxFrames)
          return reject(host, "batch_too_large", `more than ${maxFrames} frames in one batch`);
        const batch = FrameBatch.decode(payload);
        if (batch.schema_version !== SCHEMA_VERSION) return versionReject(host, batch.schema_version);
        return { ok: true, kind, host, batch };
      }
      case "status": {
        const status = Status.decode(payload);
        if (status.schema_version !== SCHEMA_VERSION) return versionReject(host, status.schema_version);
        return { ok: true, kind, host, status };
      }
      case "inventory": {
        const inventory = Inventory.decode(payload);
        if (inventory.schema_version !== SCHEMA_VERSION) return versionReject(host, inventory.schema_version);
        return { ok: true, kind, host, inventory };
      }
      case "event": {
        // Counted on the wire first, as frames are.
        if (countBatchFrames(payload, maxEvents, EVENTS_TAG) > maxEvents)
          return reject(host, "too_many_events", `more than ${maxEvents} events in one batch`);
        const events = EventBatch.decode(payload);
        if (events.schema_version !== SCHEMA_VERSION) return versionReject(host, events.schema_version);
        return { ok: true, kind, host, events };
      }
      case "processes": {
        if (countBatchFrames(payload, maxProcesses, PROCESSES_TAG) > maxProcesses)
          return reject(host, "too_many_processes", `more than ${maxProcesses} processes in one set`);
        const processes = ProcessSet.decode(payload);
        if (processes.schema_version !== SCHEMA_VERSION) return versionReject(host, processes.schema_version);
        return { ok: true, kind, host, processes };
      }
    }
  } catch (error) {
    return reject(host, "decode_error", error instanceof Error ? error.message : String(error));
  }
}

function versionReject(host: string, version: number | null | undefined): Decoded {
  return reject(host, "schema_version", `schema_version ${version ?? 0}, expected ${SCHEMA_VERSION}`);
}

/** FrameBatch field 2 (repeated Frame), length-delimited: tag byte (2 << 3) | 2. */
const FRAMES_TAG = 0x12;
/** EventBatch field 4 (repeated HealthEvent), length-delimited: tag byte (4 << 3) | 2. */
const EVENTS_TAG = 0x22;
/** ProcessSet field 6 (repeated ProcessRecord), length-delimited: tag byte (6 << 3) | 2. */
const PROCESSES_TAG = 0x32;

/**
 * How many frames a FrameBatch holds, from its top-level tags alone (no frame is decoded); stops
 * counting past `max`. Malformed bytes are left to the decoder, which rejects them.
 */
export function countBatchFrames(payload: Uint8Array, max: number, entryTag = FRAMES_TAG): number {
  const reader = Reader.create(payload);
  let frames = 0;
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag === entryTag && ++frames > max) return frames;
      reader.skipType(tag & 7);
    }
  } catch {
    // Truncated or malformed: FrameBatch.decode says so with its own message.
  }
  return frames;
}
