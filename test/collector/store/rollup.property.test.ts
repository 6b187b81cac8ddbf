// Rollups computed incrementally (out of order, in batches, across seals and reopens) equal
// a brute-force computation over the unique samples.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import { MAX_COVER_MS } from "../../../collector/store/rollup-acc.js";
import type { Store } from "../../../collector/store/store.js";
import {
  classifySample,
  DEFAULT_IDLE_THRESHOLDS,
  type UsageClass,
} from "../../../collector/usage/classify.js";
import { CWMS_PER_WH } from "../../../collector/usage/usage-sums.js";
import { METRICS, type MetricKey } from "../../../shared/metrics.js";
import { GpuState, type IGpuSample } from "../../../shared/proto.js";
import { T0, type TempStore, tempStore } from "./synth.js";

const KEYS: MetricKey[] = [
  "utilization_gpu_pct",
  "power_draw_watts",
  "temperature_gpu_celsius",
  "memory_used_mib",
];
const SCALE = new Map(METRICS.map((m) => [m.key, m.scale]));
const HOUR = 3_600_000;

const sampleArb = fc.record({
  second: fc.integer({ min: 0, max: 3 * 3600 - 1 }),
  jitter: fc.integer({ min: 0, max: 999 }),
  interval: fc.constantFrom(1000, 2000, 5000, 900_000),
  state: fc.constantFrom(
    GpuState.GPU_STATE_OK,
    GpuState.GPU_STATE_OK,
    GpuState.GPU_STATE_OK,
    GpuState.GPU_STATE_LOST,
  ),
  util: fc.option(fc.integer({ min: 0, max: 100 }), { freq: 4 }),
  power: fc.option(fc.integer({ min: 0, max: 70_000 }), { freq: 4 }),
  temp: fc.option(fc.integer({ min: -5, max: 95 }), { freq: 4 }),
  mem: fc.option(fc.integer({ min: 0, max: 80_000 }), { freq: 4 }),
  procs: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 3 }),
  mig: fc.boolean(),
  delay: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 4 * HOUR })),
  dup: fc.integer({ min: 0, max: 9 }),
});

const caseArb = fc.record({
  gpus: fc.array(fc.array(sampleArb, { minLength: 1, maxLength: 120 }), { minLength: 1, maxLength: 2 }),
  batch: fc.integer({ min: 1, max: 40 }),
  reopenAt: fc.integer({ min: 0, max: 10 }),
  windowMs: fc.constantFrom(60_000, 600_000),
  maxBlock: fc.constantFrom(8, 2048),
  // With 1 h of raw retention, long-delayed frames skip raw and feed the rollups only.
  rawRetention: fc.constantFrom("48h", "1h"),
});

interface Input {
  uuid: string;
  ts: number;
  interval: number;
  gpu: IGpuSample;
  frame: ValidFrame;
  arrival: number;
  dup: boolean;
  /** Store clock when the first copy was written. */
  writtenAt?: number;
}

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function buildInputs(c: Case): Input[] {
  const inputs: Input[] = [];
  c.gpus.forEach((samples, g) => {
    const seen = new Set<number>();
    samples.forEach((s, k) => {
      const ts = T0 + s.second * 1000 + s.jitter;
      if (seen.has(ts)) return;
      seen.add(ts);
      const gpu: IGpuSample = { index: 0, uuid: `GPU-p${g}`, state: s.state, mig_mode: s.mig };
      if (s.state === GpuState.GPU_STATE_OK) {
        if (s.util !== null) gpu.utilization_gpu_pct = s.util;
        if (s.power !== null) gpu.power_draw_watts = s.power / 100;
        if (s.temp !== null) gpu.temperature_gpu_celsius = s.temp;
        if (s.mem !== null) gpu.memory_used_mib = s.mem;
        if (s.procs !== null) gpu.compute_processes = s.procs;
      }
      const frame: ValidFrame = {
        host: `host-${g}`,
        boot_id: "b",
        seq: k + 1,
        timestamp_ms: ts,
        interval_ms: s.interval,
        site: "s",
        labels: {},
        gpus: [gpu],
      };
      inputs.push({
        uuid: `GPU-p${g}`,
        ts,
        interval: s.interval,
        gpu,
        frame,
        arrival: ts + s.delay,
        dup: s.dup === 0,
      });
    });
  });
  return inputs;
}

interface Cell {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastTs: number;
}

function bruteSeries(inputs: Input[], uuid: string, key: MetricKey, from: number, to: number, step: number) {
  const n = Math.ceil((to - from) / step);
  const cells: (Cell | undefined)[] = new Array(n).fill(undefined);
  const scale = SCALE.get(key) as number;
  for (const i of inputs) {
    if (i.uuid !== uuid || i.ts < from || i.ts >= to) continue;
    const raw = (i.gpu as Record<string, unknown>)[key];
    if (typeof raw !== "number") continue;
    const v = Math.round(raw * scale);
    const k = Math.floor((i.ts - from) / step);
    const c = cells[k];
    if (!c) cells[k] = { count: 1, sum: v, min: v, max: v, last: v, lastTs: i.ts };
    else {
      c.count++;
      c.sum += v;
      c.min = Math.min(c.min, v);
      c.max = Math.max(c.max, v);
      if (i.ts > c.lastTs) {
        c.last = v;
        c.lastTs = i.ts;
      }
    }
  }
  return {
    min: cells.map((c) => (c ? c.min / scale : null)),
    max: cells.map((c) => (c ? c.max / scale : null)),
    avg: cells.map((c) => (c ? c.sum / c.count / scale : null)),
    last: cells.map((c) => (c ? c.last / scale : null)),
    count: cells.map((c) => c?.count ?? 0),
  };
}

