// What the embedded broker lets through, as pure decisions: the MQTT 5 reason code that refuses a
// rejected publish, which publishes may be retained, and who may subscribe.

import { parseTopic } from "../../shared/topics.js";
import type { RejectReason } from "../ingest/reasons.js";
import type { UserRole } from "./users-file.js";

/**
 * MQTT 5 reason codes (OASIS MQTT 5.0 §2.4) the broker answers with. A PUBACK may carry only
 * 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97 and 0x99 (§3.4.2.1): mqtt.js's parser stops
 * reading the connection on any other (0x95 "Packet too large", 0x9A "Retain not supported").
 */
export const REASON = {
  UNSPECIFIED_ERROR: 0x80,
  /** "The PUBLISH is valid but the receiver is not willing to accept it." */
  IMPLEMENTATION_SPECIFIC: 0x83,
  NOT_AUTHORIZED: 0x87,
  TOPIC_NAME_INVALID: 0x90,
  QUOTA_EXCEEDED: 0x97,
  PAYLOAD_FORMAT_INVALID: 0x99,
} as const;

/**
 * The code a refused publish gets in its PUBACK, and what it tells the agent (agent/publish/
 * mqtt-publisher.ts): 0x99 "this content will never be taken" (the agent drops it from its
 * spool); 0x87 "not as you" and 0x97 "not now: a quota" (the agent keeps it and retries, so an
 * operator can fix the account or raise the limit without losing data). A reason not listed
 * here (one added later) is a content problem; a limit's reason belongs with 0x97.
 */
const CODE_OF: Partial<Record<RejectReason, number>> = {
  username_mismatch: REASON.NOT_AUTHORIZED,
  host_mismatch: REASON.NOT_AUTHORIZED,
  topic_invalid: REASON.TOPIC_NAME_INVALID,
  // Another host holds the GPU: the agent keeps the frame, which is taken once an operator approves
  // the move (gputel collector approve-move) or the owner is gone past limits.gpu_move_hold.
  gpu_claimed_by_other_host: REASON.NOT_AUTHORIZED,
  // The collector's limits (limits.*): an operator can raise them, so the agent keeps what it sent.
  label_limit: REASON.QUOTA_EXCEEDED,
  string_too_long: REASON.QUOTA_EXCEEDED,
  batch_too_large: REASON.QUOTA_EXCEEDED,
  too_many_events: REASON.QUOTA_EXCEEDED,
  too_many_processes: REASON.QUOTA_EXCEEDED,
  rate_limited: REASON.QUOTA_EXCEEDED,
  host_limit: REASON.QUOTA_EXCEEDED,
  boot_limit: REASON.QUOTA_EXCEEDED,
  gpu_limit: REASON.QUOTA_EXCEEDED,
  host_gpu_limit: REASON.QUOTA_EXCEEDED,
};

export function refusalCode(reason: RejectReason): number {
  return CODE_OF[reason] ?? REASON.PAYLOAD_FORMAT_INVALID;
}

export interface RetainLimits {
  /** Largest payload kept as a retained message. */
  maxBytes: number;
  /** Most retained messages kept at once. */
  maxMessages: number;
}

/**
 * "refuse": a retained publish on a topic the design never retains (only status and inventory
 * are). "drop-retain": ingest and relay it, but do not keep it (too big, or the store is full
 * and the topic is new). "retain": keep it.
 */
export type RetainDecision = "retain" | "drop-retain" | "refuse";

export function retainDecision(
  topic: string,
  payloadBytes: number,
  retained: ReadonlySet<string>,
  limits: RetainLimits,
): RetainDecision {
  const kind = parseTopic(topic)?.kind;
  // frame, event (kernel-log health events) and processes are QoS 1 streams, never retained.
  if (kind !== "status" && kind !== "inventory") return "refuse";
  if (payloadBytes > limits.maxBytes) return "drop-retain";
  if (!retained.has(topic) && retained.size >= limits.maxMessages) return "drop-retain";
  return "retain";
}

/**
 * With a users_file, only `reader` accounts subscribe (agents publish and never subscribe);
 * without one the broker is anonymous and loopback-only, and every local client may.
 */
export function maySubscribe(role: UserRole | undefined, authOn: boolean): boolean {
  return !authOn || role === "reader";
}
