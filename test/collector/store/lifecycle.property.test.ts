// The store over a GPU's life: agents restarting (new boot ids, sequences from 1 again, frames
// re-sent under another boot), a GPU moving to another host, collector restarts at several
// points, then retention pruning. Rollups, usage edges and raw samples must equal a brute-force
// computation over the unique samples before pruning; after it, a report over a range that
// straddles a pruned boundary counts at least every bucket its tier still keeps and never more
// than the samples hold (nothing invented, nothing twice), and pruned buckets read as absent.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import { MAX_COVER_MS } from "../../../collector/store/rollup-acc.js";
import { Store } from "../../../collector/store/store.js";
import { rangePieces } from "../../../collector/store/store-aggregate.js";
import { classifySample, DEFAULT_IDLE_THRESHOLDS } from "../../../collector/usage/classify.js";
import { emptyUsage, type UsageSums } from "../../../collector/usage/usage-sums.js";
import { GpuState, type IGpuSample } from "../../../shared/proto.js";
import { T0, type TempStore, tempStore } from "./synth.js";

const MIN = 60_000;
const HOUR = 3_600_000;
const UUID = "GPU-life";
const WRITE_TIERS = ["48h:raw", "30d:1m", "2y:1h"];
/** Reopened with these to prune: every tier loses part of the data. */
const PRUNE_TIERS = ["2h:raw", "3h:1m", "5h:1h"];
const PRUNE_RETENTION = [3 * HOUR, 5 * HOUR];
const STEPS = [MIN, HOUR];

const sampleArb = fc.record({
  second: fc.integer({ min: 0, max: 3 * 3600 - 1 }),
  interval: fc.constantFrom(1000, 10_000, 60_000),
  lost: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  util: fc.option(fc.integer({ min: 0, max: 100 }), { freq: 4 }),
  power: fc.option(fc.integer({ min: 0, max: 70_000 }), { freq: 4 }),
  procs: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 3 }),
  delay: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 3 * HOUR })),
  /** 0: sent once; 1: re-sent with the same boot and seq; 2: re-sent under a later boot. */
  resend: fc.constantFrom(0, 0, 0, 0, 1, 2),
});

const caseArb = fc.record({
  samples: fc.array(sampleArb, { minLength: 1, maxLength: 150 }),
  /** The agent restarts (a new boot id, seq from 1) at these seconds. */
  restarts: fc.array(fc.integer({ min: 0, max: 3 * 3600 - 1 }), { maxLength: 3 }),
  /** From this second on the GPU reports from another host. */
  moveAt: fc.option(fc.integer({ min: 0, max: 3 * 3600 - 1 })),
  batch: fc.integer({ min: 1, max: 30 }),
  reopens: fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 3 }),
  windowMs: fc.constantFrom(60_000, 600_000),
  maxBlock: fc.constantFrom(8, 2048),
  pruneAfter: fc.integer({ min: 0, max: 4 * HOUR }),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

interface Input {
  ts: number;
  interval: number;
  gpu: IGpuSample;
  arrival: number;
  frames: ValidFrame[];
}

function buildInputs(c: Case): Input[] {
  const unique = new Map<number, Case["samples"][number]>();
  for (const s of c.samples) if (!unique.has(s.second)) unique.set(s.second, s);
  const ordered = [...unique.entries()].sort((a, b) => a[0] - b[0]);
  const seqs = new Map<string, number>();
  const next = (host: string, boot: string) => {
    const key = `${host}/${boot}`;
    const seq = (seqs.get(key) ?? 0) + 1;
    seqs.set(key, seq);
    return seq;
  };
  return ordered.map(([second, s]) => {
    const ts = T0 + second * 1000;
    const boot = c.restarts.filter((r) => r <= second).length;
    const host = c.moveAt !== null && second >= c.moveAt ? "host-b" : "host-a";
    const gpu: IGpuSample = {
      index: 0,
      uuid: UUID,
      state: s.lost ? GpuState.GPU_STATE_LOST : GpuState.GPU_STATE_OK,
    };
    if (!s.lost) {
      if (s.util !== null) gpu.utilization_gpu_pct = s.util;
      if (s.power !== null) gpu.power_draw_watts = s.power / 100;
      if (s.procs !== null) gpu.compute_processes = s.procs;
    }
    const base = { host, timestamp_ms: ts, interval_ms: s.interval, site: "s", labels: {}, gpus: [gpu] };
    const first: ValidFrame = { ...base, boot_id: `boot-${boot}`, seq: next(host, `boot-${boot}`) };
    const frames = [first];
    if (s.resend === 1) frames.push(first);
    if (s.resend === 2) frames.push({ ...base, boot_id: "boot-resent", seq: next(host, "boot-resent") });
    return { ts, interval: s.interval, gpu, arrival: ts + s.delay, frames };
  });
}

