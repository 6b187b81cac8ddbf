// ProcessWatch, the processes source, with a real stand-in nvidia-smi child (fake-smi.ts) for its
// pmon stream and MIG one-shots, and /proc read from the fixture tree: rows in, sets out on a
// change and on refresh; rows that arrive while a set is built are coalesced to the newest; stop()
// waits for the set in flight and reaps its children; on a GPU in MIG mode each process gets the
// MIG device -L and -q -x name, or none with the reason.
import { writeFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MigLookup } from "../../../agent/holders/mig-lookup.js";
import { ProcessWatch } from "../../../agent/holders/process-watch.js";
import type { ComputeAppRow } from "../../../agent/sources/nvidia-smi/compute-apps.js";
import { runOneShot } from "../../../agent/sources/supervisor/child-process.js";
import { uuidFor } from "../../../mock-smi/scenario-state.js";
import { silentLogger } from "../../../shared/logger.js";
import { AbsentReason, type IProcessSet } from "../../../shared/proto.js";
import { waitFor } from "../../helpers/net.js";
import { mockSmi } from "../../mock-smi/helpers.js";
import { alive, type FakeSmi, fakeSmi } from "./fake-smi.js";

const PROC = join(import.meta.dirname, "../../fixtures/proc");
const G0 = "GPU-0b2f1c9e-1111-2222-3333-444455556666";
const PMON = [
  "# gpu         pid   type     fb   ccpm     sm    mem    enc    dec    jpg    ofa    command",
  "# Idx           #    C/G     MB     MB      %      %      %      %      %      %    name",
  "    0       4121     C   15690      0     77     10      -      -      -      -    python3",
  "",
].join("\n");
const alice = (gpuUuid = G0, usedMemoryMib = 15690): ComputeAppRow => ({
  gpuUuid,
  pid: 4121,
  name: "python3",
  usedMemoryMib,
});
const slurm = (gpuUuid = G0): ComputeAppRow => ({ gpuUuid, pid: 5000, name: "torchrun", usedMemoryMib: 500 });

let smi: FakeSmi;
const running: ProcessWatch[] = [];

afterEach(async () => {
  for (const w of running.splice(0)) await w.stop();
  smi?.remove();
});

async function started(refreshMs: number, gpu = { index: 0, uuid: G0, migMode: false }, procRoot = PROC) {
  const watch = new ProcessWatch({
    command: smi.command,
    pmonPeriodS: 1,
    procRoot,
    passwdPath: join(procRoot, "passwd"),
    privacy: { users: "keep", salt: "" },
    refreshMs,
    maxProcesses: 100,
    migTimeoutMs: 5000,
    logger: silentLogger(),
  });
  const sets: IProcessSet[] = [];
  await watch.start({
    publish: (set) => sets.push(set) > 0,
    gpus: () => [gpu],
    host: "node-1",
    bootId: "boot-1",
  });
  running.push(watch);
  /** Hands rows in and waits until the set they make (if any) has gone out. */
  const feed = async (rows: ComputeAppRow[], atMs: number) => {
    watch.update(rows, atMs);
    await watch.settled();
  };
  return { watch, sets, feed };
}

const pidsOf = (set: IProcessSet | undefined) => (set?.processes ?? []).map((p) => p.pid);