function bruteUsage(inputs: Input[], uuid: string, from: number, to: number) {
  const ms: Record<UsageClass, number> = { busy: 0, idle: 0, idle_held: 0, unknown: 0 };
  let energy = 0;
  let energyIdle = 0;
  let tempMax: number | null = null;
  let utilSum = 0;
  let utilCount = 0;
  for (const i of inputs) {
    if (i.uuid !== uuid || i.ts < from || i.ts >= to) continue;
    const cover = Math.min(i.interval, MAX_COVER_MS);
    const usage = classifySample(i.gpu, DEFAULT_IDLE_THRESHOLDS);
    ms[usage] += cover;
    if (typeof i.gpu.power_draw_watts === "number") {
      const e = Math.round(i.gpu.power_draw_watts * 100) * cover;
      energy += e;
      if (usage === "idle" || usage === "idle_held") energyIdle += e;
    }
    if (typeof i.gpu.temperature_gpu_celsius === "number")
      tempMax = Math.max(tempMax ?? Number.NEGATIVE_INFINITY, i.gpu.temperature_gpu_celsius);
    if (typeof i.gpu.utilization_gpu_pct === "number") {
      utilSum += i.gpu.utilization_gpu_pct;
      utilCount++;
    }
  }
  return {
    busyMs: ms.busy,
    idleMs: ms.idle,
    idleHeldMs: ms.idle_held,
    unknownMs: ms.unknown,
    energyWh: energy / CWMS_PER_WH,
    energyIdleWh: energyIdle / CWMS_PER_WH,
    maxTemperatureC: tempMax,
    avgUtilizationPct: utilCount > 0 ? utilSum / utilCount : null,
  };
}

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

describe("rollups (property)", () => {
  it("equal a brute-force computation over the raw samples, whatever the arrival order", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        tmp?.cleanup();
        tmp = tempStore();
        const options = {
          rawWindowMs: c.windowMs,
          maxBlockSamples: c.maxBlock,
          retention: [`${c.rawRetention}:raw`, "30d:1m", "2y:1h"],
        };
        const rawRetentionMs = c.rawRetention === "1h" ? HOUR : 48 * HOUR;
        let store: Store = tmp.open(options);
        const inputs = buildInputs(c);
        const arrivals = [...inputs, ...inputs.filter((i) => i.dup)].sort((a, b) => a.arrival - b.arrival);
        let clock = T0;
        let batches = 0;
        for (let i = 0; i < arrivals.length; i += c.batch) {
          const batch = arrivals.slice(i, i + c.batch);
          clock = Math.max(clock, ...batch.map((b) => b.arrival));
          for (const b of batch) b.writtenAt ??= clock;
          // Frames of one host must stay oldest first within a batch, as replays are.
          const frames = batch
            .map((b) => b.frame)
            .sort((a, b) => a.host.localeCompare(b.host) || a.timestamp_ms - b.timestamp_ms);
          store.writeFrames(frames, clock);
          if (++batches === c.reopenAt) store = tmp.open(options);
          // Pruning would also drop raw data of the short retention; sealing still runs.
          if (batches % 3 === 0) {
            if (c.rawRetention === "48h") store.pruneStep(clock);
            else store.sealStale(clock);
          }
        }
        const uuids = [...new Set(inputs.map((i) => i.uuid))];
        const from = T0;
        const to = T0 + 4 * HOUR;
        for (const uuid of uuids) {
          const mine = inputs
            .filter((i) => i.uuid === uuid && i.ts >= (i.writtenAt as number) - rawRetentionMs)
            .sort((a, b) => a.ts - b.ts);
          expect(store.samples(uuid, from, to).map((s) => s.ts)).toEqual(mine.map((i) => i.ts));
          for (const step of [60_000, HOUR]) {
            const series = store.series(uuid, KEYS, from, to, step);
            for (const key of KEYS)
              expect(series.metrics[key]).toEqual(bruteSeries(inputs, uuid, key, from, to, step));
          }
          // Whole range (1 h tier) and a range with minute edges (1 h + 1 m tiers).
          for (const [a, b] of [
            [from, to],
            [from + 7 * 60_000, from + 2 * HOUR + 13 * 60_000],
          ] as const) {
            const [group] = store.aggregate({ fromMs: a, toMs: b, groupBy: "gpu", filters: { uuid } });
            const brute = bruteUsage(inputs, uuid, a, b);
            const any = inputs.some((i) => i.uuid === uuid && i.ts >= a && i.ts < b);
            if (!any) expect(group).toBeUndefined();
            else expect(group).toEqual({ key: uuid, gpus: 1, ...brute });
          }
          // The cumulative edges (no bucket scan) give the same integers for any range, also
          // ranges whose minute piece crosses an hour, and after a rebuild from the rollups.
          const id = store.raw.gpus.get(uuid)?.id as number;
          for (const rebuilt of [false, true]) {
            if (rebuilt) store.raw.edges.rebuild();
            for (const [a, b] of [
              [from, to],
              [from + 7 * 60_000, from + 2 * HOUR + 13 * 60_000],
              [from + 59 * 60_000, from + 61 * 60_000],
              [from + 70 * 60_000, from + 110 * 60_000],
              [from + 3 * HOUR + 59 * 60_000, from + 5 * HOUR],
            ] as const) {
              const fast = store.gpuTotals({ fromMs: a, toMs: b }, [id]).get(id);
              const scan = store.gpuTotals({ fromMs: a, toMs: b }, [id], { maxTemperature: true }).get(id);
              expect(fast).toEqual(scan && { ...scan, maxTemperatureC: null });
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
