// Classifies what the start-up commands (--help-query-gpu, -L) returned: a binary that is not
// there, a driver that is not loaded, no GPU, a timeout, or success. Pure.
import type { ErrorCode } from "../../../shared/errors.js";
import { GpuState, type GpuStateValue } from "../../../shared/proto.js";
import type { OneShotResult } from "../supervisor/child-process.js";
import { classifyLine } from "./error-lines.js";

/** What every GPU of a failure sample reports. */
export interface Failure {
  state: GpuStateValue;
  detail: string;
  /** Set when the whole source failed: becomes SourceSample.sourceError. */
  sourceError?: string;
}

export interface StartFailure {
  failure: Failure;
  code: ErrorCode;
}

function sourceFailure(detail: string, code: ErrorCode): StartFailure {
  return { failure: { state: GpuState.GPU_STATE_ERROR, detail, sourceError: detail }, code };
}

/** Undefined when `result` is usable output of `<program> <what>`. */
export function startFailure(result: OneShotResult, what: string, program: string): StartFailure | undefined {
  if (result.error) {
    const missing = result.error.code === "ENOENT" || result.error.code === "EACCES";
    // ESTUCK: not started because the previous child of its lane is stuck (one-shot-lanes.ts).
    const code = missing
      ? "GPUTEL_E_NVSMI_MISSING"
      : result.error.code === "ESTUCK"
        ? "GPUTEL_E_NVSMI_STUCK"
        : "GPUTEL_E_NVSMI_EXIT";
    return sourceFailure(`${program}: ${result.error.message}`, code);
  }
  const lines = `${result.stdout}\n${result.stderr}`.split("\n");
  for (const cls of lines.map(classifyLine)) {
    if (cls.kind === "source-error") return sourceFailure(cls.line, cls.code);
  }
  if (result.timedOut) return sourceFailure(`nvidia-smi ${what} timed out`, "GPUTEL_E_NVSMI_TIMEOUT");
  if (result.code !== 0 && result.stdout.trim() === "") {
    return sourceFailure(`nvidia-smi ${what} exited with code ${result.code}`, "GPUTEL_E_NVSMI_EXIT");
  }
  return undefined;
}
