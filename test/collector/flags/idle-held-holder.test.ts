// idle-held names its holder: the biggest process on the GPU by memory, with user, pod, job,
// how long and how much, and with several holders each one's share of the memory held; a new
// process set renames it, and the rule's own text is kept.
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_FLAGS_CONFIG, resolveFlagsConfig } from "../../../collector/flags/config.js";
import { FlagEngine } from "../../../collector/flags/engine.js";
import { type HolderSession, holderText, withHolder } from "../../../collector/flags/holder-text.js";
import type { FlagEvent } from "../../../collector/flags/types.js";
import { FlagStore } from "../../../collector/store/flag-store.js";
import { frame, INTERVAL, MIN, migrate, sample, T0, UUID } from "./helpers.js";

const alice: HolderSession = {
  pid: 4121,
  name: "python3",
  user: "alice",
  podUid: "1a2b3c4d-0000-4000-8000-00000000abcd",
  containerId: "ab".repeat(32),
  jobId: "88123",
  unit: null,
  startMs: T0 - 3 * 60 * MIN,
  firstSeenMs: T0 - 60 * MIN,
  memoryMib: 41 * 1024,
};

describe("holderText", () => {
  it("names the biggest holder, its user, pod, job, age and memory, and counts the others", () => {
    expect(holderText([alice], T0)).toBe(
      "held by pid 4121 python3 (user alice, pod uid 1a2b…, Slurm job 88123) for 3 h with 41 GiB",
    );
    const small = {
      ...alice,
      pid: 7,
      memoryMib: 500,
      user: null,
      podUid: null,
      jobId: null,
      containerId: null,
    };
    expect(holderText([small, alice], T0)).toMatch(
      /^held by pid 4121 .* with 41 GiB \(99% of 41 GiB held\) and 1 more process \(pid 7 1%\)$/,
    );
    expect(holderText([{ ...small, startMs: null, firstSeenMs: T0 - 5 * MIN }], T0)).toBe(
      "held by pid 7 python3 for 5 min with 500 MiB",
    );
    expect(holderText([], T0)).toBeUndefined();
  });

  it("gives each holder's share of the memory held when several hold the GPU", () => {
    const bob = {
      ...alice,
      pid: 7,
      name: "torchrun",
      user: "bob",
      podUid: null,
      jobId: null,
      memoryMib: 8192,
    };
    const tiny = { ...bob, pid: 9, user: null, memoryMib: 100 };
    expect(holderText([tiny, bob, alice], T0)).toBe(
      "held by pid 4121 python3 (user alice, pod uid 1a2b…, Slurm job 88123) for 3 h with 41 GiB " +
        "(84% of 49 GiB held) and 2 more processes (pid 7 user bob 16%, pid 9 <1%)",
    );
    // Past three others, the rest are counted; a process whose memory is unknown has no share.
    const unknown = [11, 13, 15].map((pid) => ({ ...bob, pid, user: "carol", memoryMib: null }));
    expect(holderText([...unknown, tiny, bob, alice], T0)).toMatch(
      /with 41 GiB \(84% of 49 GiB held\) and 5 more processes \(pid 7 user bob 16%, pid 9 <1%, pid 11 user carol, 2 more\)$/,
    );
    // No memory known at all: no shares; the holders by pid.
    const blind = [bob, alice].map((s) => ({ ...s, memoryMib: null }));
    expect(holderText(blind, T0)).toBe(
      "held by pid 7 torchrun (user bob, container abababababab) for 3 h and 1 more process (pid 4121 user alice)",
    );
  });

  it("replaces a holder, keeps the rule's text", () => {
    const once = withHolder("GPU idle while 2 compute processes present", "held by pid 1");
    expect(withHolder(once, "held by pid 2")).toBe(
      "GPU idle while 2 compute processes present; held by pid 2",
    );
    expect(withHolder(once, undefined)).toBe("GPU idle while 2 compute processes present");
  });
});

describe("the engine's idle-held flag", () => {
  let db: Database.Database | undefined;
  afterEach(() => db?.close());

  it("names the holder when it opens and again when a new process set arrives", () => {
    db = new Database(":memory:");
    migrate(db);
    let holders: HolderSession[] = [alice];
    const clock = { now: T0 };
    const engine = new FlagEngine({
      store: new FlagStore(db),
      config: resolveFlagsConfig(DEFAULT_FLAGS_CONFIG),
      now: () => clock.now,
      holders: (_host, uuid, nowMs) => (uuid === UUID ? holderText(holders, nowMs) : undefined),
    });
    const events: FlagEvent[] = [];
    engine.subscribe((e) => events.push(e));
    engine.start();
    for (let t = T0; t < T0 + 16 * MIN; t += INTERVAL) {
      clock.now = t;
      engine.onFrames(
        [frame(t, [sample({ utilization_gpu_pct: 0, memory_used_mib: 42_000, compute_processes: 1 })])],
        t,
      );
    }
    const opened = events.find((e) => e.type === "opened" && e.flag.kind === "idle-held");
    expect(opened?.flag.reason).toContain("42000 MiB of memory allocated");
    expect(opened?.flag.reason).toContain(
      "; held by pid 4121 python3 (user alice, pod uid 1a2b…, Slurm job 88123) for 3 h with 41 GiB",
    );
    holders = [{ ...alice, pid: 5151, name: "torchrun", user: "bob" }];
    engine.onProcesses(["node-1"], clock.now);
    const open = engine.openFlags().find((f) => f.kind === "idle-held");
    expect(open?.reason).toContain("held by pid 5151 torchrun (user bob");
    expect(open?.reason.match(/held by/g)).toHaveLength(1);
    engine.stop();
  });
});
