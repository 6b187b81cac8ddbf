// `gputel export` figures (docs/export.md): a store filled through writeFrames with the synthetic
// fleet, then exported whole through the same stream the API serves, into a sink that only counts.
//   export.samples_per_s              metric values exported per second, vm-jsonl (one read of the store)
//   export.openmetrics_samples_per_s  the same in OpenMetrics (one read per series name)
//   export.csv_samples_per_s          the same in CSV
//   export.heap_retained_max_mb       the most live heap (after a forced GC, sampled along the
//                                     export) above the heap before it: what the export holds
//   export.bytes_per_sample           vm-jsonl bytes per exported value
// Size: "full" 32 GPUs x 2 h at 1 s (about 5 M values), "smoke" 8 GPUs x 30 min.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type ExportFormat, RAW_TIER } from "../collector/export/columns.js";
import { type ExportGpu, exportChunks } from "../collector/export/export-stream.js";
import { StoreExportSource } from "../collector/export/store-source.js";
import type { ValidFrame } from "../collector/ingest/validate.js";
import { Store } from "../collector/store/store.js";
import type { BenchFigure } from "./common.js";
import { SynthFleet } from "./synth-fleet.js";

/** V8's gc(), reachable without starting Node with --expose-gc. */
function gcFunction(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

export interface ExportRun {
  bytes: number;
  ms: number;
  chunks: number;
  /** Live heap after a GC, at the start and at most along the export. */
  heapBeforeBytes: number;
  heapRetainedMaxBytes: number;
  /** Live heap samples along the export (every `gcEvery` chunks). */
  heapSamples: number[];
}

/** Exports [fromMs, toMs) of every GPU into a counting sink; with gcEvery, samples the live heap. */
export async function runExport(
  store: Store,
  gpus: readonly ExportGpu[],
  range: { fromMs: number; toMs: number },
  format: ExportFormat,
  gcEvery = 0,
): Promise<ExportRun> {
  const gc = gcEvery > 0 ? gcFunction() : undefined;
  gc?.();
  const heapBeforeBytes = process.memoryUsage().heapUsed;
  const heapSamples: number[] = [];
  let bytes = 0;
  let chunks = 0;
  const started = performance.now();
  let paused = 0;
  for await (const chunk of exportChunks(new StoreExportSource(store), {
    ...range,
    tier: RAW_TIER,
    format,
    gpus,
  })) {
    bytes += Buffer.byteLength(chunk);
    chunks++;
    if (gc && chunks % gcEvery === 0) {
      const t0 = performance.now();
      gc();
      heapSamples.push(process.memoryUsage().heapUsed);
      paused += performance.now() - t0;
    }
  }
  return {
    bytes,
    chunks,
    ms: performance.now() - started - paused,
    heapBeforeBytes,
    heapRetainedMaxBytes: Math.max(0, ...heapSamples.map((h) => h - heapBeforeBytes)),
    heapSamples,
  };
}

/** A store of `hosts` x `gpusPerHost` GPUs at 1 s over `seconds`, written through writeFrames. */
export function filledStore(
  path: string,
  hosts: number,
  gpusPerHost: number,
  seconds: number,
): { store: Store; gpus: ExportGpu[]; fromMs: number; toMs: number } {
  const fleet = new SynthFleet({ hosts, gpusPerHost, seed: 5 });
  const store = Store.open(path);
  let batch: ValidFrame[] = [];
  for (const frame of fleet.frames(0, seconds) as Iterable<ValidFrame>) {
    batch.push(frame);
    if (batch.length >= 250) {
      store.writeFrames(batch, frame.timestamp_ms);
      batch = [];
    }
  }
  if (batch.length > 0) store.writeFrames(batch, fleet.startMs + seconds * 1000);
  const gpus = store.latest().map((g) => ({
    uuid: g.uuid,
    host: g.host,
    index: g.index,
    model: g.model,
    site: g.site,
    labels: g.labels,
  }));
  return { store, gpus, fromMs: fleet.startMs, toMs: fleet.startMs + seconds * 1000 + 1000 };
}

export async function benchExport(size: "full" | "smoke"): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-export-"));
  try {
    const { store, gpus, fromMs, toMs } =
      size === "full"
        ? filledStore(join(dir, "c.db"), 8, 4, 7200)
        : filledStore(join(dir, "c.db"), 2, 4, 1800);
    const values = store.stats().samplesStored;
    const vm = await runExport(store, gpus, { fromMs, toMs }, "vm-jsonl", 64);
    const om = await runExport(store, gpus, { fromMs, toMs }, "openmetrics");
    const csv = await runExport(store, gpus, { fromMs, toMs }, "csv");
    store.close();
    return [
      { name: "export.samples_per_s", value: values / (vm.ms / 1000), unit: "samples/s" },
      { name: "export.openmetrics_samples_per_s", value: values / (om.ms / 1000), unit: "samples/s" },
      { name: "export.csv_samples_per_s", value: values / (csv.ms / 1000), unit: "samples/s" },
      { name: "export.heap_retained_max_mb", value: vm.heapRetainedMaxBytes / 2 ** 20, unit: "MB" },
      { name: "export.bytes_per_sample", value: vm.bytes / values, unit: "B" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
