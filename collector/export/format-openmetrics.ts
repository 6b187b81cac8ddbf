// OpenMetrics text 1.0 for `promtool tsdb create-blocks-from openmetrics`: every sample carries
// its timestamp (seconds with milliseconds), absent values have no line, the file ends with
// `# EOF`. OpenMetrics wants each family's lines together and each series' samples together in
// time order, so the export walks the GPUs once per series name (one per metric for raw, four
// for a rollup tier): memory stays one slice, the store is read once per series name. vm-jsonl
// reads it once.
import { METRICS } from "../../shared/metrics.js";
import { escapeLabelValue } from "../exposition/prometheus.js";
import { gpuLabels } from "../remote-write/series.js";
import { type ExportColumn, formatNumber } from "./columns.js";
import type { Chunker, ExportRequest } from "./export-stream.js";
import type { ExportSource } from "./store-source.js";

/** Epoch ms as OpenMetrics seconds, exact: 1700000000123 → "1700000000.123". */
export function openMetricsTimestamp(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${s}.${String(ms - s * 1000).padStart(3, "0")}`;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/**
 * The HELP and TYPE lines of a column. A raw counter (shared/metrics.ts) is an OpenMetrics
 * counter, whose family is named without the `_total` its samples carry; a rollup statistic of
 * a counter (its max or last per bucket) is a gauge.
 */
function describe(column: ExportColumn): string {
  const counter = column.stat === undefined && METRICS[column.metric]?.prom.type === "counter";
  const family = counter ? column.name.replace(/_total$/, "") : column.name;
  return `# HELP ${family} ${escapeHelp(column.help)}\n# TYPE ${family} ${counter ? "counter" : "gauge"}\n`;
}

export function* openMetricsChunks(
  source: ExportSource,
  request: ExportRequest,
  columns: readonly ExportColumn[],
  out: Chunker,
): Generator<string> {
  const labelText = request.gpus.map(
    (g) =>
      `{${gpuLabels(g)
        .map((l) => `${l.name}="${escapeLabelValue(l.value)}"`)
        .join(",")}}`,
  );
  for (const column of columns) {
    let described = false;
    for (const [i, gpu] of request.gpus.entries()) {
      const prefix = `${column.name}${labelText[i]} `;
      for (const slice of source.slices(gpu.uuid, request.tier, [column], request.fromMs, request.toMs)) {
        const values = slice.values[0] as Float64Array;
        for (let k = 0; k < slice.ts.length; k++) {
          const v = values[k] as number;
          if (Number.isNaN(v)) continue;
          if (!described) {
            out.add(describe(column));
            described = true;
          }
          out.add(`${prefix}${formatNumber(v)} ${openMetricsTimestamp(slice.ts[k] as number)}\n`);
          if (out.full) yield out.take();
        }
      }
    }
  }
  out.add("# EOF\n");
}
