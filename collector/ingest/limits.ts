// What one agent may make the collector store (docs/design.md §8: every agent is untrusted input, even an
// authenticated one). The `limits:` section of collector.yaml; each default is written once here.
// Past a limit the message (or, for the GPU limits, the GPU entry) is rejected with its reason.
import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { Duration } from "../../shared/config/formats.js";
import { durationMs } from "../../shared/config/units.js";

/** The `limits:` section's schema (collector/config.ts places it). */
export function limitsSchema() {
  return Type.Object(
    {
      max_hosts: Type.Integer({ minimum: 1, default: 10_000, description: "hosts the collector stores" }),
      max_gpus: Type.Integer({
        minimum: 1,
        default: 100_000,
        description: "GPUs the collector stores, fleet-wide (a GPU once seen is kept with its history)",
      }),
      max_gpus_per_host: Type.Integer({
        minimum: 1,
        maximum: 1024,
        default: 64,
        description: "GPUs one host may have at once (in its inventory or reporting within gpu_move_hold)",
      }),
      max_boots_per_host: Type.Integer({
        minimum: 1,
        default: 1000,
        description: "agent boot ids per host kept for idempotence (within the raw retention)",
      }),
      max_label_keys: Type.Integer({
        minimum: 0,
        maximum: 1000,
        default: 32,
        description: "labels per host",
      }),
      max_label_key_length: Type.Integer({ minimum: 1, maximum: 1024, default: 64 }),
      max_label_value_length: Type.Integer({ minimum: 1, maximum: 4096, default: 256 }),
      max_string_length: Type.Integer({
        minimum: 16,
        maximum: 4096,
        default: 256,
        description: "inventory strings (model, serial, VBIOS, driver, OS, kernel, CPU model ...)",
      }),
      max_frames_per_batch: Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: 2000,
        description:
          "frames in one FrameBatch message (the agent's spool.replay_batch_frames must not exceed it)",
      }),
      max_events_per_batch: Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: 1000,
        description: "kernel-log events in one EventBatch message (counted before decoding)",
      }),
      max_processes_per_message: Type.Integer({
        minimum: 1,
        maximum: 4096,
        default: 1024,
        description: "processes in one ProcessSet message (counted before decoding)",
      }),
      max_frames_per_second: Type.Integer({
        minimum: 1,
        default: 1000,
        description: "frames per second per host, averaged; one full batch may arrive at once",
      }),
      gpu_move_hold: Duration(
        "10m",
        "how long a silent host keeps its GPUs before another host may claim them",
      ),
    },
    { additionalProperties: false, default: {} },
  );
}

export interface IngestLimits {
  maxHosts: number;
  maxGpus: number;
  maxGpusPerHost: number;
  maxBootsPerHost: number;
  maxLabelKeys: number;
  maxLabelKeyLength: number;
  maxLabelValueLength: number;
  maxStringLength: number;
  maxFramesPerBatch: number;
  maxEventsPerBatch: number;
  /** Processes in one ProcessSet (gputel/v1/<host>/processes). */
  maxProcessesPerMessage: number;
  maxFramesPerSecond: number;
  gpuMoveHoldMs: number;
}

export type LimitsYaml = Static<ReturnType<typeof limitsSchema>>;

export function toIngestLimits(y: LimitsYaml): IngestLimits {
  return {
    maxHosts: y.max_hosts,
    maxGpus: y.max_gpus,
    maxGpusPerHost: y.max_gpus_per_host,
    maxBootsPerHost: y.max_boots_per_host,
    maxLabelKeys: y.max_label_keys,
    maxLabelKeyLength: y.max_label_key_length,
    maxLabelValueLength: y.max_label_value_length,
    maxStringLength: y.max_string_length,
    maxFramesPerBatch: y.max_frames_per_batch,
    maxEventsPerBatch: y.max_events_per_batch,
    maxProcessesPerMessage: y.max_processes_per_message,
    maxFramesPerSecond: y.max_frames_per_second,
    gpuMoveHoldMs: durationMs(y.gpu_move_hold),
  };
}

/** The schema's defaults, for code that runs without a configuration (tests, the pipeline alone). */
export const DEFAULT_LIMITS: IngestLimits = toIngestLimits(Value.Default(limitsSchema(), {}) as LimitsYaml);
