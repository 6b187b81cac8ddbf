// Valid wire messages for ingest tests: a frame of N GPUs with every metric present and in range.
import { encodeFrameBatch, encodeStatus } from "../../../shared/codec.js";
import {
  AgentState,
  type AgentStateValue,
  GpuState,
  type IFrame,
  type IGpuSample,
  SCHEMA_VERSION,
} from "../../../shared/proto.js";

export function gpuSample(index: number, overrides: Partial<IGpuSample> = {}): IGpuSample {
  return {
    index,
    uuid: `GPU-${index.toString().padStart(8, "0")}-0000-0000-0000-000000000000`,
    state: GpuState.GPU_STATE_OK,
    utilization_gpu_pct: 87,
    utilization_memory_pct: 40,
    memory_used_mib: 60_000,
    memory_total_mib: 81_559,
    temperature_gpu_celsius: 64,
    temperature_memory_celsius: 70,
    power_draw_watts: 512.5,
    power_limit_watts: 700,
    clocks_sm_mhz: 1980,
    clocks_memory_mhz: 2619,
    fan_speed_pct: 30,
    pstate: 0,
    clock_event_reasons: 0,
    ecc_corrected_volatile: 0,
    ecc_uncorrected_volatile: 0,
    pcie_link_gen: 5,
    pcie_link_width: 16,
    compute_processes: 1,
    mig_mode: false,
    ...overrides,
  };
}

export interface FrameOptions {
  bootId?: string;
  timestampMs?: number;
  gpus?: number;
  overrides?: Partial<IFrame>;
}

export function makeFrame(host: string, seq: number, options: FrameOptions = {}): IFrame {
  const gpus = Array.from({ length: options.gpus ?? 8 }, (_, i) => gpuSample(i));
  return {
    schema_version: SCHEMA_VERSION,
    host,
    boot_id: options.bootId ?? "boot-1",
    seq,
    // Distinct per seq: the store also treats "same GPU, same timestamp" as a duplicate.
    timestamp_ms: options.timestampMs ?? Date.now() - 3600_000 + seq * 1000,
    interval_ms: 1000,
    site: "fra1",
    labels: { customer: "acme", rack: "r12" },
    host_sample: {
      cpu_load_pct: 12.5,
      load_average_1m: 3.2,
      memory_total_bytes: 2 ** 40,
      memory_used_bytes: 2 ** 38,
    },
    gpus,
    agent_version: "0.1.0",
    ...options.overrides,
  };
}

export function frameTopic(host: string): string {
  return `gputel/v1/${host}/frame`;
}

export function framePayload(host: string, seq: number, options: FrameOptions = {}): Uint8Array {
  return encodeFrameBatch([makeFrame(host, seq, options)]);
}

/** timestampMs: tests that check against a fixed clock pass theirs (the wall clock moves on). */
export function statusPayload(
  host: string,
  state: AgentStateValue,
  reason = "",
  timestampMs = Date.now(),
): Uint8Array {
  return encodeStatus({
    schema_version: SCHEMA_VERSION,
    host,
    state,
    timestamp_ms: timestampMs,
    boot_id: "boot-1",
    reason,
    agent_version: "0.1.0",
    interval_ms: 1000,
  });
}

export { AgentState };
