// End to end, issue 17: a mock-smi scenario reporting compute processes (two of them real children
// of this test, one a Slurm job from a fixture /proc entry) -> `gputel agent` with the processes
// source -> the collector's embedded broker -> process sessions stored, the idle-held flag names
// its holder, and the report by user and by job is right.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuidFor } from "../../mock-smi/scenario-state.js";
import { waitFor } from "../helpers/net.js";
import { type ProcessesRig, startProcessesRig } from "./processes-rig.js";

const HOST = "procs-e2e";
const SLURM_PID = 4_000_001;
const uid = process.getuid?.() ?? 0;

interface Session {
  pid: number;
  name: string;
  user: string | null;
  jobId: string | null;
  gpuUuid: string;
  startMs: number | null;
  memoryMib: number | null;
  smPct: number | null;
  memPct: number | null;
  open: boolean;
}

describe("processes: mock-smi -> agent -> broker -> collector", () => {
  let rig: ProcessesRig;

  beforeAll(async () => {
    // Two real processes whose /proc entries the agent reads (through links to the real /proc).
    rig = await startProcessesRig({
      host: HOST,
      children: 2,
      // A Slurm job's process (cgroup v1 layout of test/fixtures/cgroup), owned by bob.
      prepare: (proc) => {
        const slurm = join(proc, String(SLURM_PID));
        mkdirSync(slurm);
        writeFileSync(join(slurm, "status"), "Name:\ttorchrun\nUid:\t1002\t1002\t1002\t1002\n");
        writeFileSync(
          join(slurm, "stat"),
          `${SLURM_PID} (torchrun) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 10 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0\n`,
        );
        writeFileSync(join(slurm, "cgroup"), "4:memory:/slurm/uid_1002/job_88123/step_0/task_0\n");
      },
      passwd: `alice:x:${uid}:${uid}::/home/alice:/bin/sh\nbob:x:1002:1002::/home/bob:/bin/sh\n`,
      scenario: ([a, b]) => [
        "start: 2026-07-14T08:00:00Z",
        "hosts:",
        `  - name: ${HOST}`,
        "    gpus:",
        "      - model: NVIDIA H100 80GB HBM3",
        "        utilization: 0",
        "        memory_used: 42000",
        "        processes:",
        `          - { pid: ${a}, name: python3, used_memory: 41000 }`,
        `          - { pid: ${b}, name: python3, used_memory: 500 }`,
        "      - model: NVIDIA H100 80GB HBM3",
        "        utilization: 90",
        "        memory_used: 30000",
        "        processes:",
        `          - { pid: ${SLURM_PID}, name: torchrun, used_memory: 30000 }`,
      ],
      collectorOverrides: { "flags.idle.duration": "2s" },
    });
  }, 30_000);

  afterAll(async () => {
    await rig?.stop();
  });

  const get = <T>(path: string): Promise<T> => rig.get<T>(path);

  it("stores the sessions with the real children's users and start times, and the Slurm job", async () => {
    const [a, b] = rig.pids;
    let sessions: Session[] = [];
    await waitFor(
      async () => {
        sessions = (await get<{ processes: Session[] }>("/api/v1/processes")).processes;
        // pmon's first interval may land after the set that opened the sessions: the next
        // refresh (2 s) carries it.
        return sessions.length === 3 && sessions.every((s) => s.pid !== SLURM_PID || s.smPct !== null);
      },
      40_000,
      "three sessions, the Slurm job's with pmon's SM share",
    ).catch((error: Error) => {
      throw new Error(`${error.message}; agent: ${rig.agent.output().slice(-3000)}`);
    });
    const byPid = new Map(sessions.map((s) => [s.pid, s]));
    expect(byPid.get(a ?? 0)).toMatchObject({
      name: "python3",
      user: "alice",
      gpuUuid: uuidFor(HOST, 0),
      memoryMib: 41_000,
      open: true,
    });
    expect(byPid.get(b ?? 0)).toMatchObject({ user: "alice", memoryMib: 500 });
    // The start time came from the real /proc: within a minute of now.
    expect(Math.abs((byPid.get(a ?? 0)?.startMs ?? 0) - Date.now())).toBeLessThan(120_000);
    expect(byPid.get(SLURM_PID)).toMatchObject({
      name: "torchrun",
      user: "bob",
      jobId: "88123",
      // From the long-lived pmon child's interval: the GPU's 90 % SM, and the memory share
      // mock-smi derives from it (0.4 of it), pmon's `mem` column.
      smPct: 90,
      memPct: 36,
      gpuUuid: uuidFor(HOST, 1),
    });
  }, 60_000);

  it("names the holder in the idle-held flag, with each holder's share of the memory held", async () => {
    const [a, b] = rig.pids;
    let reason = "";
    await waitFor(
      async () => {
        const flags = (await get<{ flags: { kind: string; reason: string }[] }>("/api/v1/flags")).flags;
        reason = flags.find((f) => f.kind === "idle-held")?.reason ?? "";
        return reason.includes("held by");
      },
      40_000,
      "an idle-held flag naming its holder",
    ).catch((error: Error) => {
      throw new Error(`${error.message} (got ${JSON.stringify(reason)})`);
    });
    expect(reason).toMatch(
      new RegExp(
        `held by pid ${a} python3 \\(user alice\\) for \\d+ min with 40 GiB \\(99% of 41 GiB held\\) and 1 more process \\(pid ${b} user alice 1%\\)`,
      ),
    );
  }, 60_000);

  it("reports GPU-hours by user and by job", async () => {
    type Rows = { rows: { key: string | null; sessions: number; gpuHours: number; idleHeldHours: number }[] };
    await waitFor(
      async () =>
        (await get<Rows>("/api/v1/reports/processes?from=1h&by=user")).rows.every((r) => r.gpuHours > 0),
      20_000,
      "time held",
    );
    const users = await get<Rows>("/api/v1/reports/processes?from=1h&by=user");
    const byUser = users.rows
      .map((r) => [r.key, r.sessions])
      .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    expect(byUser).toEqual([
      ["alice", 2],
      ["bob", 1],
    ]);
    const jobs = await get<Rows>("/api/v1/reports/processes?from=1h&by=job");
    expect(jobs.rows.find((r) => r.key === "88123")).toMatchObject({ sessions: 1 });
    expect(jobs.rows.find((r) => r.key === null)).toMatchObject({ sessions: 2 });
    // alice's GPU is idle-held: her hours are partly idle-held, bob's busy GPU has none.
    await waitFor(
      async () =>
        ((await get<Rows>("/api/v1/reports/processes?from=1h&by=user")).rows.find((r) => r.key === "alice")
          ?.idleHeldHours ?? 0) > 0,
      20_000,
      "idle-held time for alice",
    );
    const again = await get<Rows>("/api/v1/reports/processes?from=1h&by=user");
    expect(again.rows.find((r) => r.key === "bob")?.idleHeldHours).toBe(0);
  }, 60_000);
});
