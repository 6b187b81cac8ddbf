// Checks decoded messages against the contract (pure; the clock is passed in). A frame that fails
// is dropped on its own: the other frames of its batch still count. Timestamps older than the raw
// retention are accepted on purpose: storage routes them to the rollup tiers they fall within.
import { isValidGpuUuid, MAX_GPU_INDEX, MAX_GPU_UUID_LENGTH } from "../../shared/gpu-id.js";
import { METRICS } from "../../shared/metrics.js";
import {
  AgentState,
  GpuState,
  type IFrame,
  type IGpuSample,
  type IHostSample,
  type IStatus,
  MAX_FRAME_INTERVAL_MS,
  SCHEMA_VERSION,
} from "../../shared/proto.js";
import { DEFAULT_LIMITS, type IngestLimits } from "./limits.js";
import type { Rejection, RejectReason } from "./reasons.js";

/** A frame that passed validation: host matches topic (and username), timestamps and ranges are sane. */
export interface ValidFrame extends IFrame {
  host: string;
  boot_id: string;
  seq: number;
  timestamp_ms: number;
  interval_ms: number;
}

export interface ValidationContext {
  /** The host named by the topic (already a valid host id). */
  topicHost: string;
  /** The MQTT username where authentication is on; undefined when it is off. */
  username: string | undefined;
  nowMs: number;
  /** How far ahead of the collector clock a timestamp may be (default 10 minutes). */
  maxFutureMs?: number;
  /** Label and string limits (default DEFAULT_LIMITS). */
  limits?: IngestLimits;
}

export const DEFAULT_MAX_FUTURE_MS = 10 * 60_000;
/** More GPU entries than any server has (the largest have 16; MIG instances are not entries). */
export const MAX_GPUS_PER_FRAME = 64;
const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);
const KNOWN_GPU_STATES = new Set<number>(Object.values(GpuState).filter((v) => typeof v === "number"));
const KNOWN_AGENT_STATES = new Set<number>([AgentState.AGENT_STATE_ONLINE, AgentState.AGENT_STATE_OFFLINE]);

export class Invalid extends Error {
  constructor(
    readonly reason: RejectReason,
    detail: string,
  ) {
    super(detail);
  }
}

export function fail(reason: RejectReason, detail: string): never {
  throw new Invalid(reason, detail);
}

export type Checked<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

/** Runs a check; an Invalid becomes a rejection, anything else is a bug and propagates. */
export function guard<T>(host: string, check: () => T): Checked<T> {
  try {
    return { ok: true, value: check() };
  } catch (error) {
    if (error instanceof Invalid)
      return { ok: false, rejection: { host, reason: error.reason, detail: error.message } };
    throw error;
  }
}

export function checkIdentity(ctx: ValidationContext, payloadHost: string | null | undefined): void {
  if (payloadHost !== ctx.topicHost)
    fail("host_mismatch", `payload host ${JSON.stringify(payloadHost)} on topic of ${ctx.topicHost}`);
  if (ctx.username !== undefined && ctx.username !== ctx.topicHost) {
    fail("username_mismatch", `username ${JSON.stringify(ctx.username)} publishing as ${ctx.topicHost}`);
  }
}

export function checkTimestamp(ctx: ValidationContext, value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < MIN_TIMESTAMP_MS) {
    fail("timestamp_invalid", `${name} ${String(value)}`);
  }
  const ahead = value - ctx.nowMs;
  if (ahead > (ctx.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS))
    fail("timestamp_future", `${name} ${ahead} ms ahead`);
  return value;
}

const MAX_SOURCES = 16;
/** A registry name as in the agent's `sources:` (agent/sources/catalog.ts). */
const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const SOURCE_COUNTERS = ["restarts", "timeouts", "exits", "stuck_children", "start_failures"] as const;

export function checkText(
  value: string | null | undefined,
  name: string,
  max: number,
  required = false,
): void {
  const text = value ?? "";
  if (text.length > max || (required && text.length === 0))
    fail("field_invalid", `${name} length ${text.length}`);
}

