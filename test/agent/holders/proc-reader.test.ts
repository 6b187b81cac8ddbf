// Holder lookup through a fixture /proc tree, and through the real /proc for a real child.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
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
