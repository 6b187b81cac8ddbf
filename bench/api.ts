// HTTP API benchmark (issue 5): `api.summary_10k_gpus_ms` (fleet summary over 10,000 GPUs, 24 h
// range from the rollups, target < 50) and `api.series_1gpu_24h_ms` (one GPU's 24 h series at the
// dashboard's step, target < 30): HTTP round trips on loopback through the real server, medians.
//
// Fill: hosts and GPUs with a day of rollups (1 h tier, 1 m tier at the edges) through
// bench/report.ts's fillFleet (the store's own encoding; replaying a day of samples for 10,000
// GPUs through writeFrames takes minutes on 2 cores), then one live frame per host for the
// latest values, and one host reporting every 10 s all day (raw blocks and 1 m rollups) for the
// series; 5 % of GPUs carry an open flag. The warm summary reads the range's usage from the
// backend's one-minute cache (as a polling dashboard does); `_cold_ms` asks ranges never asked
// before, so the store aggregates the whole day: on the collector's read threads, as it runs, and
// (`_cold_one_thread_ms`) on the API's thread without them. "smoke": 512 GPUs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReadWorkers, readThreads } from "../collector/api/read-workers.js";
import { createApiServer } from "../collector/api/server.js";
import { StoreBackend } from "../collector/api/store-backend.js";
import { resolveFlagsConfig } from "../collector/flags/config.js";
import { FlagEngine } from "../collector/flags/engine.js";
import type { ValidFrame } from "../collector/ingest/validate.js";
import { FlagStore } from "../collector/store/flag-store.js";
import { Store } from "../collector/store/store.js";
import { silentLogger } from "../shared/logger.js";
import { GpuState, type IGpuSample } from "../shared/proto.js";
import { type BenchFigure, median } from "./common.js";
import { fillFleet } from "./report.js";

const HOUR = 3_600_000;
const GPUS_PER_HOST = 8;

function sample(h: number, i: number, k: number): IGpuSample {
  const busy = (h * 8 + i) % 3 !== 0;
  return {
    index: i,
    uuid: uuidOf(h, i),
    state: GpuState.GPU_STATE_OK,
    utilization_gpu_pct: busy ? 80 + ((k + i) % 20) : 0,
    memory_used_mib: busy ? 60_000 : 1,
    memory_total_mib: 81_559,
    temperature_gpu_celsius: busy ? 60 + ((k + h) % 15) : 34,
    power_draw_watts: busy ? 550 + ((k * 7 + i) % 100) : 70 + (k % 5),
    power_limit_watts: 700,
    clocks_sm_mhz: busy ? 1980 : 345,
    compute_processes: busy ? 1 : 0,
  };
}

const hostName = (h: number) => `node-${String(h).padStart(5, "0")}`;
/** The names bench/report.ts's fillFleet registers, so frames land on the same GPUs. */
const uuidOf = (h: number, i: number) => `GPU-bench-${h}-${i}`;

/** Host h's k-th frame: GPUs named as bench/report.ts's fillFleet registers them. */
export function frame(h: number, k: number, ts: number, intervalMs: number): ValidFrame {
  return {
    host: hostName(h),
    boot_id: `boot-${h}`,
    seq: k + 1,
    timestamp_ms: ts,
    interval_ms: intervalMs,
    site: h % 3 === 0 ? "ams2" : "fra1",
    labels: { customer: `c${h % 7}` },
    gpus: Array.from({ length: GPUS_PER_HOST }, (_, i) => sample(h, i, k)),
  };
}

