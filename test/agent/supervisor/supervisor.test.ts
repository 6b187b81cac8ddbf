// The source supervisor on its own: real child processes (`sh -c 'exit 1'`, `sleep 100`) under a
// hand-advanced clock, so backoff, the silence watchdog, stuck detection and once-per-period
// logging are shown exactly, without sleeps.
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { ExitInfo, StreamChild } from "../../../agent/sources/supervisor/child-process.js";
import { SourceSupervisor, type StreamSpec } from "../../../agent/sources/supervisor/supervisor.js";
import { createLogger } from "../../../shared/logger.js";
import { groupMembers, waitFor } from "../nvidia-smi/fake-smi.js";
import { FakeClock } from "./fake-clock.js";

interface Harness {
  sup: SourceSupervisor;
  clock: FakeClock;
  logs: Record<string, unknown>[];
  launches: number;
  exits: ExitInfo[];
  /** How many lines had come when each exit was decided. */
  linesAtExit: number[];
  timeouts: number[];
  lines: string[];
  child: StreamChild | undefined;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A supervisor whose launch starts `argv` as its stream (unless `launch` says otherwise). */
function harness(argv: string[], launch?: (h: Harness) => Promise<void>): Harness {
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const clock = new FakeClock();
  const h: Harness = {
    clock,
    logs,
    launches: 0,
    exits: [],
    linesAtExit: [],
    timeouts: [],
    lines: [],
    child: undefined,
    sup: undefined as unknown as SourceSupervisor,
  };
  const spec: StreamSpec = {
    argv,
    onLine: (line) => {
      h.lines.push(line);
      h.sup.progress();
    },
    firstRecordTimeoutMs: 3000,
    recordTimeoutMs: 1000,
    onTimeout: (silentMs) => h.timeouts.push(silentMs),
    onExit: (info) => {
      h.exits.push(info);
      h.linesAtExit.push(h.lines.length);
      return { code: "GPUTEL_E_NVSMI_EXIT", detail: `exited with code ${info.code}` };
    },
  };
  h.sup = new SourceSupervisor({
    source: "test-source",
    logger: createLogger({ host: "test" }, { level: "debug", destination }),
    launch: async () => {
      h.launches += 1;
      if (launch) await launch(h);
      else h.child = h.sup.startStream(spec);
    },
    codes: { timeout: "GPUTEL_E_NVSMI_TIMEOUT", stuck: "GPUTEL_E_NVSMI_STUCK" },
    watchEveryMs: 100,
    clock,
    backoffMinMs: 1000,
    backoffMaxMs: 8000,
    stuckAfterMs: 500,
    logPeriodMs: 60_000,
  });
  stops.push(() => h.sup.stop());
  return h;
}

const exitOne = ["sh", "-c", "exit 1"];
const sleeper = ["sleep", "100"];

describe("SourceSupervisor: the long-lived child", () => {
  it("a child that exits is reported once, counted, and relaunched after a doubling backoff", async () => {
    const h = harness(exitOne);
    await h.sup.start();
    await waitFor(() => h.exits.length === 1, 5000, "the first exit");
    expect(h.sup.stats()).toMatchObject({ exits: 1, restarts: 0, lastError: "exited with code 1" });
    h.clock.advance(999);
    expect(h.launches).toBe(1); // still backing off
    h.clock.advance(1);
    expect(h.launches).toBe(2);
    await waitFor(() => h.exits.length === 2, 5000, "the second exit");
    h.clock.advance(1999);
    expect(h.launches).toBe(2); // 2 s the second time
    h.clock.advance(1);
    expect(h.launches).toBe(3);
    await waitFor(() => h.exits.length === 3, 5000, "the third exit");
    expect(h.sup.stats()).toMatchObject({ exits: 3, restarts: 2 });
    // Three failures with one code in one period: one log line.
    expect(h.logs.filter((l) => l.code === "GPUTEL_E_NVSMI_EXIT")).toHaveLength(1);
    expect(h.sup.stats().lastErrorMs).toBe(h.clock.now());
  });

  it("a silent child is killed after its deadline, counted as a timeout, then relaunched", async () => {
    const h = harness(sleeper);
    await h.sup.start();
    const pid = h.child?.pid;
    expect(pid).toBeDefined();
    h.clock.advance(3000);
    expect(h.timeouts).toEqual([]); // the first record may take firstRecordTimeoutMs
    h.clock.advance(100);
    expect(h.timeouts).toEqual([3100]);
    expect(h.sup.stats()).toMatchObject({ timeouts: 1, exits: 0 });
    expect(h.logs.filter((l) => l.code === "GPUTEL_E_NVSMI_TIMEOUT")).toHaveLength(1);
    await waitFor(() => groupMembers(pid ?? 0).length === 0 && !h.child?.isRunning(), 5000, "the kill");
    expect(h.exits).toEqual([]); // a kill is not an exit of its own
    h.clock.advance(1000);
    expect(h.launches).toBe(2);
    expect(h.sup.childPids().stream).not.toBe(pid);
  });

  it("after the first record the shorter deadline applies", async () => {
    const h = harness(["sh", "-c", "echo record; exec sleep 100"]);
    await h.sup.start();
    await waitFor(() => h.lines.length === 1, 5000, "the record");
    h.clock.advance(1000);
    expect(h.timeouts).toEqual([]);
    h.clock.advance(100);
    expect(h.timeouts).toEqual([1100]);
  });

  it("a killed child still alive after stuckAfterMs is stuck: counted, logged, and nothing relaunched until it exits", async () => {
    const h = harness(sleeper);
    await h.sup.start();
    h.clock.advance(3100);
    // The SIGKILL is sent; before Node can see the exit, the stuck deadline passes.
    h.clock.advance(500);
    expect(h.sup.stats()).toMatchObject({ stuckChildren: 1, stuck: true });
    expect(h.logs.filter((l) => l.code === "GPUTEL_E_NVSMI_STUCK")).toHaveLength(1);
    expect(h.sup.startStream({ ...noopSpec, argv: sleeper })).toBeUndefined(); // never a second
    await waitFor(() => h.logs.some((l) => l.msg === "Stuck test-source child exited at last"), 5000, "exit");
    expect(h.sup.stats().stuck).toBe(false);
    h.clock.advance(1000);
    expect(h.launches).toBe(2);
  });

  it("never two children: startStream refuses while one is alive", async () => {
    const h = harness(sleeper);
    await h.sup.start();
    expect(h.sup.startStream({ ...noopSpec, argv: sleeper })).toBeUndefined();
    expect(h.sup.childPids().stream).toBe(h.child?.pid);
  });

  it("a healthy run as long as the backoff cap starts the backoff again from the minimum", async () => {
    const h = harness(sleeper);
    await h.sup.start();
    h.sup.reportFailure(
      { code: "GPUTEL_E_NVSMI_DRIVER", detail: "one failure: the next wait doubles" },
      "run",
    );
    // Records keep coming for 8 s (the cap); the relaunch due meanwhile finds the child alive.
    for (let t = 0; t < 8000; t += 500) {
      h.sup.progress();
      h.clock.advance(500);
    }
    expect(h.launches).toBe(1);
    h.child?.kill();
    await waitFor(() => h.exits.length === 1, 5000, "the exit");
    h.clock.advance(999);
    expect(h.launches).toBe(1);
    h.clock.advance(1);
    expect(h.launches).toBe(2);
  });

  it("decides on an exit only once the child's output has ended: the line that explains it is not lost", async () => {
    // A wrapper whose group writes on after the leader exits (a background writer): 'exit' comes
    // before the last lines, 'close' after them.
    const last = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.";
    const h = harness(["sh", "-c", `(seq 1 3000; echo "${last}") & exit 9`]);
    await h.sup.start();
    await waitFor(() => h.exits.length === 1, 5000, "the exit");
    expect(h.exits[0]).toMatchObject({ code: 9 });
    expect(h.linesAtExit).toEqual([3001]);
    expect(h.lines.at(-1)).toBe(last);
  });

  it("a group that holds the output open after its leader exits is killed after stuckAfterMs, then the exit decided", async () => {
    const h = harness(["sh", "-c", "echo going; sleep 100 & exit 3"]);
    await h.sup.start();
    const pid = h.child?.pid ?? 0;
    await waitFor(() => h.child?.isRunning() === false && h.lines.length === 1, 5000, "the leader's exit");
    expect(h.exits).toEqual([]); // the sleep still holds the pipes
    h.clock.advance(500);
    await waitFor(() => h.exits.length === 1, 5000, "the exit");
    expect(h.exits[0]).toMatchObject({ code: 3 });
    await waitFor(() => groupMembers(pid).length === 0, 5000, "the leftover killed");
  });

  it("stop kills the child's whole group and leaves no timer", async () => {
    const h = harness(["sh", "-c", "sleep 100 & wait"]);
    await h.sup.start();
    const pid = h.child?.pid ?? 0;
    await waitFor(() => groupMembers(pid).length === 2, 5000, "sh and sleep");
    await h.sup.stop();
    await waitFor(() => groupMembers(pid).length === 0, 5000, "the group to die");
    expect(h.clock.pending()).toBe(0);
  });
});

describe("SourceSupervisor: another line producer", () => {
  it("supervises what `open` returns like a child: records, silence, end", async () => {
    let emit: (line: string) => void = () => {};
    let end: (info: ExitInfo) => void = () => {};
    let running = false;
    const opened: StreamChild[] = [];
    const h = harness(["/dev/kmsg"], async (hh) => {
      hh.child = hh.sup.startStream({
        ...noopSpec,
        argv: ["/dev/kmsg"],
        open: (onLine) => {
          emit = onLine;
          running = true;
          const child: StreamChild = {
            pid: undefined,
            exited: new Promise<ExitInfo>((resolve) => {
              end = (info) => {
                running = false;
                resolve(info);
              };
            }),
            isRunning: () => running,
            kill: () => end({ code: null, signal: "SIGKILL" }),
          };
          opened.push(child);
          return child;
        },
        onLine: (line) => {
          hh.lines.push(line);
          hh.sup.progress();
        },
        onTimeout: (silentMs) => hh.timeouts.push(silentMs),
      });
    });
    await h.sup.start();
    emit("6,1234,5678,-;NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus.");
    expect(h.lines).toHaveLength(1);
    h.clock.advance(1100); // recordTimeoutMs 1000 after the first record
    expect(h.timeouts).toEqual([1100]);
    expect(running).toBe(false); // "killed": closed
    emit("a line after the kill"); // dropped
    expect(h.lines).toHaveLength(1);
    await waitFor(() => h.sup.stats().timeouts === 1, 1000, "the timeout");
    h.clock.advance(1000);
    await waitFor(() => opened.length === 2, 1000, "a reopen after the backoff");
    end({ code: 0, signal: null });
    await waitFor(() => h.sup.stats().exits === 1, 1000, "the end counted as an exit");
  });
});

describe("SourceSupervisor: one-shot children", () => {
  it("runs one child per lane at a time and kills one that runs past its timeout", async () => {
    const h = harness(sleeper, async () => {});
    await h.sup.start();
    const first = h.sup.oneShot(sleeper, 1000);
    const second = h.sup.oneShot(["sh", "-c", "echo done"], 1000);
    await waitFor(() => h.sup.childPids().oneShot !== undefined, 5000, "the first child");
    const pid = h.sup.childPids().oneShot;
    h.clock.advance(1000);
    const result = await first;
    expect(result).toMatchObject({ timedOut: true, stuck: false });
    expect(h.sup.stats().timeouts).toBe(1);
    expect(await second).toMatchObject({ code: 0, stdout: "done\n", timedOut: false });
    expect(h.sup.childPids().oneShot).toBeUndefined();
    expect(groupMembers(pid ?? 0)).toEqual([]);
  });

  it("a stuck one-shot blocks its lane (the next is refused, not started) until it is gone", async () => {
    const h = harness(sleeper, async () => {});
    await h.sup.start();
    const first = h.sup.oneShot(sleeper, 1000);
    await waitFor(() => h.sup.childPids().oneShot !== undefined, 5000, "the child");
    h.clock.advance(1000);
    h.clock.advance(500); // the grace passes before Node sees the exit
    expect(await first).toMatchObject({ timedOut: true, stuck: true });
    expect(h.sup.stats()).toMatchObject({ stuckChildren: 1, stuck: true });
    const refused = await h.sup.oneShot(["true"], 1000);
    expect(refused.error?.code).toBe("ESTUCK");
    // Another lane is not blocked.
    expect(await h.sup.oneShot(["true"], 1000, "poll")).toMatchObject({ code: 0 });
    await waitFor(() => !h.sup.stats().stuck, 5000, "the stuck child to exit");
    expect(await h.sup.oneShot(["true"], 1000)).toMatchObject({ code: 0 });
  });
});

describe("SourceSupervisor: failure reporting", () => {
  it("a launch that throws is logged and retried after backoff, never an unhandled rejection", async () => {
    const h = harness(sleeper, async () => {
      throw new Error("bug in launch");
    });
    await h.sup.start();
    expect(h.sup.stats().lastError).toBe("bug in launch");
    h.clock.advance(1000);
    await waitFor(() => h.launches === 2, 1000, "the retry");
    expect(h.logs.filter((l) => l.msg === "test-source launch threw").length).toBeGreaterThanOrEqual(1);
  });

  it("logs a repeating failure once per period with the count suppressed, and counts every one", async () => {
    const h = harness(sleeper, async () => {});
    await h.sup.start();
    for (let i = 0; i < 3; i++)
      h.sup.reportFailure({ code: "GPUTEL_E_NVSMI_MISSING", detail: `try ${i}` }, "start");
    expect(h.logs.filter((l) => l.code === "GPUTEL_E_NVSMI_MISSING")).toHaveLength(1);
    expect(h.sup.stats()).toMatchObject({ startFailures: 3, lastError: "try 2" });
    h.clock.advance(60_000);
    h.sup.reportFailure({ code: "GPUTEL_E_NVSMI_MISSING", detail: "again" }, "start");
    const logged = h.logs.filter((l) => l.code === "GPUTEL_E_NVSMI_MISSING");
    expect(logged).toHaveLength(2);
    expect(logged[1]).toMatchObject({ suppressed: 2, level: "error" });
    // One relaunch timer at a time, however many failures: the backoff fired once.
    expect(h.sup.stats().restarts).toBe(1);
  });
});

const noopSpec: Omit<StreamSpec, "argv"> = {
  onLine: () => {},
  firstRecordTimeoutMs: 1000,
  recordTimeoutMs: 1000,
  onTimeout: () => {},
  onExit: () => ({ code: "GPUTEL_E_NVSMI_EXIT", detail: "" }),
};
