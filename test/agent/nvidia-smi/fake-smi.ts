// Fake nvidia-smi executables for the fault tests: tiny sh scripts in a temp dir that answer
// --help-query-gpu and -L from a fixture capture, then misbehave on the --query-gpu stream.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseHelpQueryGpu, planQuery } from "../../../agent/sources/nvidia-smi/discovery.js";
import type { ValueKind } from "../../../shared/metrics.js";
import { readCapture, section } from "./capture.js";

/**
 * "lost-listed": GPU 1 was off the bus before start: -L names it only by its lost line;
 * "lost-listed-bus": the same in the older spelling, which names its bus id alone.
 */
export type StreamMode =
  | "normal"
  | "hang"
  | "crash"
  | "lost"
  | "lost-listed"
  | "lost-listed-bus"
  | "garbage"
  | "driver"
  | "rejects-field";

const HELP = section(
  readCapture("linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt"),
  "capabilities",
  "help-query-gpu",
).output;
const SAMPLE: Record<ValueKind, string> = {
  int: "42",
  float: "69.85",
  bool: "Disabled",
  hex: "0x0000000000000001",
  pstate: "P0",
};
export const LOST_LINE = "Unable to determine the device handle for GPU1: 0000:35:00.0: Unknown Error";
export const LOST_BUS_LINE = "Unable to determine the device handle for GPU0000:35:00.0: Unknown Error";
export const DRIVER_LINE =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";

/**
 * A field the help lists but the "rejects-field" stream refuses as a driver does (exit 2), while
 * it answers every query without it.
 */
export const REJECTED_FIELD = "temperature.gpu.tlimit";

/** A --query-gpu row for GPU `i` in the order the source will ask for, without `dropped`. */
export function fakeRow(i: number, dropped?: string): string {
  const plan = planQuery(parseHelpQueryGpu(HELP));
  const values = plan.metrics.filter((m) => m.field !== dropped).map((m) => SAMPLE[m.def.kind]);
  return [
    "2026/07/14 08:12:38.696",
    String(i),
    `GPU-${i}`,
    `00000000:${(0x34 + i).toString(16)}:00.0`,
    ...values,
  ].join(", ");
}

export interface FakeSmi {
  dir: string;
  path: string;
  cleanup(): void;
}

/** Writes an executable fake with `gpus` GPUs whose stream behaves as `mode`. */
export function writeFakeSmi(mode: StreamMode, gpus = 3): FakeSmi {
  const dir = mkdtempSync(join(tmpdir(), "gputel-fake-smi-"));
  writeFileSync(join(dir, "help.txt"), `${HELP}\n`);
  const list = Array.from(
    { length: gpus },
    (_, i) => `GPU ${i}: NVIDIA H100 80GB HBM3 (UUID: GPU-${i})`,
  ).join("\n");
  writeFileSync(join(dir, "list.txt"), `${list}\n`);
  const dropped = mode === "rejects-field" ? REJECTED_FIELD : undefined;
  const rows = Array.from({ length: gpus }, (_, i) => fakeRow(i, dropped));
  writeFileSync(join(dir, "rows.txt"), `${rows.join("\n")}\n`);
  writeFileSync(join(dir, "rows-lost.txt"), `${rows.filter((_, i) => i !== 1).join("\n")}\n`);
  const stream: Record<StreamMode, string> = {
    normal: `while true; do cat "$D/rows.txt"; sleep 0.1; done`,
    hang: `n=0; while [ $n -lt 3 ]; do cat "$D/rows.txt"; sleep 0.1; n=$((n+1)); done; sleep 100`,
    crash: `n=0; while [ $n -lt 3 ]; do cat "$D/rows.txt"; sleep 0.1; n=$((n+1)); done; head -n 1 "$D/rows.txt"; exit 1`,
    lost: `echo "${LOST_LINE}" >&2; while true; do cat "$D/rows-lost.txt"; sleep 0.1; done`,
    "lost-listed": `echo "${LOST_LINE}" >&2; while true; do cat "$D/rows-lost.txt"; sleep 0.1; done`,
    "lost-listed-bus": `echo "${LOST_BUS_LINE}" >&2; while true; do cat "$D/rows-lost.txt"; sleep 0.1; done`,
    garbage: `while true; do echo 'x%$#@!garbage'; cat "$D/rows.txt"; sleep 0.1; done`,
    driver: `echo "${DRIVER_LINE}"; exit 9`,
    "rejects-field": `case "$*" in *"${REJECTED_FIELD},"*) printf 'Field "%s" is not a valid field to query.\\n\\n' "${REJECTED_FIELD}"; exit 2;; esac; while true; do cat "$D/rows.txt"; sleep 0.1; done`,
  };
  writeFileSync(
    join(dir, "list-lost.txt"),
    `${list
      .split("\n")
      .filter((_, i) => i !== 1)
      .join("\n")}\n`,
  );
  const listCmd =
    mode === "driver"
      ? `echo "${DRIVER_LINE}"; exit 9`
      : mode === "lost-listed" || mode === "lost-listed-bus"
        ? `cat "$D/list-lost.txt"; echo "${mode === "lost-listed" ? LOST_LINE : LOST_BUS_LINE}" >&2`
        : `cat "$D/list.txt"`;
  const probe =
    mode === "lost" || mode === "lost-listed" || mode === "lost-listed-bus"
      ? `case "$*" in *"-i 1 "*) echo "${LOST_LINE}" >&2; exit 15;; esac; `
      : "";
  const script = `#!/bin/sh
D="${dir}"
case "$*" in
  --help-query-gpu) cat "$D/help.txt"; exit 0;;
  -L) ${listCmd};;
  --query-compute-apps=*) echo "GPU-0, 1234, python3, 500"; exit 0;;
  "-i "*) ${probe}head -n 1 "$D/rows.txt" | cut -d, -f2-4 | sed 's/^ //'; exit 0;;
  --query-gpu=*) ${stream[mode]};;
  *) echo "fake nvidia-smi: unexpected arguments: $*" >&2; exit 2;;
esac
`;
  const path = join(dir, "nvidia-smi");
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return { dir, path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Pids of live children of this process whose command line names `path` and carries `-lms`
 * (stream children). Only direct children count: a forked `sh` shows its parent's command line
 * until it execs `cat` or `sleep`.
 */
export function streamChildren(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z" || Number(fields[1]) !== process.pid) continue; // zombies are dead, only not reaped
      if (args.includes(path) && args.includes("-lms")) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

/** Pids of live processes whose command line mentions `dir` anywhere (leftovers check). */
export function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(dir)) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Live (non-zombie) processes in process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}
