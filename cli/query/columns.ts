// The columns of `gputel query`'s lists, as plain values: what --format csv prints and what
// --sort orders by (tables format the same rows for people, render.ts). A GPU is named host:index.
// A measured column's name carries its unit, as the report CSVs' do (util_pct, for_ms).
import type { GpuView } from "../../collector/contract/api-contract.js";
import type { Flag } from "../../collector/flags/types.js";
import type { Column, Value } from "../../shared/csv.js";
import { gpuName } from "../../shared/gpu-id.js";

const SEVERITY_RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** A list column; `alias` is its name from before units were added, still taken by --sort (scripts). */
export interface ListColumn<T> extends Column<T> {
  alias?: string;
}

export const GPU_COLUMNS: ListColumn<GpuView>[] = [
  { name: "gpu", value: (g) => gpuName(g.host, g.index) },
  { name: "host", value: (g) => g.host },
  { name: "index", value: (g) => g.index },
  { name: "uuid", value: (g) => g.uuid },
  { name: "model", value: (g) => g.model },
  { name: "site", value: (g) => g.site },
  { name: "state", value: (g) => g.state },
  { name: "util_pct", alias: "util", value: (g) => g.values.utilization_gpu_pct },
  { name: "temp_celsius", alias: "temp", value: (g) => g.values.temperature_gpu_celsius },
  { name: "power_watts", alias: "power", value: (g) => g.values.power_draw_watts },
  { name: "memory_used_mib", alias: "memory", value: (g) => g.values.memory_used_mib },
  { name: "flags", value: (g) => [...new Set(g.flags.map((f) => f.kind))].join(" ") },
];

type FlagRow = Flag & { durationMs?: number };

export function flagColumns(nowMs: number): ListColumn<FlagRow>[] {
  return [
    { name: "kind", value: (f) => f.kind },
    { name: "severity", value: (f) => SEVERITY_RANK[f.severity] ?? 3 },
    { name: "gpu", value: (f) => gpuName(f.host, f.gpuIndex) },
    { name: "host", value: (f) => f.host },
    { name: "site", value: (f) => f.site },
    { name: "since", value: (f) => f.startMs },
    { name: "until", value: (f) => f.endMs },
    { name: "for_ms", alias: "for", value: (f) => f.durationMs ?? (f.endMs ?? nowMs) - f.startMs },
    { name: "reason", value: (f) => f.reason },
  ];
}

/** In CSV, severities and times read as words and RFC 3339, not as sort keys. */
export function flagCsvValue(column: string, f: FlagRow, value: Value): Value {
  if (column === "severity") return f.severity;
  if ((column === "since" || column === "until") && typeof value === "number")
    return new Date(value).toISOString();
  return value;
}
