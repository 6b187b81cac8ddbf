// Holder lookup through a fixture /proc tree, and through the real /proc for a real child.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cp, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { parsePasswd, startTicksFromStat, uidFromStatus } from "../../../agent/holders/proc-files.js";
import { ProcReader } from "../../../agent/holders/proc-reader.js";

const FIXTURE = join(import.meta.dirname, "../../fixtures/proc");

describe("ProcReader on a fixture tree", () => {
  const reader = new ProcReader({ procRoot: FIXTURE, passwdPath: join(FIXTURE, "passwd") });

  it("reads user, start time and Kubernetes workload", async () => {
    const info = await reader.read(4121);
    expect(info).toEqual({
      pid: 4121,
      uid: 1001,
      user: "alice",
      startMs: (1764835200 + 3600) * 1000,
      workload: {
        kind: "kubernetes",
        podUid: "dd1bf9d1-241d-47f5-8e25-12de83135812",
        qos: "besteffort",
        containerId: "f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830",
        runtime: "containerd",
      },
      problems: [],
    });
  });

  it("keeps the uid when the passwd file has no name for it", async () => {
    const info = await reader.read(5000);
    expect(info.uid).toBe(4242);
    expect(info.user).toBeUndefined();
    expect(info.workload).toEqual({ kind: "slurm", jobId: "88123", stepId: "0" });
    expect(info.startMs).toBe(1764835200 * 1000 + 1000);
  });

  it("a vanished pid gives absent fields with the reason, not a throw", async () => {
    const info = await reader.read(999_999);
    expect(info).toEqual({
      pid: 999_999,
      problems: ["status: ENOENT", "stat: ENOENT", "cgroup: ENOENT"],
    });
  });

  it("never opens cmdline or environ (they are FIFOs here: opening one would hang the test)", async () => {
    const root = await mkdtemp(join(tmpdir(), "gputel-proc-"));
    try {
      await cp(FIXTURE, root, { recursive: true });
      for (const f of ["cmdline", "environ"]) execFileSync("mkfifo", [join(root, "4121", f)]);
      const info = await new ProcReader({ procRoot: root, passwdPath: join(root, "passwd") }).read(4121);
      expect(info.user).toBe("alice");
    } finally {
      await rm(root, { recursive: true });
    }
  });

  it("refuses a pid that is not a process id", async () => {
    expect((await reader.read(-1)).problems).toEqual(["pid: not a process id"]);
  });
});

describe("ProcReader reuses a process life it has read", () => {
  let root = "";
  let nowMs = 0;
  const make = () =>
    new ProcReader({ procRoot: root, passwdPath: join(root, "passwd"), maxAgeMs: 60_000, now: () => nowMs });
  const statWith = (startTicks: number, name = "python3") =>
    `4121 (${name}) S 1 4121 4121 0 -1 4194560 0 0 0 0 7 3 0 0 20 0 1 0 ${startTicks} 0 0\n`;

  afterEach(async () => {
    if (root) await rm(root, { recursive: true });
    root = "";
  });

  async function tree(): Promise<void> {
    root = await mkdtemp(join(tmpdir(), "gputel-proc-"));
    await cp(FIXTURE, root, { recursive: true });
    await writeFile(join(root, "4121/stat"), statWith(360000));
  }

  it("same pid and start time: the cgroup is not read again until the entry is older than maxAgeMs", async () => {
    await tree();
    const reader = make();
    const first = await reader.readAll([4121]);
    expect(first.get(4121)?.workload?.kind).toBe("kubernetes");
    // The workload changes on disk; the process life is the same, so the first answer stands…
    await writeFile(join(root, "4121/cgroup"), "0::/slurm/uid_1001/job_77/step_0/user/task_0\n");
    nowMs += 59_000;
    expect((await reader.readAll([4121])).get(4121)).toEqual(first.get(4121));
    // …until it is older than maxAgeMs: then it is read again.
    nowMs += 2_000;
    expect((await reader.readAll([4121])).get(4121)?.workload).toEqual({
      kind: "slurm",
      uid: 1001,
      jobId: "77",
      stepId: "0",
    });
  });

  it("a reused pid (new start time) or an exec (new name) is read again at once", async () => {
    await tree();
    const reader = make();
    expect((await reader.read(4121)).user).toBe("alice");
    await writeFile(join(root, "4121/status"), "Name:\tpython3\nUid:\t0\t0\t0\t0\n");
    await writeFile(join(root, "4121/stat"), statWith(370000));
    const reused = await reader.read(4121);
    expect(reused.uid).toBe(0);
    expect(reused.startMs).toBe((1764835200 + 3700) * 1000);
    await writeFile(join(root, "4121/status"), "Name:\tbash\nUid:\t1001\t0\t0\t0\n");
    await writeFile(join(root, "4121/stat"), statWith(370000, "bash"));
    expect((await reader.read(4121)).user).toBe("alice");
  });

  it("a directory without stat is not a vanished pid: status and cgroup are still read", async () => {
    await tree();
    await rm(join(root, "4121/stat"));
    const info = await make().read(4121);
    expect(info.problems).toEqual(["stat: ENOENT"]);
    expect(info.user).toBe("alice");
    expect(info.workload?.kind).toBe("kubernetes");
    expect(info.startMs).toBeUndefined();
  });

  it("reads the same through a procRoot spelt with a trailing slash", async () => {
    await tree();
    const reader = new ProcReader({ procRoot: `${root}/`, passwdPath: join(root, "passwd") });
    expect(await reader.read(4121)).toEqual(await make().read(4121));
  });

  it("a pid that vanished and came back is read again, and a changed passwd file renames", async () => {
    await tree();
    const reader = make();
    await reader.read(4121);
    await rm(join(root, "4121"), { recursive: true });
    expect((await reader.read(4121)).problems).toEqual(["status: ENOENT", "stat: ENOENT", "cgroup: ENOENT"]);
    await cp(join(FIXTURE, "4121"), join(root, "4121"), { recursive: true });
    await writeFile(join(root, "4121/stat"), statWith(360000));
    expect((await reader.read(4121)).user).toBe("alice");
    const passwd = join(root, "passwd");
    await writeFile(passwd, "carol:x:1001:1001::/:/bin/sh\n");
    const later = new Date(Date.now() + 5_000);
    await utimes(passwd, later, later);
    expect((await reader.read(4121)).user).toBe("carol");
  });
});