/** A host's labels: bounded in number and length (limits.max_label_*), so no agent grows the label set. */
export function checkLabels(labels: Record<string, string> | null | undefined, limits: IngestLimits): void {
  const entries = Object.entries(labels ?? {});
  if (entries.length > limits.maxLabelKeys)
    fail("label_limit", `${entries.length} labels > ${limits.maxLabelKeys}`);
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > limits.maxLabelKeyLength)
      fail("label_limit", `label key length ${key.length} (1..${limits.maxLabelKeyLength})`);
    if (value.length > limits.maxLabelValueLength)
      fail(
        "label_limit",
        `label ${key.slice(0, 64)} value length ${value.length} > ${limits.maxLabelValueLength}`,
      );
  }
}

function checkRange(value: unknown, min: number, max: number, name: string): void {
  if (value === null || value === undefined || typeof value === "boolean") return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    fail("value_out_of_range", `${name} ${String(value)} outside [${min}, ${max}]`);
  }
}

// The metric ranges as flat arrays: this check runs for every GPU of every frame.
const RANGE_KEYS: readonly string[] = METRICS.map((m) => m.key);
const RANGE_MIN = Float64Array.from(METRICS, (m) => m.min);
const RANGE_MAX = Float64Array.from(METRICS, (m) => m.max);

/**
 * The first metric (its index) whose value is present and not a number within its range, or -1
 * (absent and boolean values pass). Compiled once from METRICS with literal property names, as
 * collector/store/sample.ts scaleSample: computed names (gpu[key]) cost most of this loop's time.
 */
const firstOutOfRange = new Function(
  "g",
  "min",
  "max",
  [
    "let v;",
    ...RANGE_KEYS.map(
      (key, i) =>
        `v = g.${key}; if (v !== null && v !== undefined && typeof v !== "boolean" && !(typeof v === "number" && v >= min[${i}] && v <= max[${i}])) return ${i};`,
    ),
    "return -1;",
  ].join("\n"),
) as (gpu: IGpuSample, min: Float64Array, max: Float64Array) => number;

function checkGpu(gpu: IGpuSample): void {
  const index = gpu.index ?? 0;
  if (index > MAX_GPU_INDEX) fail("field_invalid", `gpu index ${index}`);
  checkGpuUuid(gpu.uuid, index);
  if ((gpu.state_detail?.length ?? 0) > 1024 || (gpu.pci_bus_id?.length ?? 0) > 64) {
    fail("field_invalid", `gpu ${index}: state_detail or pci_bus_id too long`);
  }
  if (!KNOWN_GPU_STATES.has(gpu.state ?? 0)) fail("field_invalid", `gpu ${index} state ${gpu.state}`);
  if ((gpu.absent?.length ?? 0) > METRICS.length)
    fail("field_invalid", `gpu ${index}: ${gpu.absent?.length} absences`);
  // Written so that NaN and non-numbers fail too (checkRange throws for each of them).
  const i = firstOutOfRange(gpu, RANGE_MIN, RANGE_MAX);
  if (i >= 0) {
    const key = RANGE_KEYS[i] as string;
    checkRange(
      (gpu as Record<string, unknown>)[key],
      RANGE_MIN[i] as number,
      RANGE_MAX[i] as number,
      `gpu ${index} ${key}`,
    );
  }
}

/** The shared GPU id rule (shared/gpu-id.ts); an empty UUID is allowed (stored as host/gpuN). */
export function checkGpuUuid(uuid: string | null | undefined, index: number): void {
  if (!uuid || isValidGpuUuid(uuid)) return;
  fail(
    "gpu_uuid_invalid",
    `gpu ${index} uuid ${JSON.stringify(uuid.slice(0, MAX_GPU_UUID_LENGTH))}${uuid.length > MAX_GPU_UUID_LENGTH ? ` (${uuid.length} characters)` : ""}`,
  );
}

function checkHostSample(sample: IHostSample | null | undefined): void {
  if (!sample) return;
  checkRange(sample.cpu_load_pct, 0, 100.5, "cpu_load_pct");
  checkRange(sample.load_average_1m, 0, 1e6, "load_average_1m");
  checkRange(sample.memory_total_bytes, 0, 2 ** 53, "memory_total_bytes");
  checkRange(sample.memory_used_bytes, 0, 2 ** 53, "memory_used_bytes");
  checkRange(sample.uptime_seconds, 0, 2 ** 53, "uptime_seconds");
}

