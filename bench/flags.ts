// Flag rule evaluation cost (issue 4): `flags.eval_us_per_sample`, the FlagEngine's cost per GPU
// sample (all rules, plus the lost check and the SQLite writes of the flags it opens and closes),
// median over rounds. Fleet: 100 hosts x 8 GPUs at 10 s, busy, idle, idle-held, hot, throttled
// and noisy GPUs, so timers run, flags open and close, and inventory limits are looked up.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { DEFAULT_FLAGS_CONFIG, resolveFlagsConfig } from "../collector/flags/config.js";
import { FlagEngine } from "../collector/flags/engine.js";
import type { ValidFrame } from "../collector/ingest/validate.js";
import { FlagStore } from "../collector/store/flag-store.js";
import { CLOCK_EVENT } from "../shared/metrics.js";
import { GpuState, type IGpuSample } from "../shared/proto.js";
import { type BenchFigure, median } from "./common.js";

const HOSTS = 100;
const GPUS = 8;
const INTERVAL = 10_000;
const ROUNDS = 7;
const FRAMES_PER_ROUND = 180; // 30 minutes of data per round

function gpuSample(host: number, gpu: number, step: number): IGpuSample {
  const kind = (host * GPUS + gpu) % 6;
  const noise = (step * 7 + gpu * 13) % 5;
  const s: IGpuSample = {
    index: gpu,
    uuid: `GPU-${host}-${gpu}`,
    state: GpuState.GPU_STATE_OK,
    utilization_gpu_pct: kind === 0 ? 95 - noise : kind === 5 ? (step % 40 < 20 ? 0 : 80) : noise,
    memory_used_mib: kind === 2 ? 40_000 : 5,
    compute_processes: kind === 2 ? 1 : 0,
    temperature_gpu_celsius: kind === 3 ? 80 + noise : 55 + noise,
    temperature_memory_celsius: 60 + noise,
    power_draw_watts: 300 + noise,
    clock_event_reasons: kind === 4 && step % 60 < 40 ? CLOCK_EVENT.SW_POWER_CAP : 0,
    ecc_uncorrected_volatile: 0,
    remapped_rows_failure: false,
  };
  return s;
}

export async function benchFlags(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-flags-"));
  const db = new Database(join(dir, "flags.db"));
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const migrations = join(import.meta.dirname, "../collector/migrations");
    for (const file of readdirSync(migrations)
      .filter((f) => /^01\d_.*\.sql$/.test(f))
      .sort()) {
      db.exec(readFileSync(join(migrations, file), "utf8"));
    }
    const engine = new FlagEngine({
      store: new FlagStore(db),
      config: resolveFlagsConfig(DEFAULT_FLAGS_CONFIG),
    });
    engine.start();
    for (let h = 0; h < HOSTS; h += 1) {
      const gpus = Array.from({ length: GPUS }, (_, g) => ({
        index: g,
        uuid: `GPU-${h}-${g}`,
        name: "NVIDIA H100 80GB HBM3",
        temperature_slowdown_celsius: 87,
        temperature_memory_max_celsius: 95,
      }));
      engine.onInventory({ host: `host-${h}`, site: "bench", labels: { customer: `c${h % 10}` }, gpus });
    }
    const t0 = Date.UTC(2026, 0, 1);
    const perSample: number[] = [];
    let step = 0;
    for (let round = 0; round < ROUNDS + 1; round += 1) {
      // Frames are built before timing: the figure is the engine's cost alone.
      const batches: ValidFrame[][] = [];
      for (let f = 0; f < FRAMES_PER_ROUND; f += 1, step += 1) {
        const t = t0 + step * INTERVAL;
        const batch: ValidFrame[] = [];
        for (let h = 0; h < HOSTS; h += 1) {
          const gpus = Array.from({ length: GPUS }, (_, g) => gpuSample(h, g, step));
          batch.push({
            host: `host-${h}`,
            boot_id: "b",
            seq: step + 1,
            timestamp_ms: t,
            interval_ms: INTERVAL,
            site: "bench",
            labels: { customer: `c${h % 10}` },
            gpus,
          });
        }
        batches.push(batch);
      }
      const start = process.hrtime.bigint();
      for (const [f, batch] of batches.entries())
        engine.onFrames(batch, t0 + (step - FRAMES_PER_ROUND + f) * INTERVAL);
      const elapsedUs = Number(process.hrtime.bigint() - start) / 1000;
      if (round > 0) perSample.push(elapsedUs / (FRAMES_PER_ROUND * HOSTS * GPUS)); // round 0 warms up
    }
    const opened = engine.history({ limit: 10_000 }).length;
    engine.stop();
    return [
      { name: "flags.eval_us_per_sample", value: Math.round(median(perSample) * 100) / 100, unit: "us" },
      { name: "flags.episodes_in_bench", value: opened, unit: "flags" },
    ];
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
