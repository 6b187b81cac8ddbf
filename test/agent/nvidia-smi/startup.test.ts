// What the start-up commands' results mean (startup.ts): missing binary, a stuck lane, a driver
// message, a timeout, a failed exit, or usable output.
import { describe, expect, it } from "vitest";
import { startFailure } from "../../../agent/sources/nvidia-smi/startup.js";
import type { OneShotResult } from "../../../agent/sources/supervisor/child-process.js";
import { GpuState } from "../../../shared/proto.js";
import { DRIVER_LINE } from "./fake-smi.js";

const ok: OneShotResult = {
  code: 0,
  signal: null,
  stdout: "GPU 0: X (UUID: GPU-0)\n",
  stderr: "",
  timedOut: false,
  stuck: false,
};

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe("startFailure", () => {
  it("classifies each way a start-up command can fail", () => {
    expect(startFailure(ok, "-L", "nvidia-smi")).toBeUndefined();
    const cases: [Partial<OneShotResult>, string][] = [
      [{ error: errno("ENOENT", "spawn nvidia-smi ENOENT"), code: null }, "GPUTEL_E_NVSMI_MISSING"],
      [
        {
          error: errno("ESTUCK", "not started: the previous nvidia-smi (pid 7) is stuck"),
          code: null,
          stuck: true,
        },
        "GPUTEL_E_NVSMI_STUCK",
      ],
      [{ error: errno("EIO", "spawn failed"), code: null }, "GPUTEL_E_NVSMI_EXIT"],
      [{ stdout: `${DRIVER_LINE}\n`, code: 9 }, "GPUTEL_E_NVSMI_DRIVER"],
      [{ stdout: "", code: null, timedOut: true }, "GPUTEL_E_NVSMI_TIMEOUT"],
      [{ stdout: "", code: 3 }, "GPUTEL_E_NVSMI_EXIT"],
    ];
    for (const [result, code] of cases) {
      const failed = startFailure({ ...ok, ...result }, "-L", "nvidia-smi");
      expect(failed?.code).toBe(code);
      expect(failed?.failure.state).toBe(GpuState.GPU_STATE_ERROR);
      expect(failed?.failure.sourceError).toBe(failed?.failure.detail);
    }
  });
});
