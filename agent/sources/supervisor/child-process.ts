// Child processes of a source: one-shot commands with a timeout, and the long-lived stream read
// line by line. Every child gets its own process group so that a kill also reaches
// what a wrapper script started (`sh` → `sleep`), and no shell is ever involved in spawning.
import { type ChildProcess, spawn } from "node:child_process";
import { type Clock, realClock } from "./clock.js";
import { LineSplitter } from "./line-splitter.js";

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started (ENOENT, EACCES). */
  error?: NodeJS.ErrnoException;
}

export interface OneShotResult extends ExitInfo {
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The killed child had not exited when the result was given up on (uninterruptible sleep). */
  stuck: boolean;
}

/** Runs one command to completion (or its timeout): how probes, inventory and polls call it. */
export type RunOneShot = (argv: string[], timeoutMs: number) => Promise<OneShotResult>;

/** Kills the child's whole process group; falls back to the child alone. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

function spawnGroup(argv: readonly string[]): ChildProcess {
  const [file, ...args] = argv;
  return spawn(file ?? "", args, { stdio: ["ignore", "pipe", "pipe"], detached: true, shell: false });
}

export interface OneShotOptions {
  timeoutMs: number;
  /** After a timeout kill, how long to wait for the exit before reporting the child stuck. */
  killGraceMs?: number;
  /** Output beyond this is dropped (a runaway child cannot exhaust memory). */
  maxBytes?: number;
  onSpawn?: (pid: number) => void;
  /** Called once the process is really gone, even when that is after a stuck result. */
  onExit?: () => void;
  clock?: Clock;
}

/** Runs argv to completion (or timeout) and collects its output. Never rejects. */
export function runOneShot(argv: readonly string[], options: OneShotOptions): Promise<OneShotResult> {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const clock = options.clock ?? realClock();
  return new Promise((resolve) => {
    const child = spawnGroup(argv);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    let done = false;
    let cancelGrace: (() => void) | undefined;
    let gone = false;
    const exited = () => {
      if (gone) return;
      gone = true;
      options.onExit?.();
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      if (size + chunk.length <= maxBytes) into.push(chunk);
      size += chunk.length;
    };
    child.stdout?.on("data", collect(out));
    child.stderr?.on("data", collect(err));
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const finish = (info: ExitInfo, stuck: boolean) => {
      if (done) return;
      done = true;
      cancelTimeout();
      cancelGrace?.();
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      resolve({ ...info, stdout, stderr, timedOut, stuck });
    };
    const cancelTimeout = clock.after(options.timeoutMs, () => {
      timedOut = true;
      killGroup(child);
      cancelGrace = clock.after(options.killGraceMs ?? 5000, () =>
        finish({ code: null, signal: null }, true),
      );
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      finish({ code: null, signal: null, error }, false);
      exited();
    });
    // 'close' waits for the pipes too, so the output is complete.
    child.on("close", (code, signal) => {
      finish({ code, signal }, false);
      exited();
    });
  });
}

export interface StreamChild {
  readonly pid: number | undefined;
  /**
   * Resolves once the process has exited and its output has been read to the end (or it failed
   * to start): every line it wrote has gone to `onLine` before this resolves.
   */
  readonly exited: Promise<ExitInfo>;
  isRunning(): boolean;
  kill(): void;
}

export interface StreamOptions {
  /**
   * After the child exits, how long what is left of its process group (a wrapper's background
   * writer) may keep the output open before it is killed and the exit decided without it.
   */
  leftoverGraceMs: number;
  clock?: Clock;
}

/** Starts the long-lived child; every line of stdout and stderr goes to `onLine`. */
export function spawnStream(
  argv: readonly string[],
  onLine: (line: string) => void,
  options: StreamOptions,
): StreamChild {
  const clock = options.clock ?? realClock();
  const child = spawnGroup(argv);
  let running = child.pid !== undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    let cancelGrace: (() => void) | undefined;
    child.on("error", (error: NodeJS.ErrnoException) => {
      running = false;
      resolve({ code: null, signal: null, error });
    });
    // 'exit' can come before the last lines are read (Node documents it; a process of the group
    // may still write): the exit is decided on 'close', which comes after the pipes end.
    child.on("exit", (code, signal) => {
      running = false;
      cancelGrace = clock.after(options.leftoverGraceMs, () => {
        killGroup(child);
        resolve({ code, signal });
      });
    });
    child.on("close", (code, signal) => {
      cancelGrace?.();
      resolve({ code, signal });
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    const lines = new LineSplitter(onLine);
    stream.on("data", (chunk: Buffer) => lines.push(chunk));
    stream.on("end", () => lines.end());
  }
  return {
    pid: child.pid,
    exited,
    isRunning: () => running,
    kill: () => killGroup(child),
  };
}