describe("ProcessWatch", () => {
  it("builds records from the rows, the fixture /proc and pmon's last interval", async () => {
    smi = fakeSmi();
    // Two intervals at once: the second header closes the first, so it is "the last" at once.
    smi.answer("pmon.txt", PMON + PMON);
    const { sets, feed } = await started(0);
    let at = 1000;
    await waitFor(
      async () => {
        at += 1000;
        await feed([alice(), slurm()], at);
        return sets.at(-1)?.processes?.[0]?.sm_pct === 77;
      },
      10_000,
      "a set with pmon's SM share",
    );
    const [a, s] = sets.at(-1)?.processes ?? [];
    expect(a).toMatchObject({
      gpu_uuid: G0,
      mig_uuid: "",
      pid: 4121,
      name: "python3",
      used_memory_mib: 15690,
      sm_pct: 77,
      mem_pct: 10,
      uid: 1001,
      user: "alice",
      start_ms: (1764835200 + 3600) * 1000,
      workload_kind: "kubernetes",
      pod_uid: "dd1bf9d1-241d-47f5-8e25-12de83135812",
      absent: [],
    });
    expect(s).toMatchObject({
      pid: 5000,
      uid: 4242,
      user: "",
      workload_kind: "slurm",
      slurm_job_id: "88123",
    });
    expect(s?.absent?.map((x) => [x.field, x.why])).toEqual([
      ["sm", "not in the last pmon interval"],
      ["mem", "not in the last pmon interval"],
    ]);
    // Nothing but pmon ran: no GPU is in MIG mode, so no MIG lookup.
    expect(smi.calls()).toEqual(["pmon -s um -d 1"]);
  }, 20_000);

  it("sends a set when the set of process lives changes and when the refresh period passes", async () => {
    smi = fakeSmi();
    const { sets, feed } = await started(10_000);
    await feed([alice()], 1000);
    expect(sets.map((s) => Number(s.seq))).toEqual([1]);
    await feed([alice()], 2000);
    await feed([alice(G0, 20_000)], 3000); // memory alone never triggers a set
    expect(sets).toHaveLength(1);
    await feed([alice(G0, 20_000), slurm()], 4000);
    expect(sets.map((s) => [Number(s.seq), Number(s.timestamp_ms), pidsOf(s)])).toEqual([
      [1, 1000, [4121]],
      [2, 4000, [4121, 5000]],
    ]);
    expect(sets[1]?.processes?.[0]?.peak_memory_mib).toBe(20_000);
    await feed([alice(G0, 1000), slurm()], 13_999);
    expect(sets).toHaveLength(2);
    await feed([alice(G0, 1000), slurm()], 14_000);
    expect(sets).toHaveLength(3);
    // The peak is the process life's, not the last poll's.
    expect(sets[2]?.processes?.[0]).toMatchObject({ used_memory_mib: 1000, peak_memory_mib: 20_000 });
    expect(sets.every((s) => s.host === "node-1" && s.boot_id === "boot-1")).toBe(true);
  });

  it("a process gone from /proc by the read keeps the start and user its last poll read: one session", async () => {
    smi = fakeSmi();
    const root = await mkdtemp(join(tmpdir(), "gputel-proc-"));
    try {
      await cp(PROC, root, { recursive: true });
      const { sets, feed } = await started(0, undefined, root);
      await feed([alice()], 1000);
      // It exits and is reaped after nvidia-smi listed it, before /proc is read.
      await rm(join(root, "4121"), { recursive: true });
      await feed([alice()], 2000);
      const life = (set: IProcessSet | undefined) => {
        const p = set?.processes?.[0];
        return [p?.pid, Number(p?.start_ms), p?.user];
      };
      expect(sets.map(life)).toEqual([
        [4121, (1764835200 + 3600) * 1000, "alice"],
        [4121, (1764835200 + 3600) * 1000, "alice"],
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("coalesces rows that arrive while a set is being built: only the newest is built next", async () => {
    smi = fakeSmi();
    const { watch, sets } = await started(0);
    watch.update([alice()], 1);
    watch.update([slurm()], 2); // arrives while the first set reads /proc: replaced by the next
    watch.update([alice(), slurm()], 3);
    await watch.settled();
    expect(sets.map((s) => [Number(s.seq), Number(s.timestamp_ms), pidsOf(s)])).toEqual([
      [1, 1, [4121]],
      [2, 3, [4121, 5000]],
    ]);
  });
});

describe("ProcessWatch on a GPU in MIG mode", () => {
  const MIG_HOST = "mig-node";
  const U = uuidFor(MIG_HOST, 0);

  /** -L and -q -x of a MIG A100 from mock-smi: 4121 on the 1g.10gb, 5000 with N/A ids. */
  async function migAnswers(): Promise<string> {
    const scenario = join(smi.dir, "mig.yaml");
    writeFileSync(
      scenario,
      [
        "start: 2026-07-14T08:00:00Z",
        `name: ${MIG_HOST}`,
        "gpus:",
        "  - model: NVIDIA A100-SXM4-80GB",
        "    mig: [3g.40gb, 1g.10gb]",
        "    processes:",
        "      - { pid: 4121, name: python3, used_memory: 9000, mig_device: 1 }",
        "      - { pid: 5000, name: torchrun, used_memory: 500 }",
      ].join("\n"),
    );
    const list = (await mockSmi(["--scenario", scenario, "--", "-L"])).stdout;
    smi.answer("list.txt", list);
    smi.answer("xml.txt", (await mockSmi(["--scenario", scenario, "--", "-q", "-x"])).stdout);
    const device = /MIG 1g\.10gb\s+Device\s+1: \(UUID: (MIG-[^)]+)\)/.exec(list)?.[1];
    if (device === undefined) throw new Error(`no 1g.10gb device in ${list}`);
    return device;
  }

  it("names each process's MIG device, or none with the reason; looks each process up once", async () => {
    smi = fakeSmi();
    const device = await migAnswers();
    const { sets, feed } = await started(0, { index: 0, uuid: U, migMode: true });
    await feed([alice(U, 9000), slurm(U)], 1000);
    const [a, s] = sets.at(-1)?.processes ?? [];
    expect(a).toMatchObject({ pid: 4121, gpu_uuid: U, mig_uuid: device });
    expect(a?.absent?.map((x) => [x.field, x.why])).toEqual([
      ["sm", "nvidia-smi reports no per-process utilization under MIG"],
      ["mem", "nvidia-smi reports no per-process utilization under MIG"],
    ]);
    expect(s).toMatchObject({ pid: 5000, mig_uuid: "" });
    expect(s?.absent?.find((x) => x.field === "mig")).toEqual({
      field: "mig",
      reason: AbsentReason.ABSENT_REASON_UNSUPPORTED,
      why: "nvidia-smi gave no GPU instance id for it",
    });
    expect(smi.calls().filter((c) => !c.startsWith("pmon"))).toEqual(["-L", "-q -x -i 0"]);
    await feed([alice(U, 9000), slurm(U)], 2000);
    expect(smi.calls()).toHaveLength(3); // known process lives: nothing run again
  });

  it("stop() waits for the set being built and reaps the pmon child", async () => {
    smi = fakeSmi();
    const device = await migAnswers();
    smi.answer("xml.delay-ms", "300"); // the set is still being built when stop() is called
    const { watch, sets } = await started(0, { index: 0, uuid: U, migMode: true });
    await waitFor(() => smi.pmonPid() !== undefined, 10_000, "the pmon child");
    watch.update([alice(U, 9000)], 1000);
    await watch.stop();
    running.length = 0;
    expect(sets.map((s) => s.processes?.[0]?.mig_uuid)).toEqual([device]);
    expect(alive(smi.pmonPid() ?? 0)).toBe(false);
    watch.update([alice(U, 9000), slurm(U)], 2000);
    await watch.settled();
    expect(sets).toHaveLength(1);
  });
});

/** A MigLookup on the fake nvidia-smi, retrying after a minute on the test's clock. */
function lookupOnSmi(now: () => number): MigLookup {
  return new MigLookup({
    command: smi.command,
    timeoutMs: 5000,
    run: (argv, timeoutMs) => runOneShot(argv, { timeoutMs }),
    retryMs: 60_000,
    now,
    logger: silentLogger(),
  });
}

describe("MigLookup", () => {
  it("a failed lookup gives its reason and is retried only after retryMs", async () => {
    smi = fakeSmi();
    smi.answer("list.txt", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n");
    smi.answer("list.code", "9");
    let now = 0;
    const lookup = lookupOnSmi(() => now);
    const gpus = [
      { index: 0, uuid: G0, migMode: true },
      { index: 1, uuid: "GPU-plain", migMode: false },
    ];
    const rows = [alice(), { gpuUuid: "GPU-plain", pid: 7 }];
    const first = await lookup.places(rows, gpus, () => undefined);
    expect([...first]).toEqual([
      [
        `${G0}/4121`,
        {
          missing: expect.stringMatching(/^nvidia-smi -L failed \(exit 9\): NVIDIA-SMI has failed/),
          reason: AbsentReason.ABSENT_REASON_ERROR,
        },
      ],
    ]);
    now = 59_999;
    await lookup.places(rows, gpus, () => undefined);
    expect(smi.calls()).toEqual(["-L"]);
    now = 60_000;
    await lookup.places(rows, gpus, () => undefined);
    expect(smi.calls()).toEqual(["-L", "-L"]);
  });

  it("a process the outputs did not place for a passing reason is asked about again after retryMs", async () => {
    smi = fakeSmi();
    const scenario = join(smi.dir, "mig.yaml");
    const answer = async (processes: string[]) => {
      writeFileSync(
        scenario,
        [
          "start: 2026-07-14T08:00:00Z",
          "name: mig-node",
          "gpus:",
          "  - model: NVIDIA A100-SXM4-80GB",
          "    mig: [3g.40gb, 1g.10gb]",
          ...(processes.length > 0 ? ["    processes:", ...processes] : []),
        ].join("\n"),
      );
      smi.answer("list.txt", (await mockSmi(["--scenario", scenario, "--", "-L"])).stdout);
      smi.answer("xml.txt", (await mockSmi(["--scenario", scenario, "--", "-q", "-x"])).stdout);
    };
    const U = uuidFor("mig-node", 0);
    let now = 0;
    const lookup = lookupOnSmi(() => now);
    const gpus = [{ index: 0, uuid: U, migMode: true }];
    const rows = [alice(U, 9000)];
    // -q -x read the list before 4121 reached it.
    await answer([]);
    expect((await lookup.places(rows, gpus, () => 1)).get(`${U}/4121`)).toEqual({
      missing: "not among nvidia-smi -q -x's processes",
      reason: AbsentReason.ABSENT_REASON_ERROR,
    });
    await answer(["      - { pid: 4121, name: python3, used_memory: 9000, mig_device: 1 }"]);
    now = 59_999;
    await lookup.places(rows, gpus, () => 1);
    expect(smi.calls()).toEqual(["-L", "-q -x -i 0"]);
    now = 60_000;
    expect((await lookup.places(rows, gpus, () => 1)).get(`${U}/4121`)).toEqual({
      migUuid: expect.stringMatching(/^MIG-/),
    });
    now = 200_000;
    await lookup.places(rows, gpus, () => 1);
    expect(smi.calls()).toHaveLength(4); // placed: kept for the process life
  });
});
