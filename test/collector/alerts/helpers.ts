import { createServer } from "node:net";
import type { Flag } from "../../../collector/flags/types.js";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function until<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function flag(overrides: Partial<Flag> = {}): Flag {
  return {
    id: 1,
    kind: "overheat",
    severity: "warning",
    host: "node-1",
    gpuUuid: "GPU-00000000-0000-0000-0000-000000000001",
    gpuIndex: 0,
    site: "par1",
    labels: { customer: "acme", "rack.id": "r12" },
    startMs: Date.now() - 60_000,
    endMs: null,
    reason:
      "GPU temperature 84 °C is within 5 °C of the NVIDIA H100 80GB HBM3's slowdown temperature 87 °C for 2m",
    values: { temperature_gpu_celsius: 84 },
    updatedMs: Date.now(),
    ...overrides,
  };
}
