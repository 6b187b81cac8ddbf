// Confirms a GPU the stream reported lost (or stopped listing) by querying it alone with
// `-i <index>`: a short one-shot child, run in the source's one-shot lane (never a second stream).
import type { OneShotResult } from "./child.js";
import { classifyLine } from "./error-lines.js";

export interface ProbeState {
  at: number;
  inFlight: boolean;
  lost: boolean;
  /** The line nvidia-smi printed for the GPU (kept verbatim in state_detail). */
  detail: string;
}

export type RunOneShot = (argv: string[], timeoutMs: number) => Promise<OneShotResult>;

/** Interprets a probe's result. Pure. */
export function probeVerdict(index: number, result: OneShotResult): { lost: boolean; detail: string } {
  if (result.error) return { lost: false, detail: result.error.message };
  if (result.timedOut) return { lost: true, detail: `nvidia-smi -i ${index} timed out` };
  const lines = `${result.stdout}\n${result.stderr}`
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const answered = lines.some((l) => l.split(", ")[0] === String(index));
  if (result.code === 0 && answered) return { lost: false, detail: "" };
  const known = lines.map(classifyLine).find((c) => c.kind === "gpu-lost" || c.kind === "source-error");
  const detail =
    known && "line" in known
      ? known.line
      : (lines[0] ?? `nvidia-smi -i ${index} exited with code ${result.code}`);
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
