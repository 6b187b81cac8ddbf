// Side by side with VictoriaMetrics (issue 19): the store bench's workload (bench/store-load.ts,
// the same SynthFleet samples, noise included, 1 s interval) written into gputel's Store and
// imported into a real VictoriaMetrics through /api/v1/import (JSON lines, one line per series
// and 10 minutes). Both are flushed (gputel: WAL checkpoint; VictoriaMetrics: force_flush, then
// a clean stop, which writes its in-memory parts) and measured on disk, whole: gputel's database with rollups and indexes, their data and indexdb.
//   peer.victoriametrics.import_samples_per_s  samples / time inside import requests (2 in flight)
//   peer.victoriametrics.bytes_per_sample      data + indexdb bytes / samples
//   store.bytes_vs_victoriametrics             gputel bytes per sample / theirs
// ingest.vs_victoriametrics (ours end to end through the broker / theirs) is derived in run.ts
// when the ingest bench ran in the same run. Without the binary: a message, ours alone.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../collector/store/store.js";
import { METRICS } from "../shared/metrics.js";
import type { BenchFigure } from "./common.js";
import { type FleetWorkload, storeWorkload, workloadFleet, writeWorkload } from "./store-load.js";
import { VICTORIA_BIN, Victoria } from "./victoria.js";

const SLAB_S = 600;
/** JSON bodies held before they are sent: generating them is not the peer's time. */
const ROUND_BYTES = 64 * 2 ** 20;

interface Series {
  line: string;
  values: number[];
  timestamps: number[];
}

/** The workload as JSON-line bodies, one per 10 minutes of samples; counts the samples. */
function* importBodies(w: FleetWorkload, counter: { samples: number }): Generator<Buffer> {
  const fleet = workloadFleet(w);
  for (let from = 0; from < w.seconds; from += SLAB_S) {
    const series = new Map<string, Series>();
    for (const frame of fleet.frames(from, Math.min(w.seconds, from + SLAB_S))) {
      for (const gpu of frame.gpus) {
        const record = gpu as Record<string, unknown>;
        for (const m of METRICS) {
          const raw = record[m.key];
          let v: number;
          if (typeof raw === "number" && Number.isFinite(raw)) v = raw;
          else if (typeof raw === "boolean") v = raw ? 1 : 0;
          else continue;
          const key = `${m.prom.name}\u0000${gpu.uuid}`;
          let s = series.get(key);
          if (!s) {
            const metric = { __name__: m.prom.name, host: frame.host, gpu: gpu.uuid };
            s = { line: JSON.stringify(metric), values: [], timestamps: [] };
            series.set(key, s);
          }
          s.values.push(v * m.prom.factor);
          s.timestamps.push(frame.timestamp_ms);
          counter.samples++;
        }
      }
    }
    const lines: string[] = [];
    for (const s of series.values()) {
      lines.push(
        `{"metric":${s.line},"values":${JSON.stringify(s.values)},"timestamps":${JSON.stringify(s.timestamps)}}`,
      );
    }
    yield Buffer.from(`${lines.join("\n")}\n`);
  }
}

/** Imports every body, two requests in flight; returns the milliseconds spent importing. */
async function importAll(vm: Victoria, bodies: Generator<Buffer>): Promise<number> {
  let importMs = 0;
  for (;;) {
    const round: Buffer[] = [];
    let bytes = 0;
    for (let next = bodies.next(); !next.done; next = bodies.next()) {
      round.push(next.value);
      bytes += next.value.length;
      if (bytes >= ROUND_BYTES) break;
    }
    if (round.length === 0) return importMs;
    const t0 = performance.now();
    let i = 0;
    const lane = async () => {
      while (i < round.length) await vm.importLines(round[i++] as Buffer);
    };
    await Promise.all([lane(), lane()]);
    importMs += performance.now() - t0;
  }
}

export async function benchPeer(size: "full" | "smoke"): Promise<BenchFigure[]> {
  const workload = storeWorkload(size);
  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-peer-"));
  const figures: BenchFigure[] = [];
  try {
    const store = Store.open(join(dir, "peer.db"));
    writeWorkload(store, workload);
    store.checkpoint();
    const ours = store.stats();
    store.close();
    const ourBytes = ours.usedBytes / ours.samplesStored;
    figures.push({ name: "peer.gputel.bytes_per_sample", value: ourBytes, unit: "B" });
    if (!existsSync(VICTORIA_BIN)) {
      process.stderr.write(
        `peer: ${VICTORIA_BIN} not found (apt-get install victoria-metrics): gputel's figures alone\n`,
      );
      return figures;
    }
    const vm = await Victoria.start();
    try {
      const counter = { samples: 0 };
      const importMs = await importAll(vm, importBodies(workload, counter));
      const t0 = performance.now();
      await vm.flush();
      const flushMs = performance.now() - t0;
      const theirs = (await vm.stopAndMeasure()) / counter.samples;
      if (counter.samples !== ours.samplesStored) {
        throw new Error(`peer: ${counter.samples} samples imported, gputel stored ${ours.samplesStored}`);
      }
      figures.push(
        { name: "peer.samples", value: counter.samples, unit: "samples" },
        {
          name: "peer.victoriametrics.import_samples_per_s",
          value: Math.round(counter.samples / ((importMs + flushMs) / 1000)),
          unit: "samples/s",
        },
        { name: "peer.victoriametrics.bytes_per_sample", value: theirs, unit: "B" },
        { name: "store.bytes_vs_victoriametrics", value: ourBytes / theirs, unit: "ratio" },
      );
    } finally {
      await vm.stop();
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