export function checkGpuList(gpus: readonly { index?: number | null; uuid?: string | null }[]): void {
  if (gpus.length > MAX_GPUS_PER_FRAME) fail("too_many_gpus", `${gpus.length} GPUs > ${MAX_GPUS_PER_FRAME}`);
  const indexes = new Set<number>();
  const uuids = new Set<string>();
  for (const gpu of gpus) {
    const index = gpu.index ?? 0;
    if (indexes.has(index)) fail("duplicate_gpu", `gpu index ${index} twice`);
    indexes.add(index);
    if (gpu.uuid) {
      if (uuids.has(gpu.uuid)) fail("duplicate_gpu", `gpu uuid ${gpu.uuid} twice`);
      uuids.add(gpu.uuid);
    }
  }
}

/** Validates one frame of a batch; returns it typed for storage, or why it is dropped. */
export function validateFrame(frame: IFrame, ctx: ValidationContext): Checked<ValidFrame> {
  return guard(ctx.topicHost, () => {
    if (frame.schema_version !== SCHEMA_VERSION)
      fail("schema_version", `frame schema_version ${frame.schema_version ?? 0}`);
    checkIdentity(ctx, frame.host);
    const timestamp = checkTimestamp(ctx, frame.timestamp_ms, "timestamp_ms");
    checkText(frame.boot_id, "boot_id", 64, true);
    const seq = frame.seq ?? 0;
    if (!Number.isSafeInteger(seq) || seq < 1) fail("field_invalid", `seq ${seq}`);
    const interval = frame.interval_ms ?? 0;
    if (interval < 1 || interval > MAX_FRAME_INTERVAL_MS) fail("field_invalid", `interval_ms ${interval}`);
    checkText(frame.site, "site", 128);
    checkText(frame.agent_version, "agent_version", 64);
    checkText(frame.source_error, "source_error", 4096);
    checkLabels(frame.labels, ctx.limits ?? DEFAULT_LIMITS);
    const frames = frame.frames_dropped ?? 0;
    if (!Number.isSafeInteger(frames) || frames < 0) fail("field_invalid", `frames_dropped ${frames}`);
    const gpus = frame.gpus ?? [];
    checkGpuList(gpus);
    for (const gpu of gpus) checkGpu(gpu);
    checkHostSample(frame.host_sample);
    // The decoded message is ours: typing it in place avoids copying every frame on the hot path.
    return Object.assign(frame, {
      host: ctx.topicHost,
      boot_id: frame.boot_id ?? "",
      seq,
      timestamp_ms: timestamp,
      interval_ms: interval,
    });
  });
}

export function validateStatus(status: IStatus, ctx: ValidationContext): Checked<IStatus> {
  return guard(ctx.topicHost, () => {
    checkIdentity(ctx, status.host);
    checkTimestamp(ctx, status.timestamp_ms, "status timestamp_ms");
    if (!KNOWN_AGENT_STATES.has(status.state ?? 0)) fail("field_invalid", `status state ${status.state}`);
    checkText(status.boot_id, "boot_id", 64);
    checkText(status.reason, "status reason", 1024);
    checkText(status.agent_version, "agent_version", 64);
    checkSourceStatuses(status, ctx);
    return status;
  });
}

/** The agent's sources' health (agent/sources/supervisor/): a few named counters each. */
function checkSourceStatuses(status: IStatus, ctx: ValidationContext): void {
  const sources = status.sources ?? [];
  if (sources.length > MAX_SOURCES) fail("field_invalid", `${sources.length} sources > ${MAX_SOURCES}`);
  const names = new Set<string>();
  for (const source of sources) {
    const name = source.name ?? "";
    if (!SOURCE_NAME.test(name) || names.has(name))
      fail("field_invalid", `source name ${JSON.stringify(name)}`);
    names.add(name);
    checkText(source.last_error, `source ${name} last_error`, 1024);
    for (const key of SOURCE_COUNTERS) {
      const count = source[key] ?? 0;
      // uint64 on the wire: past 2^53 the decoded number is already rounded.
      if (!Number.isSafeInteger(count) || count < 0) fail("field_invalid", `source ${name} ${key} ${count}`);
    }
    const errorMs = source.last_error_ms ?? 0;
    if (errorMs !== 0) checkErrorTime(ctx, errorMs, `source ${name} last_error_ms`);
  }
}

/** An error time is a timestamp like any other, but a bad one is the status's field_invalid. */
function checkErrorTime(ctx: ValidationContext, value: number, name: string): void {
  const checked = guard(ctx.topicHost, () => checkTimestamp(ctx, value, name));
  if (!checked.ok) fail("field_invalid", checked.rejection.detail);
}
