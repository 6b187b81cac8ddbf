// The processes benchmark's host (agent.cpu_pct_processes): bench-8gpu.yaml's 8 H100s with 16
// compute processes each, 128 in all, every one a real process of this machine (a `sleep`), so the
// agent's /proc lookups read real files as they would on a GPU server, not a vanished pid.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const GPUS = 8;
const PER_GPU = 16;

export interface RealHolders {
  scenario: string;
  stop(): void;
}

export async function realHolderScenario(): Promise<RealHolders> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < GPUS * PER_GPU; i++) children.push(spawn("sleep", ["3600"], { stdio: "ignore" }));
  await Promise.all(children.map((c) => new Promise((resolve) => c.once("spawn", resolve))));
  const gpu = (g: number) =>
    [
      "      - model: NVIDIA H100 80GB HBM3",
      // bench-8gpu.yaml's shapes, GPU g shifted by g/8 of each period as `stagger: true` does there.
      `        utilization: { sine: { min: 40, max: 99, period: 5m, phase: ${g * 37_500}ms } }`,
      `        temperature: { sine: { min: 55, max: 78, period: 7m, phase: ${g * 52_500}ms } }`,
      `        power: { sine: { min: 250, max: 690, period: 3m, phase: ${g * 22_500}ms } }`,
      "        memory_used: 61000",
      "        processes:",
      ...children
        .slice(g * PER_GPU, (g + 1) * PER_GPU)
        .map((c) => `          - { pid: ${c.pid}, name: python3, used_memory: 3800 }`),
    ].join("\n");
  const text = [
    "version: 1",
    "hosts:",
    "  - name: bench-8gpu",
    "    gpus:",
    ...Array.from({ length: GPUS }, (_, g) => gpu(g)),
    "",
  ].join("\n");
  const scenario = join(mkdtempSync(join(tmpdir(), "gputel-bench-holders-")), "scenario.yaml");
  writeFileSync(scenario, text);
  return {
    scenario,
    stop: () => {
      for (const c of children) c.kill("SIGKILL");
    },
  };
}
