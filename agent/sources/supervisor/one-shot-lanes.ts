// Short-lived children, one lane per kind: a lane runs its commands one after another, never
// two at once. A child that survived its SIGKILL (uninterruptible sleep in the kernel, the
// D state a wedged driver leaves nvidia-smi in) blocks its lane until it is really gone: its
// kind is refused meanwhile instead of piling up more children behind a wedged driver.

import { type OneShotResult, runOneShot } from "./child-process.js";
import type { Clock } from "./clock.js";

interface Lane {
  tail: Promise<unknown>;
  /** The child running now. */
  pid: number | undefined;
  /** A child reported stuck that has not exited yet. */
  stuckPid: number | undefined;
}

export interface LaneEvents {
  timedOut(argv: readonly string[], kind: string): void;
  stuck(pid: number | undefined, kind: string): void;
  unstuck(pid: number | undefined, kind: string): void;
}

export class OneShotLanes {
  private readonly lanes = new Map<string, Lane>();
  /**
   * How many times stop() was called. A command queued before a stop is not run, and one running
   * then is killed (a stop must not wait on a hung one); one queued after it runs as usual.
   */
  private stops = 0;

  constructor(
    private readonly clock: Clock,
    private readonly killGraceMs: number,
    private readonly events: LaneEvents,
  ) {}

  /** Queues `argv` on the lane of `kind`; never rejects (see OneShotResult). */
  run(argv: readonly string[], timeoutMs: number, kind: string): Promise<OneShotResult> {
    const lane = this.lane(kind);
    const queuedAt = this.stops;
    const run = lane.tail.then(() => this.start(lane, argv, timeoutMs, kind, queuedAt));
    lane.tail = run.catch(() => {});
    return run;
  }

  /** The running child of each lane that has one. */
  pids(): Map<string, number> {
    const pids = new Map<string, number>();
    for (const [kind, lane] of this.lanes) if (lane.pid !== undefined) pids.set(kind, lane.pid);
    return pids;
  }

  /** True while a lane is blocked by a stuck child. */
  anyStuck(): boolean {
    return [...this.lanes.values()].some((l) => l.stuckPid !== undefined);
  }

  /** Kills the running children (their process groups) and answers the queued ones without running them. */
  stop(): void {
    this.stops += 1;
    for (const lane of this.lanes.values()) {
      if (lane.pid === undefined) continue;
      try {
        process.kill(-lane.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  /** Resolves when every queued command has finished, those queued meanwhile (a follow-up) included. */
  async drained(): Promise<void> {
    for (;;) {
      const tails = [...this.lanes.values()].map((l) => l.tail);
      await Promise.all(tails);
      if ([...this.lanes.values()].every((l, i) => l.tail === tails[i])) return;
    }
  }

  private lane(kind: string): Lane {
    let lane = this.lanes.get(kind);
    if (!lane) {
      lane = { tail: Promise.resolve(), pid: undefined, stuckPid: undefined };
      this.lanes.set(kind, lane);
    }
    return lane;
  }

  private async start(
    lane: Lane,
    argv: readonly string[],
    timeoutMs: number,
    kind: string,
    queuedAt: number,
  ) {
    if (queuedAt < this.stops) return stopped(argv);
    if (lane.stuckPid !== undefined) return refused(argv, lane.stuckPid);
    let pid: number | undefined;
    let gone = false;
    const result = await runOneShot(argv, {
      timeoutMs,
      killGraceMs: this.killGraceMs,
      clock: this.clock,
      onSpawn: (p) => {
        pid = p;
        lane.pid = p;
      },
      onExit: () => {
        gone = true;
        if (lane.pid === pid) lane.pid = undefined;
        if (lane.stuckPid !== undefined && lane.stuckPid === pid) {
          lane.stuckPid = undefined;
          this.events.unstuck(pid, kind);
        }
      },
    });
    if (queuedAt < this.stops && !result.error)
      return { ...stopped(argv), stdout: result.stdout, stderr: result.stderr };
    if (result.timedOut) this.events.timedOut(argv, kind);
    if (result.stuck && !gone) {
      lane.stuckPid = pid;
      lane.pid = undefined;
      this.events.stuck(pid, kind);
    }
    return result;
  }
}

/** The answer for a command not started because its lane's previous child is stuck. */
function refused(argv: readonly string[], stuckPid: number): OneShotResult {
  const error: NodeJS.ErrnoException = new Error(
    `not started: the previous ${argv[0] ?? "child"} (pid ${stuckPid}) is stuck in the kernel after SIGKILL`,
  );
  error.code = "ESTUCK";
  return { code: null, signal: null, error, stdout: "", stderr: "", timedOut: false, stuck: true };
}

/** The answer for a command not run, or killed, because its source is stopping. */
function stopped(argv: readonly string[]): OneShotResult {
  const error: NodeJS.ErrnoException = new Error(`not run: ${argv[0] ?? "the source"} is stopping`);
  error.code = "ESTOPPED";
  return { code: null, signal: null, error, stdout: "", stderr: "", timedOut: false, stuck: false };
}
