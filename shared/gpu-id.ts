// One rule for GPU identifiers, shared by ingest (what an agent may report) and the HTTP API
// (what a GPU route accepts), so every GPU the collector stores can be asked for by its id.
//
// A reported UUID is what nvidia-smi prints ("GPU-8f1c…"): letters, digits, '.', '_', '-', ':'.
// No '/', '%', spaces or control characters: it travels in URL paths and MQTT-adjacent logs. A GPU
// reported without a UUID is stored as "<host>/gpu<index>": the '/' keeps that id out of reach of
// any reported UUID, so no agent can claim another host's UUID-less GPU.
import { HOST_ID } from "./topics.js";

/** Longest reported UUID (NVIDIA's are 40 characters). */
export const MAX_GPU_UUID_LENGTH = 128;
/** Largest GPU index a frame or inventory may carry. */
export const MAX_GPU_INDEX = 1023;

export const GPU_UUID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * A MIG device's UUID as `nvidia-smi -L` prints it: "MIG-<uuid>", or on R450–R465 drivers
 * "MIG-GPU-<gpu uuid>/<gi>/<ci>" (the one place a '/' may appear).
 */
export const MIG_UUID = /^MIG-[A-Za-z0-9/-]{1,96}$/;

/** Why a MIG device has no utilization anywhere (agent, API, lease lines): never estimated. */
export const MIG_NO_UTILIZATION = "nvidia-smi reports no utilization per MIG instance";

const HOST = HOST_ID.source.slice(1, -1);
/**
 * What a GPU route accepts: a UUID, the id of a GPU stored without one ("<host>/gpu<index>"), or
 * "<host>:<index>" (a host:index pair is also a valid UUID spelling, looked up as UUID first).
 */
export const GPU_REF = new RegExp(`^(?:${GPU_UUID.source.slice(1, -1)}|${HOST}(?:/gpu|:)[0-9]{1,4})$`);

export function isValidGpuUuid(uuid: string): boolean {
  return GPU_UUID.test(uuid);
}

/** The id a GPU is stored under: its UUID, or "<host>/gpu<index>" when it reported none. */
export function gpuIdOf(
  host: string,
  uuid: string | null | undefined,
  index: number | null | undefined,
): string {
  return uuid || `${host}/gpu${index ?? 0}`;
}

/** A GPU as people name it, host:index; the host alone where the index is unknown. */
export function gpuName(host: string, index: number | null | undefined): string {
  return index === null || index === undefined ? host : `${host}:${index}`;
}