function bruteUsage(inputs: readonly Input[], keep: (ts: number) => boolean): UsageSums {
  const u: UsageSums = emptyUsage();
  for (const i of inputs) {
    if (!keep(i.ts)) continue;
    const cover = Math.min(i.interval, MAX_COVER_MS);
    const usage = classifySample(i.gpu, DEFAULT_IDLE_THRESHOLDS);
    u.samples++;
    if (usage === "busy") u.busyMs += cover;
    if (usage === "idle") u.idleMs += cover;
    if (usage === "idle_held") u.idleHeldMs += cover;
    if (usage === "unknown") u.unknownMs += cover;
    if (typeof i.gpu.power_draw_watts === "number") {
      const e = Math.round(i.gpu.power_draw_watts * 100) * cover;
      u.energyCwms += e;
      if (usage === "idle" || usage === "idle_held") u.energyIdleCwms += e;
    }
    if (typeof i.gpu.utilization_gpu_pct === "number") {
      u.utilizationSum += i.gpu.utilization_gpu_pct;
      u.utilizationCount++;
    }
  }
  return u;
}

const SUM_KEYS = [
  "samples",
  "busyMs",
  "idleMs",
  "idleHeldMs",
  "unknownMs",
  "energyCwms",
  "energyIdleCwms",
  "utilizationSum",
  "utilizationCount",
] as const;

function sumsOf(u: UsageSums | undefined): number[] {
  return SUM_KEYS.map((k) => u?.[k] ?? 0);
}

/**
 * Writes every frame in arrival order, reopening where the case says, with a read worker's store
 * refreshing now and then; returns the writer, the reader and the last clock.
 */
function writeAll(
  tmp: TempStore,
  c: Case,
  inputs: readonly Input[],
  options: object,
): [Store, Store, number] {
  let store = tmp.open(options);
  const reader = Store.openReader(tmp.path, options);
  readers.push(reader);
  const arrivals = inputs.flatMap((i) => i.frames.map((f) => ({ f, at: i.arrival })));
  arrivals.sort((a, b) => a.at - b.at);
  let clock = T0;
  let batches = 0;
  for (let i = 0; i < arrivals.length; i += c.batch) {
    const batch = arrivals.slice(i, i + c.batch);
    clock = Math.max(clock, ...batch.map((b) => b.at));
    // Frames of one host and boot stay oldest first within a batch, as replays are.
    const frames = batch.map((b) => b.f).sort((a, b) => a.timestamp_ms - b.timestamp_ms);
    store.writeFrames(frames, clock);
    batches++;
    if (c.reopens.includes(batches)) store = tmp.open(options);
    if (batches % 3 === 0) store.pruneStep(clock);
    if (batches % 4 === 0) reader.read(() => reader.gpuTotals({ fromMs: T0, toMs: T0 + HOUR }));
  }
  return [store, reader, clock];
}

let tmp: TempStore | undefined;
const readers: Store[] = [];
afterEach(() => {
  for (const r of readers.splice(0)) r.close();
  tmp?.cleanup();
});