export async function benchApi(size: "full" | "smoke" = "full"): Promise<BenchFigure[]> {
  const gpus = size === "full" ? 10_000 : 512;
  // Every host but the last from the report bench's rollup loader; the last is the charted one.
  const hosts = gpus / GPUS_PER_HOST - 1;
  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-api-"));
  const store = Store.open(join(dir, "api.db"));
  const flagStore = new FlagStore(store.db);
  try {
    const t0 = performance.now();
    const range = fillFleet(store, hosts * GPUS_PER_HOST, 1);
    const nowMs = range.toMs;
    const startMs = nowMs - 24 * HOUR;
    // Latest values for every GPU: one frame per host, 5 s ago.
    store.writeFrames(
      Array.from({ length: hosts }, (_, h) => frame(h, 0, nowMs - 5000, 10_000)),
      nowMs,
    );
    // The charted host: one frame every 10 s all day (raw blocks sealed per 10-minute window).
    let batch: ValidFrame[] = [];
    for (let k = 0, ts = startMs + 10_000; ts < nowMs; k++, ts += 10_000) {
      batch.push(frame(hosts, k, ts, 10_000));
      if (batch.length === 360) {
        store.writeFrames(batch, ts);
        batch = [];
      }
    }
    if (batch.length > 0) store.writeFrames(batch, nowMs);
    flagStore.transaction(() => {
      for (let g = 0; g < gpus; g += 20) {
        const h = Math.floor(g / GPUS_PER_HOST);
        flagStore.insert(
          {
            kind: "idle",
            severity: "info",
            host: hostName(h),
            gpuUuid: uuidOf(h, g % GPUS_PER_HOST),
            gpuIndex: g % GPUS_PER_HOST,
            site: "fra1",
            labels: {},
            startMs: nowMs - HOUR,
            reason: "bench",
            values: {},
          },
          nowMs,
        );
      }
    });
    const flags = new FlagEngine({ store: flagStore, config: resolveFlagsConfig(), now: () => nowMs });
    flags.start();
    store.checkpoint();
    const fillS = (performance.now() - t0) / 1000;

    // As the collector runs it (collector/wire-api.ts): heavy reads on its read threads. A second
    // server without them gives the cold summary on the one thread, the figure before 2026-12-07.
    const reader = new ReadWorkers({ database: join(dir, "api.db") }, silentLogger(), readThreads());
    const serve = (withReader: boolean) =>
      createApiServer({
        backend: new StoreBackend({ store, flags, now: () => nowMs, ...(withReader ? { reader } : {}) }),
        listen: { host: "127.0.0.1", port: 0 },
        logger: silentLogger(),
      });
    const server = serve(true);
    const oneThread = serve(false);
    const { port } = await server.start();
    const { port: onePort } = await oneThread.start();
    const time = async (
      path: string,
      runs: number,
      check: (body: unknown) => void,
      warmup = 3,
      base = `http://127.0.0.1:${port}`,
    ) => {
      const times: number[] = [];
      for (let i = 0; i < runs + warmup; i++) {
        const t = performance.now();
        const response = await fetch(`${base}${path}`);
        const body = await response.json();
        const ms = performance.now() - t;
        if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${JSON.stringify(body)}`);
        check(body);
        if (i >= warmup) times.push(ms); // the first runs warm the JIT and SQLite's cache
      }
      return median(times);
    };
    try {
      const checkSummary = (b: unknown) => {
        const s = b as {
          gpus: { total: number };
          utilization: { range: { utilizationRate: number | null } };
        };
        if (s.gpus.total !== gpus) throw new Error(`summary counted ${s.gpus.total} GPUs`);
        if (s.utilization.range.utilizationRate === null) throw new Error("no utilization over the range");
      };
      // As a dashboard polls: the range's usage comes from the backend's one-minute cache.
      const summaryMs = await time("/api/v1/summary?from=24h", 15, checkSummary);
      // Cold: a range never asked before, so the store aggregates about a day of rollups over every
      // GPU. Each is a minute longer than the last: the backend serves a range of a length it has
      // answered in the last two minutes while the new one is computed (store-backend.ts), so a
      // shifted 24 h range would time that answer, not the aggregate.
      const cold = async (base: string, first: number) => {
        const times: number[] = [];
        for (let i = first; i < first + 5; i++) {
          const path = `/api/v1/summary?from=${nowMs - 24 * HOUR - (i + 1) * 60_000}&to=${nowMs - 60_000}`;
          times.push(await time(path, 1, checkSummary, 0, base));
        }
        return median(times);
      };
      const coldMs = await cold(`http://127.0.0.1:${port}`, 0);
      const coldOneThreadMs = await cold(`http://127.0.0.1:${onePort}`, 5);
      const id = `${hostName(hosts)}:1`;
      const seriesMs = await time(`/api/v1/gpus/${id}/series?from=24h`, 21, (b) => {
        const s = b as { t: number[]; tier: string };
        if (s.t.length < 288 || s.tier !== "1m")
          throw new Error(`series: ${s.t.length} points, tier ${s.tier}`);
      });
      const rawMs = await time(`/api/v1/gpus/${id}/series?from=24h&step=10s`, 11, (b) => {
        const s = b as { t: number[]; tier: string };
        if (s.tier !== "raw") throw new Error(`raw series came from tier ${s.tier}`);
      });
      const suffix = size === "full" ? "10k_gpus" : "512_gpus";
      return [
        { name: `api.summary_${suffix}_ms`, value: summaryMs, unit: "ms" },
        {
          name: `api.summary_${suffix}_cold_ms`,
          value: coldMs,
          unit: `ms (${reader.threads} read threads, as the collector runs)`,
        },
        {
          name: `api.summary_${suffix}_cold_one_thread_ms`,
          value: coldOneThreadMs,
          unit: "ms (no read thread: the aggregate on the API's thread)",
        },
        { name: "api.series_1gpu_24h_ms", value: seriesMs, unit: "ms" },
        { name: "api.series_1gpu_24h_raw_ms", value: rawMs, unit: "ms" },
        { name: "api.fill_s", value: fillS, unit: "s" },
      ];
    } finally {
      await server.stop();
      await oneThread.stop();
      await reader.stop();
      flags.stop();
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
