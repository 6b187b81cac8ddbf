// Fleet report benchmark (issue 4): `report.utilization_30d_10k_gpus_ms`, a 30-day utilization
// report over 10,000 GPUs from the rollup tiers (target < 100 ms, issue 15), median of 7 runs,
// timed as the API runs it: answerRead on the read worker's own connection (Store.openReader,
// which maps the file) inside one snapshot; the first run also loads that snapshot's memory.
//
// Bulk loader: the hosts and GPUs are registered through store.writeInventory (the store's own
// path); rollup buckets are written with the store's own encoding (applySample over synthetic
// samples, then encodeAccMetrics/summaryColumns and its putRollup statement, exactly what a seal
// writes), from a few dozen precomputed bucket templates, so filling 7.2 M hourly rows takes
// seconds rather than replaying 26 billion samples. What is filled is what the report reads:
// the 1-hour tier over the whole range, and the 1-minute tier over the two edge hours (the range
// starts and ends off the hour, as a real "last 30 days" does). 1-minute rows in between would
// only make the file larger: the query reads the 1 h tier there by its (step, bucket) index.
// Some GPU-hours are left without a row (a GPU that sent nothing), so the no-data path runs.
//
// Size: "full" 10,000 GPUs x 30 days, "smoke" 500 GPUs x 3 days.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Statement } from "better-sqlite3";
import { answerRead } from "../collector/api/read-requests.js";
import { SNAPSHOT_MS } from "../collector/api/read-worker.js";
import type { UtilizationReport } from "../collector/reports/reports.js";
import { applySample, newAcc, summaryColumns } from "../collector/store/rollup-acc.js";
import { encodeAccMetrics } from "../collector/store/rollup-codec.js";
import { scaleSample } from "../collector/store/sample.js";
import { Store } from "../collector/store/store.js";
import { rangePieces } from "../collector/store/store-aggregate.js";
import { classifySample, DEFAULT_IDLE_THRESHOLDS } from "../collector/usage/classify.js";
import { GpuState, type IGpuSample } from "../shared/proto.js";
import { type BenchFigure, median } from "./common.js";

const HOUR = 3_600_000;
/** The product's default tiers (the named figure), and the same plus a daily tier (an option:
 * without it a 30-day report sums 720 hourly rows per GPU). */
const DEFAULT_TIERS = ["48h:raw", "30d:1m", "2y:1h"];
const DAILY_TIERS = [...DEFAULT_TIERS, "2y:1d"];
const GPUS_PER_HOST = 8;
const MODELS = ["NVIDIA H100 80GB HBM3", "NVIDIA L40S", "NVIDIA A100-SXM4-80GB"];

type Kind = "busy" | "idle" | "held" | "mixed" | "unknown";
const KINDS: readonly Kind[] = ["busy", "busy", "busy", "idle", "held", "mixed", "unknown"];

function sample(kind: Kind, k: number, variant: number): IGpuSample {
  const busy = kind === "busy" || (kind === "mixed" && k % 2 === 0);
  if (kind === "unknown" && k % 3 === 0) return { index: 0, state: GpuState.GPU_STATE_TIMEOUT };
  return {
    index: 0,
    state: GpuState.GPU_STATE_OK,
    utilization_gpu_pct: busy ? 90 + ((k + variant) % 10) : 0,
    memory_used_mib: busy || kind === "held" ? 60_000 : 2,
    memory_total_mib: 81_559,
    compute_processes: busy || kind === "held" ? 1 : 0,
    temperature_gpu_celsius: (busy ? 70 : 35) + ((k + variant) % 7),
    temperature_memory_celsius: (busy ? 76 : 40) + (variant % 5),
    power_draw_watts: (busy ? 600 : 70) + ((k * 37 + variant * 11) % 50) / 2,
    power_limit_watts: 700,
    clocks_sm_mhz: busy ? 1980 : 345,
    clocks_memory_mhz: 2619,
    pstate: busy ? 0 : 8,
    clock_event_reasons: busy ? 0 : 1,
    ecc_corrected_volatile: 0,
    pcie_link_gen: 5,
    pcie_link_width: 16,
  };
}

/** Variants of each kind's bucket, so neighbouring GPUs and buckets differ. */
const VARIANTS = 6;

interface Template {
  values: (number | null)[];
  data: Buffer;
}

/** A bucket of `n` samples each covering `coverMs`, encoded the way a seal writes it. */
function template(kind: Kind, variant: number, n: number, coverMs: number, bucketMs: number): Template {
  const acc = newAcc();
  for (let k = 0; k < n; k++) {
    const s = sample(kind, k, variant);
    const ts = bucketMs + (k + 1) * coverMs - 1;
    applySample(acc, ts, coverMs, scaleSample(s), classifySample(s, DEFAULT_IDLE_THRESHOLDS));
  }
  const sum = summaryColumns(acc);
  return {
    values: [...acc.subarray(0, 7), sum.tempMax, sum.utilSum, sum.utilCount],
    data: encodeAccMetrics(acc, bucketMs),
  };
}

/** Writes rollup rows as a seal encodes them, from the templates: the benches' bulk loader. */
export class RollupFiller {
  private readonly templates: Template[][];
  private readonly put: Statement;
  private readonly steps: number[];

