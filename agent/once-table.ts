// The human view of one frame for `gputel agent --once` without --json.
import { GpuState, type IFrame } from "../shared/proto.js";

function cell(value: number | boolean | null | undefined, unit = ""): string {
  if (value === null || value === undefined) return "-";
  return `${value}${unit}`;
}

export function formatFrameTable(frame: IFrame): string {
  const header = ["GPU", "UUID", "STATE", "UTIL", "MEM USED", "TEMP", "POWER", "SM CLK", "PROCS"];
  const rows = (frame.gpus ?? []).map((gpu) => [
    String(gpu.index ?? 0),
    gpu.uuid ?? "",
    (GpuState[gpu.state ?? 0] ?? "UNKNOWN").replace("GPU_STATE_", "").toLowerCase(),
    cell(gpu.utilization_gpu_pct, "%"),
    cell(gpu.memory_used_mib, " MiB"),
    cell(gpu.temperature_gpu_celsius, " °C"),
    cell(
      gpu.power_draw_watts === null || gpu.power_draw_watts === undefined
        ? undefined
        : Math.round(gpu.power_draw_watts * 100) / 100,
      " W",
    ),
    cell(gpu.clocks_sm_mhz, " MHz"),
    cell(gpu.compute_processes),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cols: string[]) =>
    cols
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const title = `${frame.host} seq ${frame.seq} at ${new Date(Number(frame.timestamp_ms)).toISOString()}`;
  const error = frame.source_error ? `\nsource error: ${frame.source_error}` : "";
  return `${[title, line(header), ...rows.map(line)].join("\n")}${error}\n`;
}
