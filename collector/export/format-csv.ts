// CSV (RFC 4180) for notebooks and spreadsheets: one row per GPU and timestamp, a header whose
// value columns are the series names with their units (gputel_gpu_power_draw_watts…), absent
// values as empty cells (never 0). Identity columns: host, gpu, uuid, model, site and the union
// of the exported agent labels (label_<key>) of the GPUs in the export; raw rows add the
// sample's state and the interval it covers (what energy sums multiply by).
// Text cells are written by the one CSV cell writer (shared/csv.ts: formula-safe); numbers as they are.
import { csvCell } from "../../shared/csv.js";
import { gpuLabels } from "../remote-write/series.js";
import { type ExportColumn, formatNumber } from "./columns.js";
import type { Chunker, ExportRequest } from "./export-stream.js";
import type { ExportSource } from "./store-source.js";

const IDENTITY = ["host", "gpu", "uuid", "model", "site"];

export function* csvChunks(
  source: ExportSource,
  request: ExportRequest,
  columns: readonly ExportColumn[],
  out: Chunker,
): Generator<string> {
  const raw = request.tier.stepMs === 0;
  const labelsOf = request.gpus.map((g) => new Map(gpuLabels(g).map((l) => [l.name, l.value])));
  const agentLabels = [
    ...new Set(labelsOf.flatMap((m) => [...m.keys()].filter((k) => !IDENTITY.includes(k)))),
  ].sort();
  const idColumns = [...IDENTITY, ...agentLabels];
  out.add(
    `${[
      "time",
      "timestamp_ms",
      ...idColumns,
      ...(raw ? ["state", "interval_ms"] : []),
      ...columns.map((c) => c.name),
    ]
      .map(csvCell)
      .join(",")}\n`,
  );
  for (const [i, gpu] of request.gpus.entries()) {
    const labels = labelsOf[i] as Map<string, string>;
    const ids = idColumns.map((k) => csvCell(labels.get(k) ?? "")).join(",");
    for (const slice of source.slices(gpu.uuid, request.tier, columns, request.fromMs, request.toMs)) {
      for (let k = 0; k < slice.ts.length; k++) {
        const ts = slice.ts[k] as number;
        let row = `${new Date(ts).toISOString()},${ts},${ids}`;
        if (raw) row += `,${slice.state?.[k] ?? ""},${slice.intervalMs?.[k] ?? ""}`;
        for (let c = 0; c < columns.length; c++) {
          const v = (slice.values[c] as Float64Array)[k] as number;
          row += Number.isNaN(v) ? "," : `,${formatNumber(v)}`;
        }
        out.add(`${row}\n`);
        if (out.full) yield out.take();
      }
    }
  }
}
