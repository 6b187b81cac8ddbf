// Confirms a GPU the stream reported lost (or stopped listing) by querying it alone with
// `-i <index>`: a short one-shot child, run in the source's one-shot lane (never a second stream).
import type { Logger } from "../../../shared/logger.js";
import { GpuState, type IGpuSample } from "../../../shared/proto.js";
import type { OneShotResult, RunOneShot } from "../supervisor/child-process.js";
import { MISSING_DETAIL } from "./csv-stream.js";
import { firstErrorLine, outputLines } from "./error-lines.js";

export interface ProbeState {
  at: number;
  inFlight: boolean;
  lost: boolean;
  /** The line nvidia-smi printed for the GPU (kept verbatim in state_detail). */
  detail: string;
}

/** Interprets a probe's result. Pure. */
export function probeVerdict(index: number, result: OneShotResult): { lost: boolean; detail: string } {
  if (result.error) return { lost: false, detail: result.error.message };
  if (result.timedOut) return { lost: true, detail: `nvidia-smi -i ${index} timed out` };
  const lines = outputLines(result);
  const answered = lines.some((l) => l.split(", ")[0] === String(index));
  if (result.code === 0 && answered) return { lost: false, detail: "" };
  const detail =
    firstErrorLine(lines) ?? lines[0] ?? `nvidia-smi -i ${index} exited with code ${result.code}`;
  return { lost: true, detail };
}

export async function probeGpu(
  index: number,
  command: readonly string[],
  timeoutMs: number,
  run: RunOneShot,
): Promise<{ lost: boolean; detail: string }> {
  const argv = [
    ...command,
    "-i",
    String(index),
    "--query-gpu=index,uuid,pci.bus_id",
    "--format=csv,noheader,nounits",
  ];
  return probeVerdict(index, await run(argv, timeoutMs));
}

/**
 * Probes GPUs that the stream reported lost or left out, at most once a minute each, and turns a
 * "missing" GPU into LOST once the probe confirmed it.
 */
export class LostGpuProbes {
  private readonly probes = new Map<number, ProbeState>();

  constructor(
    private readonly command: readonly string[],
    private readonly timeoutMs: number,
    private readonly run: RunOneShot,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  apply(gpus: IGpuSample[], missing: readonly number[]): void {
    for (const gpu of gpus) {
      const index = gpu.index ?? 0;
      if (gpu.state !== GpuState.GPU_STATE_LOST && !missing.includes(index)) {
        this.probes.delete(index);
        continue;
      }
      const probe = this.probes.get(index);
      if (probe?.lost && gpu.state === GpuState.GPU_STATE_ERROR && gpu.state_detail === MISSING_DETAIL) {
        gpu.state = GpuState.GPU_STATE_LOST;
        gpu.state_detail = probe.detail;
      }
      if (!probe || (!probe.inFlight && this.now() - probe.at >= 60_000)) void this.probe(index);
    }
  }

  private async probe(index: number): Promise<void> {
    const state: ProbeState = { at: this.now(), inFlight: true, lost: false, detail: "" };
    this.probes.set(index, state);
    const result = await probeGpu(index, this.command, this.timeoutMs, this.run);
    Object.assign(state, result, { inFlight: false, at: this.now() });
    if (result.lost)
      this.log.warn({ gpu: index, detail: result.detail }, "GPU confirmed lost when queried alone");
    else this.log.info({ gpu: index }, "GPU answered when queried alone");
  }
}
