// Capacity report: GPU count by model and, from the shipped table of peak dense FP16/BF16 tensor
// throughput (capacity-table.ts, sources cited there), installed PFLOPS and used PFLOPS — the way
// operators state a fleet's size. Used = installed x the model's utilization rate over the range
// (busy / known time, unknown left out), per model and per group. Pure.

import { utilizationRate } from "../usage/usage-sums.js";
import { capacityFor } from "./capacity-table.js";
import type { GpuUsage, GroupBy, ReportHeader } from "./types.js";
import { groupKey, groupName, groupRows } from "./usage-report.js";

export interface CapacityModelRow {
  /** The nvidia-smi product name. */
  model: string;
  /** Capacity table row it matched; null when the table does not know it (PFLOPS then 0). */
  tableModel: string | null;
  denseFp16Tflops: number | null;
  source: string | null;
  gpus: number;
  utilizationRate: number | null;
  installedPflops: number;
  usedPflops: number;
}

export interface CapacityRow {
  key: string;
  gpus: number;
  installedPflops: number;
  usedPflops: number;
  models: CapacityModelRow[];
}

export interface CapacityReport extends ReportHeader {
  kind: "capacity";
  groups: CapacityRow[];
  total: CapacityRow;
  /** Product names with no capacity figure (their GPUs count, their PFLOPS do not). */
  unknownModels: string[];
}

function capacityRow(key: string, rows: readonly GpuUsage[]): CapacityRow {
  const models: CapacityModelRow[] = [];
  for (const [model, s] of groupRows("model", rows).groups()) {
    const entry = capacityFor(model);
    const rate = utilizationRate(s);
    const installed = entry ? (s.gpus * entry.denseFp16Tflops) / 1000 : 0;
    models.push({
      model,
      tableModel: entry?.model ?? null,
      denseFp16Tflops: entry?.denseFp16Tflops ?? null,
      source: entry?.source ?? null,
      gpus: s.gpus,
      utilizationRate: rate,
      installedPflops: installed,
      usedPflops: installed * (rate ?? 0),
    });
  }
  return {
    key,
    gpus: new Set(rows.map((r) => r.gpuId)).size,
    installedPflops: models.reduce((a, m) => a + m.installedPflops, 0),
    usedPflops: models.reduce((a, m) => a + m.usedPflops, 0),
    models,
  };
}

export function buildCapacityReport(
  header: Omit<ReportHeader, "kind" | "groupBy">,
  by: GroupBy,
  usage: readonly GpuUsage[],
): CapacityReport {
  const byGroup = new Map<string, GpuUsage[]>();
  for (const u of usage) {
    const k = groupKey(by, u);
    const list = byGroup.get(k);
    if (list) list.push(u);
    else byGroup.set(k, [u]);
  }
  const total = capacityRow("total", usage);
  return {
    kind: "capacity",
    ...header,
    groupBy: groupName(by),
    groups: [...byGroup]
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([k, rows]) => capacityRow(k, rows)),
    total,
    unknownModels: total.models.filter((m) => m.tableModel === null).map((m) => m.model),
  };
}