describe("store over a GPU's life (property)", () => {
  it("keeps rollups, edges and raw samples exact through restarts, moves and re-sends, and prunes without inventing", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        for (const r of readers.splice(0)) r.close();
        tmp?.cleanup();
        tmp = tempStore();
        const inputs = buildInputs(c);
        const options = { rawWindowMs: c.windowMs, maxBlockSamples: c.maxBlock, retention: WRITE_TIERS };
        const [written, reader, clock] = writeAll(tmp, c, inputs, options);
        let store = written;
        const from = T0;
        const to = T0 + 4 * HOUR;
        const id = store.gpuByUuid(UUID)?.id as number;

        // Before pruning: exact.
        expect(store.samples(UUID, from, to).map((s) => s.ts)).toEqual(inputs.map((i) => i.ts));
        const ranges = [
          [from, to],
          [from + 7 * MIN, from + 2 * HOUR + 13 * MIN],
          [from + 59 * MIN, from + 61 * MIN],
        ] as const;
        for (const [a, b] of ranges) {
          const brute = sumsOf(bruteUsage(inputs, (ts) => ts >= a && ts < b));
          expect(sumsOf(store.gpuTotals({ fromMs: a, toMs: b }, [id]).get(id))).toEqual(brute);
          expect(
            sumsOf(store.gpuTotals({ fromMs: a, toMs: b }, [id], { maxTemperature: true }).get(id)),
          ).toEqual(brute);
          expect(sumsOf(reader.read(() => reader.gpuTotals({ fromMs: a, toMs: b }, [id]).get(id)))).toEqual(
            brute,
          );
        }

        // Reopened with short retentions and pruned until done.
        const nowMs = clock + c.pruneAfter;
        store = tmp.open({ ...options, retention: PRUNE_TIERS });
        for (let more = true; more; ) more = store.pruneStep(nowMs).more;
        // A new commit (another GPU), so the reader's next snapshot follows the prune.
        const other = { index: 0, uuid: "GPU-other" };
        store.writeFrames(
          [{ host: "host-c", boot_id: "c", seq: 1, timestamp_ms: nowMs, interval_ms: 1000, gpus: [other] }],
          nowMs,
        );

        // Raw: everything younger than the raw retention stays; nothing appears.
        const kept = store.samples(UUID, from, to).map((s) => s.ts);
        const all = inputs.map((i) => i.ts);
        expect(kept.every((ts) => all.includes(ts))).toBe(true);
        expect(new Set(kept).size).toBe(kept.length);
        for (const ts of all) if (ts >= nowMs - 2 * HOUR) expect(kept).toContain(ts);

        // Series: a bucket still kept equals the brute force; a pruned one is absent (null), never 0.
        for (const [t, step] of STEPS.entries()) {
          const retention = PRUNE_RETENTION[t] as number;
          const series = store.series(UUID, ["utilization_gpu_pct"], from, to, step);
          const got = series.metrics.utilization_gpu_pct?.avg ?? [];
          series.t.forEach((bucket, k) => {
            const mine = inputs.filter(
              (i) => i.ts >= bucket && i.ts < bucket + step && typeof i.gpu.utilization_gpu_pct === "number",
            );
            const avg =
              mine.length === 0
                ? null
                : mine.reduce((s, i) => s + (i.gpu.utilization_gpu_pct as number), 0) / mine.length;
            if (bucket + step > nowMs - retention) expect(got[k]).toBe(avg);
            else if (got[k] !== null) expect(got[k]).toBe(avg);
          });
        }

        // Reports: at least every bucket still kept, at most what the samples hold.
        for (const [a, b] of [...ranges, [from + 2 * HOUR + 30 * MIN, from + 3 * HOUR + 10 * MIN]] as const) {
          const upper = sumsOf(bruteUsage(inputs, (ts) => ts >= a && ts < b));
          const lower = new Array<number>(SUM_KEYS.length).fill(0);
          for (const piece of rangePieces(STEPS, a, b)) {
            const step = STEPS[piece.tier] as number;
            const retention = PRUNE_RETENTION[piece.tier] as number;
            const keptBucket = (ts: number) => ts - (ts % step) + step > nowMs - retention;
            const s = sumsOf(bruteUsage(inputs, (ts) => ts >= piece.from && ts < piece.to && keptBucket(ts)));
            s.forEach((v, i) => {
              lower[i] = (lower[i] as number) + v;
            });
          }
          for (const maxTemperature of [false, true]) {
            const got = sumsOf(store.gpuTotals({ fromMs: a, toMs: b }, [id], { maxTemperature }).get(id));
            expect(
              sumsOf(
                reader.read(() => reader.gpuTotals({ fromMs: a, toMs: b }, [id], { maxTemperature }).get(id)),
              ),
            ).toEqual(got);
            got.forEach((v, i) => {
              expect(v).toBeGreaterThanOrEqual(lower[i] as number);
              expect(v).toBeLessThanOrEqual(upper[i] as number);
            });
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});
