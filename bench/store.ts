// Storage benchmarks (issue 3): density of the raw tier after a simulated day, write rate
// through writeFrames, a one-day 1-minute series, latest() over 10,000 GPUs, and the longest
// retention step.
//
// Size: "full" simulates one day of 4 hosts x 8 GPUs at 1 s (2.76 M GPU samples, 57 M metric
// values; about 30 s on 2 cores), "smoke" 2 hours of 2 hosts x 8 GPUs (about 2 s).
// store.raw_bytes_per_sample is the whole database after a checkpoint, free pages excluded
// (raw blocks, unsealed rows, rollup tiers, indexes), divided by the metric values stored.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../collector/store/store.js";
import { type BenchFigure, median } from "./common.js";
import { storeWorkload, writeWorkload } from "./store-load.js";
import { SynthFleet } from "./synth-fleet.js";

export async function benchStore(size: "full" | "smoke"): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-store-"));
  const figures: BenchFigure[] = [];
  try {
    const workload = storeWorkload(size);
    const seconds = workload.seconds;
    const store = Store.open(join(dir, "day.db"));
    const { fleet, writeMs } = writeWorkload(store, workload);
    store.checkpoint();
    const stats = store.stats();
    const rawBlockBytes = (
      store.db.prepare("SELECT coalesce(sum(length(data)), 0) AS b FROM raw_blocks").get() as {
        b: number;
      }
    ).b;
    figures.push({
      name: "store.raw_bytes_per_sample",
      value: stats.usedBytes / stats.samplesStored,
      unit: "B",
    });
    figures.push({
      name: "store.raw_block_payload_bytes_per_sample",
      value: rawBlockBytes / stats.samplesStored,
      unit: "B",
    });
    figures.push({ name: "store.samples_stored", value: stats.samplesStored, unit: "samples" });
    figures.push({
      name: "store.write_samples_per_s",
      value: stats.samplesStored / (writeMs / 1000),
      unit: "samples/s",
    });

    const uuid = store.latest()[0]?.uuid ?? "";
    const runs: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t0 = performance.now();
      store.series(
        uuid,
        ["utilization_gpu_pct", "power_draw_watts", "temperature_gpu_celsius"],
        fleet.startMs + seconds * 1000 - 86_400_000,
        fleet.startMs + seconds * 1000,
        60_000,
      );
      runs.push(performance.now() - t0);
    }
    figures.push({ name: "store.series_1gpu_24h_1m_ms", value: median(runs), unit: "ms" });

    // Retention: expire the whole raw tier, then the whole 1-minute tier, step by step.
    const end = fleet.startMs + seconds * 1000;
    let worst = 0;
    let steps = 0;
    for (const now of [end + 2 * 86_400_000, end + 31 * 86_400_000]) {
      for (let more = true; more; steps++) {
        const t0 = performance.now();
        more = store.pruneStep(now).more;
        worst = Math.max(worst, performance.now() - t0);
      }
    }
    figures.push({ name: "store.prune_step_max_ms", value: worst, unit: "ms" });
    figures.push({ name: "store.prune_steps", value: steps, unit: "steps" });
    store.close();

    const big = new SynthFleet({ hosts: 1250, gpusPerHost: 8, seed: 11 });
    const wide = Store.open(join(dir, "wide.db"));
    for (let k = 0; k < 3; k++) {
      const frames = [...big.frames(k, k + 1)];
      wide.writeFrames(frames, big.startMs + k * 1000 + 50);
    }
    const latestRuns: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t0 = performance.now();
      const rows = wide.latest();
      latestRuns.push(performance.now() - t0);
      if (rows.length !== 10_000) throw new Error(`latest() returned ${rows.length} GPUs`);
    }
    figures.push({ name: "store.latest_10k_gpus_ms", value: median(latestRuns), unit: "ms" });
    wide.close();
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
