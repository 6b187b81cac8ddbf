// Host readings: memory and CPU load with every frame from /proc (proc-readings.ts), facts (OS,
// CPU model) through systeminformation with inventory. CPU load and uptime are computed from
// /proc (proc-readings.ts) instead of si.currentLoad()/si.time(): on Linux those run
// `execSync("cat /proc/stat | grep cpu")` and `execSync("date …")` on every call, a blocking shell
// per frame that cost the agent more CPU than everything else together. Only the three modules
// used are loaded (systeminformation-lib.d.ts says why).
import { cpu as cpuInfo } from "systeminformation/lib/cpu.js";
import { mem as memInfo } from "systeminformation/lib/memory.js";
import { osInfo } from "systeminformation/lib/osinfo.js";
import type { IHostInfo, IHostSample } from "../../shared/proto.js";
import {
  type CpuTimes,
  readCpuTimes,
  readLoadAverage1m,
  readMemory,
  readUptimeSeconds,
} from "./proc-readings.js";

export interface HostSource {
  sample(): Promise<IHostSample>;
  info(): Promise<IHostInfo>;
}

/** Rounds to two decimals: the precision the readings have, and fewer bytes on the wire. */
function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** CPU load (% of all cores) between two readings; undefined when no time has passed. */
export function cpuLoadPct(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  return Math.min(100, Math.max(0, ((after.busy - before.busy) / total) * 100));
}

export class SystemInformationHost implements HostSource {
  private lastCpu: CpuTimes | undefined;

  async sample(): Promise<IHostSample> {
    const mem = readMemory();
    const now = readCpuTimes();
    const load = this.lastCpu ? cpuLoadPct(this.lastCpu, now) : undefined;
    this.lastCpu = now;
    const sample: IHostSample = {
      memory_total_bytes: mem.totalBytes,
      // "used" minus buffers/cache: what processes hold, as `free -b` shows in "used".
      memory_used_bytes: Math.max(0, mem.totalBytes - mem.availableBytes),
      uptime_seconds: Math.round(readUptimeSeconds()),
      load_average_1m: round2(readLoadAverage1m()),
    };
    if (load !== undefined) sample.cpu_load_pct = round2(load);
    return sample;
  }

  async info(): Promise<IHostInfo> {
    const [os, cpu, mem] = await Promise.all([osInfo(), cpuInfo(), memInfo()]);
    return {
      hostname: os.hostname,
      os: [os.distro, os.release].filter(Boolean).join(" "),
      kernel: os.kernel,
      cpu_model: [cpu.manufacturer, cpu.brand].filter(Boolean).join(" "),
      cpu_cores: cpu.cores,
      memory_total_bytes: mem.total,
    };
  }
}