describe("ProcReader on the real /proc", () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterEach(() => {
    child?.kill("SIGKILL");
    child = undefined;
  });

  it("resolves a real child: uid is ours, start time matches, a passwd name when there is one", async () => {
    const before = Date.now();
    child = spawn("sleep", ["30"], { stdio: "ignore" });
    const pid = child.pid ?? 0;
    await new Promise((resolve) => child?.once("spawn", resolve));
    const after = Date.now();
    const reader = new ProcReader({ procRoot: "/proc", passwdPath: "/etc/passwd" });
    const info = await reader.read(pid);
    const me = userInfo();
    expect(info.uid).toBe(me.uid);
    const passwdName = parsePasswd(readFileSync("/etc/passwd", "utf8")).get(me.uid);
    expect(info.user).toBe(passwdName);
    // btime is whole seconds, so the start is exact to about a second.
    expect(info.startMs).toBeGreaterThanOrEqual(before - 1500);
    expect(info.startMs).toBeLessThanOrEqual(after + 1500);
    expect(info.workload).toBeDefined();
    expect(info.problems).toEqual([]);
    // The same (pid, start) on a second read: one session, not a new one each poll.
    expect((await reader.read(pid)).startMs).toBe(info.startMs);
  });
});

describe("proc file parsers", () => {
  it("counts stat fields after the last ')'", () => {
    expect(startTicksFromStat(readFileSync(join(FIXTURE, "4121/stat"), "utf8"))).toBe(360000);
    expect(startTicksFromStat("garbage")).toBeUndefined();
    expect(startTicksFromStat("1 (x) S 1 2")).toBeUndefined();
    expect(startTicksFromStat(readFileSync("/proc/self/stat", "utf8"))).toBeGreaterThan(0);
  });

  it("reads field 22 as splitting the fields after the last ')' would, for any text", () => {
    const bySplit = (text: string) => {
      const close = text.lastIndexOf(")");
      if (close < 0) return undefined;
      const ticks = text
        .slice(close + 1)
        .trim()
        .split(/\s+/)[19];
      return ticks !== undefined && /^\d+$/.test(ticks) ? Number(ticks) : undefined;
    };
    const token = fc.oneof(
      fc.constantFrom("S", "-1", "0", "360000", ")", "(a b)", "x)y"),
      fc.nat().map(String),
    );
    const space = fc.constantFrom(" ", "  ", "\t", "\n", " \n");
    const stat = fc
      .tuple(fc.array(fc.tuple(token, space), { maxLength: 30 }), fc.boolean())
      .map(([parts, trailing]) => `1 (name) ${parts.map(([t, s]) => t + s).join("")}${trailing ? "\n" : ""}`);
    fc.assert(
      fc.property(fc.oneof(stat, fc.string({ maxLength: 200 })), (text) => {
        expect(startTicksFromStat(text)).toBe(bySplit(text));
      }),
      { numRuns: 2000 },
    );
  });

  it("reads the real uid from status", () => {
    expect(uidFromStatus("Name:\tx\nUid:\t7\t0\t0\t0\n")).toBe(7);
    expect(uidFromStatus("")).toBeUndefined();
  });

  it("reads a passwd file written at runtime", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gputel-passwd-"));
    try {
      await writeFile(join(dir, "passwd"), "bob:x:12:12::/:/bin/sh\nbad line\n:x:13:13::/:/bin/sh\n");
      expect([...parsePasswd(readFileSync(join(dir, "passwd"), "utf8"))]).toEqual([[12, "bob"]]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
