// The ingest boundary: one received MQTT message in, what to store and what to count out.
// Pure and total: whatever the bytes, it returns (a bug in a check becomes a decode_error rejection).
import type { IInventory, IStatus } from "../../shared/proto.js";
import { decodePayload } from "./decode.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { type Rejection, UNKNOWN_HOST } from "./reasons.js";
import type { ValidFrame } from "./validate.js";
import { type ValidationContext, validateFrame, validateStatus } from "./validate.js";
import { type ValidEvent, validateEventBatch } from "./validate-event.js";
import { validateInventory } from "./validate-inventory.js";
import { type ValidProcessSet, validateProcessSet } from "./validate-processes.js";

export interface CheckedMessage {
  host: string;
  /** Frames that passed, in the order received (oldest first). */
  frames: ValidFrame[];
  status?: IStatus;
  inventory?: IInventory;
  /** Kernel-log events that passed, oldest first. */
  events: ValidEvent[];
  /** A process set that passed (its bad processes dropped and listed in rejections). */
  processes?: ValidProcessSet;
  /** One entry per rejected message or rejected frame of a batch. */
  rejections: Rejection[];
}

export type CheckContext = Omit<ValidationContext, "topicHost">;

export function checkMessage(topic: string, payload: Uint8Array, ctx: CheckContext): CheckedMessage {
  try {
    return checkUnsafe(topic, payload, ctx);
  } catch (error) {
    const detail = `unexpected: ${error instanceof Error ? error.message : String(error)}`;
    return {
      host: UNKNOWN_HOST,
      frames: [],
      events: [],
      rejections: [{ host: UNKNOWN_HOST, reason: "decode_error", detail }],
    };
  }
}

function checkUnsafe(topic: string, payload: Uint8Array, ctx: CheckContext): CheckedMessage {
  const limits = ctx.limits ?? DEFAULT_LIMITS;
  const decoded = decodePayload(
    topic,
    payload,
    limits.maxFramesPerBatch,
    limits.maxEventsPerBatch,
    limits.maxProcessesPerMessage,
  );
  if (!decoded.ok)
    return { host: decoded.rejection.host, frames: [], events: [], rejections: [decoded.rejection] };
  const { host } = decoded;
  const full: ValidationContext = { ...ctx, topicHost: host };
  const result: CheckedMessage = { host, frames: [], events: [], rejections: [] };
  switch (decoded.kind) {
    case "frame": {
      const frames = decoded.batch.frames ?? [];
      if (frames.length === 0) result.rejections.push({ host, reason: "empty_batch", detail: "no frames" });
      for (const frame of frames) {
        const checked = validateFrame(frame, full);
        if (checked.ok) result.frames.push(checked.value);
        else result.rejections.push(checked.rejection);
      }
      break;
    }
    case "status": {
      const checked = validateStatus(decoded.status, full);
      if (checked.ok) result.status = checked.value;
      else result.rejections.push(checked.rejection);
      break;
    }
    case "inventory": {
      const checked = validateInventory(decoded.inventory, full, result.rejections);
      if (checked.ok) result.inventory = checked.value;
      else result.rejections.push(checked.rejection);
      break;
    }
    case "event": {
      if ((decoded.events.events ?? []).length === 0)
        result.rejections.push({ host, reason: "empty_batch", detail: "no events" });
      const checked = validateEventBatch(decoded.events, full);
      if (checked.ok) {
        result.events = checked.value.events;
        result.rejections.push(...checked.value.rejections);
      } else result.rejections.push(checked.rejection);
      break;
    }
    case "processes": {
      const checked = validateProcessSet(decoded.processes, full);
      if (checked.ok) {
        result.processes = checked.value.set;
        result.rejections.push(...checked.value.rejections);
      } else result.rejections.push(checked.rejection);
      break;
    }
  }
  return result;
}
