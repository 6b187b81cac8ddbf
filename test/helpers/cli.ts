// Runs the built CLI (bin/gputel → dist/) as a real child process, as users and systemd do.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const GPUTEL = `${ROOT}bin/gputel`;

export function assertBuilt(): void {
  if (!existsSync(`${ROOT}dist/cli/main.js`)) {
    throw new Error("dist/ is missing: run `npm run build` first (`npm test` does it)");
  }
}

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `gputel ...args`, collecting stdout and stderr together. */
export function spawnGputel(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  assertBuilt();
  const child = spawn(process.execPath, [GPUTEL, ...args], {
    cwd: ROOT,
    env: { ...process.env, GPUTEL_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** What an in-process CLI run (`run(args, io)` of cli/query, cli/report, …) printed and answered. */
export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs a CLI's `run` in-process with captured output, no terminal and only `env`. */
export async function runCaptured(
  run: (
    args: string[],
    io: { stdout(t: string): void; stderr(t: string): void; env: NodeJS.ProcessEnv; isTTY: boolean },
  ) => Promise<number>,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  let out = "";
  let err = "";
  const code = await run(args, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    env,
    isTTY: false,
  });
  return { code, out, err };
}
