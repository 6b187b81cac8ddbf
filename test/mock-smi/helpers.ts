// Runs `gputel mock-smi` in-process with stdout captured, a controllable clock and an abort signal.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../mock-smi/cli.js";

export const CAPTURE_DIR = join(import.meta.dirname, "../fixtures/nvidia-smi/captures");
export const XML_DIR = join(import.meta.dirname, "../fixtures/nvidia-smi/xml");
export const SCENARIO_DIR = join(import.meta.dirname, "../../scenarios");

export const CAPTURES = readdirSync(CAPTURE_DIR)
  .filter((f) => f.endsWith(".txt"))
  .sort();

export function readCapture(file: string): string {
  return readFileSync(join(CAPTURE_DIR, file), "utf8");
}

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
  writes: string[];
}

export interface MockRunOptions {
  now?: () => number;
  signal?: AbortSignal;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Called after each stdout write (e.g. to abort a loop after N iterations). */
  onWrite?: (writes: string[]) => void;
}

export async function mockSmi(args: string[], options: MockRunOptions = {}): Promise<Captured> {
  const writes: string[] = [];
  let stderr = "";
  const code = await run(args, {
    stdout: (text) => {
      writes.push(text);
      options.onWrite?.(writes);
    },
    stderr: (text) => {
      stderr += text;
    },
    ...(options.now ? { now: options.now } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  return { code, stdout: writes.join(""), stderr, writes };
}

/** Splits the command line recorded in a capture section into arguments (no quoting in captures). */
export function captureArgs(commandLine: string): string[] {
  return commandLine.split(" ").filter((a) => a !== "");
}
