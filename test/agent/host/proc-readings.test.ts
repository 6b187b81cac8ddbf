// The host's memory and CPU time read from /proc (agent/host/proc-readings.ts): the two lines the
// frame needs from a real /proc/meminfo, the all-CPUs line of a real /proc/stat, and the fallbacks.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cpuLoadPct } from "../../../agent/host/host-source.js";
import { ProcFile } from "../../../agent/host/proc-file.js";
import {
  parseLeadingNumber,
  parseMeminfo,
  parseProcStat,
  readCpuTimes,
  readLoadAverage1m,
  readMemory,
  readUptimeSeconds,
} from "../../../agent/host/proc-readings.js";

// Copied from this project's 2-core build machine (Linux 6.x), 2026-12-04.
const MEMINFO = `MemTotal:       24683792 kB
MemFree:        17105488 kB
MemAvailable:   22117736 kB
Buffers:           34308 kB
Cached:          4884976 kB
SwapCached:            0 kB
`;
const STAT = `cpu  1598908 16316 225559 1536825 9239 0 4082 949 0 0
cpu0 783560 7694 107491 794187 1473 0 689 442 0 0
cpu1 815348 8622 118068 742638 7766 0 3393 507 0 0
intr 123
`;

describe("/proc readings", () => {
  it("reads MemTotal and MemAvailable in bytes", () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ totalBytes: 24683792 * 1024, availableBytes: 22117736 * 1024 });
    expect(parseMeminfo("MemTotal: 1 kB\n")).toBeUndefined();
  });

  it("reads the all-CPUs line of /proc/stat: busy and total ticks", () => {
    const busy = 1598908 + 16316 + 225559 + 0 + 4082 + 949;
    expect(parseProcStat(STAT)).toEqual({ busy, total: busy + 1536825 + 9239 });
    expect(parseProcStat("cpu0 1 2 3 4\n")).toBeUndefined();
    // Old kernels print only user, nice, system, idle.
    expect(parseProcStat("cpu  10 0 5 85\n")).toEqual({ busy: 15, total: 100 });
  });

  it("gives the load between two readings", () => {
    const before = parseProcStat(STAT);
    const after = parseProcStat("cpu  1598958 16316 225559 1536875 9239 0 4082 949 0 0\n");
    expect(before && after && cpuLoadPct(before, after)).toBe(50);
  });

  it("falls back to node:os where /proc cannot be read or parsed", () => {
    const dir = mkdtempSync(join(tmpdir(), "gputel-proc-"));
    writeFileSync(join(dir, "meminfo"), "garbled\n");
    const mem = readMemory(join(dir, "meminfo"));
    expect(mem.totalBytes).toBeGreaterThan(0);
    expect(mem.availableBytes).toBeGreaterThan(0);
    const cpu = readCpuTimes(join(dir, "missing"));
    expect(cpu.total).toBeGreaterThan(cpu.busy);
  });

  it("reads the first field of /proc/uptime and /proc/loadavg", () => {
    // Same machine and date as above.
    expect(parseLeadingNumber("25367.77 33621.96\n")).toBe(25367.77);
    expect(parseLeadingNumber("3.83 2.81 1.51 2/116 15004\n")).toBe(3.83);
    expect(parseLeadingNumber("garbled\n")).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), "gputel-proc-"));
    expect(readUptimeSeconds(join(dir, "missing"))).toBeGreaterThan(0);
    expect(readLoadAverage1m(join(dir, "missing"))).toBeGreaterThanOrEqual(0);
  });

  it("reads a file again from its start through the descriptor it keeps open", () => {
    const dir = mkdtempSync(join(tmpdir(), "gputel-proc-"));
    const path = join(dir, "uptime");
    writeFileSync(path, "10.00 20.00\n");
    const file = new ProcFile(path, 128);
    expect(file.read()).toBe("10.00 20.00\n");
    writeFileSync(path, "11.50 21.00\n"); // the same inode, truncated and rewritten
    expect(file.read()).toBe("11.50 21.00\n");
    file.close();
    expect(new ProcFile(join(dir, "missing"), 128).read()).toBeUndefined();
  });

  it.runIf(existsSync("/proc/uptime"))(
    "sees procfs regenerate /proc/uptime on every read of the kept descriptor",
    () => {
      const file = new ProcFile("/proc/uptime", 128);
      const first = parseLeadingNumber(file.read() ?? "") ?? Number.NaN;
      const deadline = Date.now() + 5_000;
      let later = first;
      while (later <= first && Date.now() < deadline) later = parseLeadingNumber(file.read() ?? "") ?? first;
      expect(later).toBeGreaterThan(first);
      file.close();
    },
  );
});
