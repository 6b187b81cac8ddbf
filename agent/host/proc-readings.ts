// The host's memory, CPU time, uptime and load average from /proc, read directly: one small
// synchronous pread each through a descriptor kept open (proc-file.ts; procfs is generated in
// memory, never waits on a disk). systeminformation's si.mem() reads the
// same /proc/meminfo but scans it a dozen times for fields the frame does not carry, and
// os.cpus() also reads every CPU's model and speed: per frame, those were among the agent's
// largest costs (bench agent.cpu_pct), and node:os's uptime() and loadavg() open and close
// /proc/uptime and /proc/loadavg on every call. Elsewhere than Linux, node:os answers.
import { cpus, freemem, loadavg, totalmem, uptime } from "node:os";
import { procFile } from "./proc-file.js";

export interface MemoryReading {
  totalBytes: number;
  /** What processes can still get without swapping (MemAvailable): `free -b`'s "available". */
  availableBytes: number;
}

export interface CpuTimes {
  busy: number;
  total: number;
}

// How much of each file's start is read: MemTotal and MemAvailable are its first and third
// lines, the all-CPUs line is the first of /proc/stat (whose per-CPU and interrupt lines run to
// many KiB on large hosts), uptime and loadavg are one short line.
const MEMINFO_HEAD = 1024;
const STAT_HEAD = 512;
const LINE_HEAD = 128;

function readProc(path: string, headBytes: number): string | undefined {
  return procFile(path, headBytes).read();
}

/** MemTotal and MemAvailable of /proc/meminfo (kB) in bytes; undefined when either is missing. */
export function parseMeminfo(text: string): MemoryReading | undefined {
  const total = /^MemTotal:\s+(\d+) kB$/m.exec(text)?.[1];
  const available = /^MemAvailable:\s+(\d+) kB$/m.exec(text)?.[1];
  if (total === undefined || available === undefined) return undefined;
  return { totalBytes: Number(total) * 1024, availableBytes: Number(available) * 1024 };
}

/**
 * The first (all CPUs) line of /proc/stat: busy = user + nice + system + irq + softirq + steal,
 * total = busy + idle + iowait (guest time is already inside user and nice). Undefined when absent.
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = /^cpu\s+(.*)$/m.exec(text)?.[1];
  if (line === undefined) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  const fields = [user, nice, system, idle, iowait, irq, softirq, steal];
  if (fields.slice(0, 4).some((v) => v === undefined || !Number.isFinite(v))) return undefined;
  const n = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : 0);
  const busy = n(user) + n(nice) + n(system) + n(irq) + n(softirq) + n(steal);
  return { busy, total: busy + n(idle) + n(iowait) };
}

/** The first number of a text such as /proc/uptime or /proc/loadavg; undefined when none. */
export function parseLeadingNumber(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s/.exec(text);
  return m ? Number(m[1]) : undefined;
}

export function readMemory(path = "/proc/meminfo"): MemoryReading {
  const text = readProc(path, MEMINFO_HEAD);
  const parsed = text === undefined ? undefined : parseMeminfo(text);
  return parsed ?? { totalBytes: totalmem(), availableBytes: freemem() };
}

export function readCpuTimes(path = "/proc/stat"): CpuTimes {
  const text = readProc(path, STAT_HEAD);
  const parsed = text === undefined ? undefined : parseProcStat(text);
  if (parsed) return parsed;
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

/** Seconds since boot (/proc/uptime's first field). */
export function readUptimeSeconds(path = "/proc/uptime"): number {
  const text = readProc(path, LINE_HEAD);
  return (text === undefined ? undefined : parseLeadingNumber(text)) ?? uptime();
}

/** The 1-minute load average (/proc/loadavg's first field). */
export function readLoadAverage1m(path = "/proc/loadavg"): number {
  const text = readProc(path, LINE_HEAD);
  return (text === undefined ? undefined : parseLeadingNumber(text)) ?? loadavg()[0] ?? 0;
}