  constructor(private readonly store: Store) {
    // Templates are encoded relative to their bucket start (last_ts offsets), so one per kind,
    // variant and step serves every bucket of that step: 60 samples each covering step / 60.
    this.steps = store.tiers.rollups.map((t) => t.stepMs);
    this.templates = this.steps.map((step) =>
      KINDS.flatMap((kind) =>
        Array.from({ length: VARIANTS }, (_, v) => template(kind, v, 60, step / 60, 0)),
      ),
    );
    this.put = store.db.prepare(
      "INSERT OR REPLACE INTO rollups (step_ms, gpu_id, bucket_ms, samples, busy_ms, idle_ms, idle_held_ms, unknown_ms, energy_cwms, energy_idle_cwms, temp_max, util_sum, util_count, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
  }

  /** Every bucket of tier `tier` in [fromMs, toMs) of these GPUs; about 1 in 97 left without data. */
  fill(tier: number, fromMs: number, toMs: number, ids: readonly number[]): void {
    const step = this.steps[tier] as number;
    const list = this.templates[tier] as Template[];
    for (let b0 = fromMs; b0 < toMs; b0 += 24 * step) {
      this.store.db.transaction(() => {
        for (let b = b0; b < Math.min(toMs, b0 + 24 * step); b += step) {
          const n = b / step;
          for (const id of ids) {
            if ((id * 13 + n) % 97 === 0) continue; // a GPU-bucket with no data at all
            const t = list[
              ((id % KINDS.length) * VARIANTS + ((id * 31 + n * 7) % VARIANTS)) % list.length
            ] as Template;
            this.put.run(step, id, b, ...t.values, t.data);
          }
        }
      })();
    }
  }
}

/** The end of the range fillFleet fills unless told: 14:17, as a real "last 30 days" ends off the hour. */
const FLEET_END_MS = Date.UTC(2026, 5, 1, 14, 17);

/**
 * Registers the hosts and GPUs, then fills the rollup buckets a `days`-long report ending at
 * `toMs` reads (rangePieces: whole hours, then minutes at the edges). Returns the range. With
 * `finish: false` the caller adds rows and then calls store.rebuildUsageEdges() itself.
 */
export function fillFleet(
  store: Store,
  gpus: number,
  days: number,
  options: { toMs?: number; finish?: boolean } = {},
): { fromMs: number; toMs: number } {
  const toMs = options.toMs ?? FLEET_END_MS;
  const fromMs = toMs - days * 24 * HOUR;
  const hosts = Math.ceil(gpus / GPUS_PER_HOST);
  for (let h = 0; h < hosts; h++) {
    store.writeInventory(
      {
        host: `node-${String(h).padStart(5, "0")}`,
        site: h % 3 === 0 ? "ams2" : "fra1",
        labels: { customer: `c${h % 7}` },
        timestamp_ms: fromMs,
        gpus: Array.from({ length: Math.min(GPUS_PER_HOST, gpus - h * GPUS_PER_HOST) }, (_, i) => ({
          index: i,
          uuid: `GPU-bench-${h}-${i}`,
          name: MODELS[h % MODELS.length],
        })),
      },
      fromMs,
    );
  }
  const ids = store.db.prepare("SELECT id FROM gpus ORDER BY id").pluck(true).all() as number[];
  const filler = new RollupFiller(store);
  const steps = store.tiers.rollups.map((t) => t.stepMs);
  for (const piece of rangePieces(steps, fromMs, toMs)) filler.fill(piece.tier, piece.from, piece.to, ids);
  if (options.finish ?? true) {
    store.rebuildUsageEdges(); // the rows went in directly, past the merge that keeps the edges
    store.checkpoint();
  }
  return { fromMs, toMs };
}

async function measure(tiers: string[], gpus: number, days: number) {
  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-report-"));
  try {
    const path = join(dir, "report.db");
    const store = Store.open(path, { retention: tiers });
    const t0 = performance.now();
    const range = fillFleet(store, gpus, days);
    const fillMs = performance.now() - t0;
    // Timed as the API runs it: on the read worker's own connection, inside one snapshot.
    const reader = Store.openReader(path, { retention: tiers });
    const flags = reader.flagStore();
    const request = {
      op: "report",
      kind: "utilization",
      ...range,
      groupBy: "site",
      nowMs: range.toMs,
    } as const;
    const runs: number[] = [];
    let rate: number | null = null;
    for (let i = 0; i < 7; i++) {
      const t1 = performance.now();
      const report = reader.read(() => answerRead(reader, flags, request), SNAPSHOT_MS) as UtilizationReport;
      runs.push(performance.now() - t1);
      if (report.total.gpus !== gpus) throw new Error(`report counted ${report.total.gpus} GPUs`);
      rate = report.total.utilizationRate;
    }
    reader.close();
    const rows = store.db.prepare("SELECT count(*) FROM rollups").pluck(true).get() as number;
    store.close();
    return { ms: median(runs), rows, fillMs, rate };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchReport(size: "full" | "smoke"): Promise<BenchFigure[]> {
  const gpus = size === "full" ? 10_000 : 500;
  const days = size === "full" ? 30 : 3;
  const plain = await measure(DEFAULT_TIERS, gpus, days);
  const daily = await measure(DAILY_TIERS, gpus, days);
  const what = `${gpus} GPUs x ${days} d`;
  return [
    {
      name: "report.utilization_30d_10k_gpus_ms",
      value: plain.ms,
      unit: `ms (${what}, default tiers ${DEFAULT_TIERS.slice(1).join(" ")})`,
    },
    {
      name: "report.utilization_30d_10k_gpus_daily_tier_ms",
      value: daily.ms,
      unit: `ms (${what}, tiers ${DAILY_TIERS.slice(1).join(" ")})`,
    },
    { name: "report.fill_rollup_rows", value: plain.rows, unit: "rows (default tiers)" },
    { name: "report.fill_s", value: plain.fillMs / 1000, unit: "s (default tiers)" },
    { name: "report.utilization_rate", value: plain.rate ?? Number.NaN, unit: "ratio" },
  ];
}
