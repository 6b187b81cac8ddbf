// `nvidia-smi -L` → the GPUs to expect, by index. Pure. MIG device lines are skipped (the
// --query-gpu stream reports the physical GPU); "Unable to determine the device handle" lines
// name GPUs that exist but cannot be read, so they are expected and start out lost.
import type { ErrorCode } from "../../../shared/errors.js";
import type { KnownGpu } from "./csv-stream.js";
import { classifyLine, normaliseBusId } from "./error-lines.js";

export interface GpuList {
  gpus: KnownGpu[];
  /** Lost GPUs the list names by index, with the line printed and the bus id it names (canonical). */
  lost: { index: number; line: string; busId?: string }[];
  /**
   * Lost GPUs named by bus id alone (`…for GPU0000:08:00.0: Unknown Error`, the older spelling):
   * no index to list them under, unless a GPU read before had that bus id (keepIdentities).
   */
  lostByBus: { busId: string; line: string }[];
  /** A whole-source failure line (driver not loaded, no devices), if one was printed. */
  sourceError?: { code: ErrorCode; line: string };
}

// `GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-00000000-0000-0000-0000-000000000000)`
const GPU_LINE = /^GPU (\d+): (.*?)\s*\(UUID: ([^)\s]+)\)\s*$/;

export function parseGpuList(text: string): GpuList {
  const result: GpuList = { gpus: [], lost: [], lostByBus: [] };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const m = GPU_LINE.exec(line);
    if (m) {
      result.gpus.push({ index: Number(m[1]), uuid: m[3] ?? "" });
      continue;
    }
    const cls = classifyLine(line);
    if (cls.kind === "gpu-lost" && cls.index !== undefined)
      result.lost.push({ index: cls.index, line: cls.line, ...(cls.busId ? { busId: cls.busId } : {}) });
    else if (cls.kind === "gpu-lost" && cls.busId !== undefined)
      result.lostByBus.push({ busId: cls.busId, line: cls.line });
    if (cls.kind === "source-error" && !result.sourceError)
      result.sourceError = { code: cls.code, line: cls.line };
  }
  for (const lost of result.lost) {
    if (!result.gpus.some((g) => g.index === lost.index)) result.gpus.push({ index: lost.index, uuid: "" });
  }
  result.gpus.sort((a, b) => a.index - b.index);
  return result;
}

/**
 * The GPUs to expect after a restart of the stream: a GPU that fell off the bus since the agent
 * read it is listed with no UUID, and must keep the UUID (and bus id) it had, or the collector
 * would count it twice, once by UUID and once as `<host>/gpu<index>`. Matched by the bus id the
 * lost line names where both sides know one, else by index (never with `busOnly`: the GPUs saved
 * before a restart, whose indexes a reboot can change). A GPU named by bus id alone joins the
 * list under the index it had, when no listed GPU has that index.
 */
export function keepIdentities(
  previous: readonly KnownGpu[],
  list: GpuList,
  options: { busOnly?: boolean } = {},
): KnownGpu[] {
  const busOf = (g: KnownGpu) => (g.pciBusId === undefined ? undefined : normaliseBusId(g.pciBusId));
  const gpus = list.gpus.map((gpu) => {
    if (gpu.uuid !== "") return gpu;
    const bus = list.lost.find((l) => l.index === gpu.index)?.busId;
    const before = previous.find((p) => {
      if (p.uuid === "") return false;
      const pBus = busOf(p);
      if (bus !== undefined && pBus !== undefined) return pBus === bus;
      return !options.busOnly && p.index === gpu.index;
    });
    return before ? { ...before, index: gpu.index } : gpu;
  });
  for (const { busId } of list.lostByBus) {
    const before = previous.find((p) => p.uuid !== "" && busOf(p) === busId);
    if (!before || gpus.some((g) => g.index === before.index || g.uuid === before.uuid)) continue;
    gpus.push({ ...before });
  }
  return gpus.sort((a, b) => a.index - b.index);
}
