// Host readings through systeminformation: cheap ones with every frame, facts with inventory.
import si from "systeminformation";
import type { IHostInfo, IHostSample } from "../../shared/proto.js";

export interface HostSource {
  sample(): Promise<IHostSample>;
  info(): Promise<IHostInfo>;
}

/** Rounds to two decimals: the precision the readings have, and fewer bytes on the wire. */
function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function finite(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

export class SystemInformationHost implements HostSource {
  async sample(): Promise<IHostSample> {
    const [load, mem] = await Promise.all([si.currentLoad(), si.mem()]);
    const time = si.time();
    const cpu = finite(load.currentLoad);
    const avg = finite(load.avgLoad);
    const sample: IHostSample = {
      memory_total_bytes: mem.total,
      // "used" minus buffers/cache: what processes hold, as `free -b` shows in "used".
      memory_used_bytes: Math.max(0, mem.total - mem.available),
      uptime_seconds: Math.round(Number(time.uptime)),
    };
    if (cpu !== undefined) sample.cpu_load_pct = round2(cpu);
    if (avg !== undefined) sample.load_average_1m = round2(avg);
    return sample;
  }

  async info(): Promise<IHostInfo> {
    const [os, cpu, mem] = await Promise.all([si.osInfo(), si.cpu(), si.mem()]);
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
