// The closed set of reasons a received message (or one frame of a batch) is rejected for.
// Each is a label of gputel_ingest_rejected_total{reason} and a row of docs/errors.md's "Reject
// reasons" table; test/docs/errors-doc.test.ts fails when one is missing from either side.

export const REJECT_REASONS = [
  /** Payload above MAX_PAYLOAD_BYTES (checked before decoding). */
  "payload_too_large",
  /** Bytes that are not the protobuf message the topic carries. */
  "decode_error",
  /** schema_version other than the one this build speaks. */
  "schema_version",
  /** Topic outside gputel/v1/<host>/{frame,status,inventory,event,processes} or with an invalid host id. */
  "topic_invalid",
  /** The payload's host differs from the topic's host. */
  "host_mismatch",
  /** Authentication is on and the MQTT username differs from the topic's host. */
  "username_mismatch",
  /** Sample timestamp more than the allowed skew ahead of the collector's clock. */
  "timestamp_future",
  /** Timestamp absent, not an integer, or before 2000-01-01. */
  "timestamp_invalid",
  /** A metric beyond its physical range (shared/metrics.ts) or not finite: that frame is dropped. */
  "value_out_of_range",
  /** A FrameBatch with no frames, or an EventBatch with no events. */
  "empty_batch",
  /** More GPU entries than any server has. */
  "too_many_gpus",
  /** Two GPU entries with the same index or UUID in one frame. */
  "duplicate_gpu",
  /** A required identity field is missing or malformed (boot id, seq, interval, string sizes, a status's source counters). */
  "field_invalid",
  /** A GPU UUID outside the shared id rule (shared/gpu-id.ts): the frame or inventory is dropped. */
  "gpu_uuid_invalid",
  /** More labels, or longer label keys or values, than limits.max_label_* allow. */
  "label_limit",
  /** An inventory string longer than limits.max_string_length. */
  "string_too_long",
  /** A FrameBatch with more frames than limits.max_frames_per_batch (counted before decoding). */
  "batch_too_large",
  /** The host sent more frames than limits.max_frames_per_second allows: the message is dropped. */
  "rate_limited",
  /** A host not yet known while limits.max_hosts hosts are: the message is dropped. */
  "host_limit",
  /** Frames of a boot id new to the host while it already has limits.max_boots_per_host: dropped. */
  "boot_limit",
  /** A GPU new to the collector while it already stores limits.max_gpus: that GPU entry is dropped. */
  "gpu_limit",
  /** A new GPU on a host that already has limits.max_gpus_per_host: that GPU entry is dropped. */
  "host_gpu_limit",
  /** A GPU that another, live host reports: this host's entry (GPU sample, inventory entry, event, process) for it is dropped (see docs/errors.md). */
  "gpu_claimed_by_other_host",
  /** A kernel-log event (EventBatch) with a bad kind, code, bus id, UUID, pid, text length, time, boot id or seq: that event is dropped. */
  "event_invalid",
  /** A kernel-log event older than the longest retention tier (pruned, or never kept): that event is dropped. */
  "event_too_old",
  /** An EventBatch with more events than limits.max_events_per_batch (counted before decoding). */
  "too_many_events",
  /** A process of a ProcessSet with a bad GPU or MIG UUID, pid, start, name, memory, SM % or memory %, user or workload id, or listed twice: that process is dropped. */
  "process_invalid",
  /** A process's absence (why a field is missing) with an unknown field or reason, a why too long or with control characters, or past 16: that absence is dropped, the process kept. */
  "process_absence_invalid",
  /** A ProcessSet older than the longest retention tier (its sessions pruned, or never kept): the set is dropped, counted once per process. */
  "process_too_old",
  /** A ProcessSet with more processes than limits.max_processes_per_message (counted before decoding). */
  "too_many_processes",
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

/** One rejected message or frame: the host it claimed (or "-" when not even the topic names one). */
export interface Rejection {
  host: string;
  reason: RejectReason;
  /** Human detail for the log (never stored). */
  detail: string;
}

/** Host label used when the topic does not name a valid host. */
export const UNKNOWN_HOST = "-";
