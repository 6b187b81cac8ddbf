// VictoriaMetrics' JSON-line import format (/api/v1/import): one line per series and slice,
// {"metric":{"__name__":…,labels},"values":[…],"timestamps":[ms…]}. A series spans several lines
// (one per slice); VictoriaMetrics joins them. Absent values are left out of both arrays.
import { gpuLabels } from "../remote-write/series.js";
import { type ExportColumn, formatNumber } from "./columns.js";
import type { Chunker, ExportRequest } from "./export-stream.js";
import type { ExportSource } from "./store-source.js";

export function* vmJsonlChunks(
  source: ExportSource,
  request: ExportRequest,
  columns: readonly ExportColumn[],
  out: Chunker,
): Generator<string> {
  for (const gpu of request.gpus) {
    const labels = Object.fromEntries(gpuLabels(gpu).map((l) => [l.name, l.value]));
    const heads = columns.map(
      (c) => `{"metric":${JSON.stringify({ __name__: c.name, ...labels })},"values":[`,
    );
    for (const slice of source.slices(gpu.uuid, request.tier, columns, request.fromMs, request.toMs)) {
      for (let c = 0; c < columns.length; c++) {
        const column = slice.values[c] as Float64Array;
        const values: string[] = [];
        const times: number[] = [];
        for (let k = 0; k < slice.ts.length; k++) {
          const v = column[k] as number;
          if (Number.isNaN(v)) continue;
          values.push(formatNumber(v));
          times.push(slice.ts[k] as number);
        }
        if (values.length === 0) continue;
        out.add(`${heads[c]}${values.join(",")}],"timestamps":[${times.join(",")}]}\n`);
        if (out.full) yield out.take();
      }
    }
  }
}
