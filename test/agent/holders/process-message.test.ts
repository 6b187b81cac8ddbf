// When the processes source sends a set (the set of process lives changed, or the refresh period
// passed), what a record carries (never the command line), the peak memory, and the bound.
import { describe, expect, it } from "vitest";
import { ProcessSetPlan, toProcessRecord } from "../../../agent/holders/process-message.js";
import type { HolderRecord } from "../../../agent/holders/records.js";
import { ProcessSet } from "../../../shared/proto.js";

const T0 = 1_764_835_200_000;
const rec = (pid: number, memory: number, over: Partial<HolderRecord> = {}): HolderRecord => ({
  gpuUuid: "GPU-a",
  pid,
  startMs: T0 - 1000,
  name: "python3",
  usedMemoryMib: memory,
  smPct: 0,
  user: { uid: 1001, name: "alice" },
  workload: { kind: "slurm", jobId: "88123" },
  absent: [],
  ...over,
});

describe("ProcessSetPlan", () => {
  it("sends on a change of the set and on refresh only; values alone wait for them", () => {
    const plan = new ProcessSetPlan({ refreshMs: 60_000, maxProcesses: 100 }, { host: "h", bootId: "b" });
    const first = plan.next([rec(1, 100)], T0);
    expect(first?.seq).toBe(1);
    expect(plan.next([rec(1, 900)], T0 + 10_000)).toBeUndefined();
    const added = plan.next([rec(1, 500), rec(2, 10)], T0 + 20_000);
    expect(added?.processes?.map((p) => [p.pid, p.used_memory_mib, p.peak_memory_mib])).toEqual([
      [1, 500, 900],
      [2, 10, 10],
    ]);
    expect(plan.next([rec(2, 10), rec(1, 500)], T0 + 30_000)).toBeUndefined();
    expect(plan.next([rec(2, 10), rec(1, 500)], T0 + 80_000)?.seq).toBe(3);
    // A reused pid (another start) is another process life: a change.
    expect(plan.next([rec(2, 10), rec(1, 500, { startMs: T0 + 70_000 })], T0 + 81_000)?.seq).toBe(4);
    // Everything gone is a change too: the empty set closes the sessions.
    expect(plan.next([], T0 + 82_000)?.processes).toEqual([]);
  });

  it("cuts the set at the bound and says so", () => {
    const plan = new ProcessSetPlan({ refreshMs: 60_000, maxProcesses: 2 }, { host: "h", bootId: "b" });
    const set = plan.next([rec(1, 1), rec(2, 1), rec(3, 1)], T0);
    expect(set?.processes).toHaveLength(2);
    expect(set?.truncated).toBe(true);
  });

  it("8 GPUs x 16 processes: one set is a few KiB", () => {
    const plan = new ProcessSetPlan(
      { refreshMs: 60_000, maxProcesses: 1024 },
      { host: "gpu-node-01", bootId: "b" },
    );
    const records = Array.from({ length: 128 }, (_, i) =>
      rec(10_000 + i, 3800, {
        gpuUuid: `GPU-${String(i % 8).padStart(8, "0")}-1111-2222-3333-444444444444`,
        workload: {
          kind: "kubernetes",
          podUid: "1a2b3c4d-0000-4000-8000-00000000abcd",
          qos: "guaranteed",
          containerId: "ab".repeat(32),
        },
      }),
    );
    const bytes = ProcessSet.encode(plan.next(records, T0) ?? {}).finish().byteLength;
    // Quoted in docs/processes.md.
    expect(bytes).toBeLessThan(32 * 1024);
    expect(bytes).toBeGreaterThan(128 * 100);
  });
});

describe("toProcessRecord", () => {
  it("carries user and workload fields, hashed users as a token only", () => {
    const r = toProcessRecord(rec(4121, 41_000), 42_000);
    expect(r).toMatchObject({
      pid: 4121,
      user: "alice",
      uid: 1001,
      workload_kind: "slurm",
      slurm_job_id: "88123",
    });
    const hashed = toProcessRecord(rec(1, 1, { user: { token: "0123456789abcdef" } }), undefined);
    expect([hashed.user, hashed.user_token, hashed.uid]).toEqual(["", "0123456789abcdef", undefined]);
    expect(Object.keys(r)).not.toContain("cmdline");
  });
});
