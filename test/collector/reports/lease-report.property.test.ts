// Lease reports (issue 15) against a brute-force computation over the raw samples: random leases
// with gaps and re-leases at odd milliseconds, absent values, late and duplicate frames, restarts
// (reopen) and seals. Each minute belongs to the lease in force at its start; every integer of
// every line (utilization readings' sum and count included) must match, and a statement's total
// must be the exact sum of its lines.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import type { Lease } from "../../../collector/leases/model.js";
import type { leaseLine } from "../../../collector/reports/lease-report.js";
import { leaseParts, statement } from "../../../collector/reports/lease-reports.js";
import { MAX_COVER_MS } from "../../../collector/store/rollup-acc.js";
import type { Store } from "../../../collector/store/store.js";
import { classifySample, DEFAULT_IDLE_THRESHOLDS } from "../../../collector/usage/classify.js";
import { GpuState, type IGpuSample } from "../../../shared/proto.js";
import { T0, type TempStore, tempStore } from "../store/synth.js";

const MIN = 60_000;
const HOUR = 3_600_000;

const sampleArb = fc.record({
  second: fc.integer({ min: 0, max: 5 * 3600 - 1 }),
  jitter: fc.integer({ min: 0, max: 999 }),
  interval: fc.constantFrom(1000, 5000, 30_000, 900_000),
  lost: fc.integer({ min: 0, max: 5 }),
  util: fc.option(fc.integer({ min: 0, max: 100 }), { freq: 4 }),
  power: fc.option(fc.integer({ min: 0, max: 70_000 }), { freq: 4 }),
  mem: fc.option(fc.integer({ min: 0, max: 80_000 }), { freq: 4 }),
  delay: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 3 * HOUR })),
  dup: fc.integer({ min: 0, max: 6 }),
});

// Cut points near samples (a re-lease inside a minute that has samples), or anywhere.
const leaseCutsArb = fc.array(
  fc.oneof(
    fc.record({ near: fc.nat(), offset: fc.integer({ min: -30_000, max: 30_000 }) }),
    fc.record({ at: fc.integer({ min: -HOUR, max: 6 * HOUR }) }),
  ),
  { minLength: 1, maxLength: 6 },
);

const caseArb = fc.record({
  gpus: fc.array(
    fc.record({
      samples: fc.array(sampleArb, { minLength: 1, maxLength: 80 }),
      cuts: leaseCutsArb,
      gaps: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
      open: fc.boolean(),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  batch: fc.integer({ min: 1, max: 30 }),
  reopenAt: fc.integer({ min: 0, max: 8 }),
  range: fc.tuple(fc.integer({ min: -HOUR, max: 5 * HOUR }), fc.integer({ min: 1, max: 6 * HOUR })),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

interface Input {
  uuid: string;
  ts: number;
  interval: number;
  gpu: IGpuSample;
  frame: ValidFrame;
  arrival: number;
  dup: boolean;
}

function inputsOf(c: Case): Input[] {
  const out: Input[] = [];
  c.gpus.forEach(({ samples }, g) => {
    const seen = new Set<number>();
    samples.forEach((s, k) => {
      const ts = T0 + s.second * 1000 + s.jitter;
      if (seen.has(ts)) return;
      seen.add(ts);
      const uuid = `GPU-l${g}`;
      const lost = s.lost === 0;
      const gpu: IGpuSample = {
        index: 0,
        uuid,
        state: lost ? GpuState.GPU_STATE_LOST : GpuState.GPU_STATE_OK,
      };
      if (!lost) {
        if (s.util !== null) gpu.utilization_gpu_pct = s.util;
        if (s.power !== null) gpu.power_draw_watts = s.power / 100;
        if (s.mem !== null) gpu.memory_used_mib = s.mem;
      }
      const frame: ValidFrame = {
        host: `host-${g}`,
        boot_id: "b",
        seq: k + 1,
        timestamp_ms: ts,
        interval_ms: s.interval,
        site: "s",
        labels: { customer: "current-label" },
        gpus: [gpu],
      };
      out.push({ uuid, ts, interval: s.interval, gpu, frame, arrival: ts + s.delay, dup: s.dup === 0 });
    });
  });
  return out;
}

/** Back-to-back leases between the sorted cut points, some left out (gaps), tenants alternating. */
function leasesOf(c: Case): Lease[] {
  const out: Lease[] = [];
  c.gpus.forEach(({ cuts, gaps, open, samples }, g) => {
    const at = (x: Case["gpus"][number]["cuts"][number]) => {
      if ("at" in x) return T0 + x.at + 13;
      const s = samples[x.near % samples.length] as { second: number; jitter: number };
      return T0 + s.second * 1000 + s.jitter + x.offset;
    };
    const points = [...new Set(cuts.map(at))].sort((a, b) => a - b);
    for (let i = 0; i < points.length; i++) {
      if (gaps[i]) continue;
      const last = i + 1 === points.length;
      if (last && !open) continue;
      out.push({
        id: `L-${g}-${i}`,
        device: `GPU-l${g}`,
        gpu: `GPU-l${g}`,
        tenant: i % 2 === 0 ? "acme" : "globex",
        startMs: points[i] as number,
        endMs: last ? null : (points[i + 1] as number),
        contract: null,
        priceMicros: 2_500_000 + i * 333_333,
        currency: "USD",
        availabilityMilli: 99_500,
        labels: {},
        source: "api",
      });
    }
  });
  return out;
}

function brute(inputs: Input[], lease: Lease, fromMs: number, toMs: number, nowMs: number) {
  const a = Math.max(lease.startMs, fromMs);
  const b = Math.max(a, Math.min(lease.endMs ?? Number.POSITIVE_INFINITY, toMs, nowMs));
  const up = (t: number) => Math.ceil(t / MIN) * MIN;
  const r = {
    busy: 0,
    idle: 0,
    idle_held: 0,
    unknown: 0,
    energy: 0,
    energyIdle: 0,
    covered: 0,
    utilSum: 0,
    utilCount: 0,
  };
  for (const i of inputs) {
    const bucket = Math.floor(i.ts / MIN) * MIN;
    if (i.uuid !== lease.gpu || b <= a || bucket < up(a) || bucket >= up(b)) continue;
    const cover = Math.min(i.interval, MAX_COVER_MS);
    const usage = classifySample(i.gpu, DEFAULT_IDLE_THRESHOLDS);
    r[usage] += cover;
    r.covered += cover;
    if (typeof i.gpu.power_draw_watts === "number") {
      const e = Math.round(i.gpu.power_draw_watts * 100) * cover;
      r.energy += e;
      if (usage === "idle" || usage === "idle_held") r.energyIdle += e;
    }
    if (typeof i.gpu.utilization_gpu_pct === "number") {
      r.utilSum += i.gpu.utilization_gpu_pct;
      r.utilCount++;
    }
  }
  return {
    leasedMs: b - a,
    coveredMs: r.covered,
    busyMs: r.busy,
    idleMs: r.idle,
    idleHeldMs: r.idle_held,
    unknownReportedMs: r.unknown,
    energyCwms: r.energy,
    energyIdleCwms: r.energyIdle,
    utilSum: r.utilSum,
    utilCount: r.utilCount,
  };
}

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

describe("lease reports (property)", () => {
  it("equal a brute-force computation over the raw samples, whatever the arrival order", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        tmp?.cleanup();
        tmp = tempStore();
        const options = { rawWindowMs: 600_000, retention: ["48h:raw", "30d:1m", "2y:1h"] };
        let store: Store = tmp.open(options);
        const inputs = inputsOf(c);
        const arrivals = [...inputs, ...inputs.filter((i) => i.dup)].sort((a, b) => a.arrival - b.arrival);
        let clock = T0;
        let batches = 0;
        for (let i = 0; i < arrivals.length; i += c.batch) {
          const batch = arrivals.slice(i, i + c.batch);
          clock = Math.max(clock, ...batch.map((b) => b.arrival));
          const frames = batch
            .map((b) => b.frame)
            .sort((a, b) => a.host.localeCompare(b.host) || a.timestamp_ms - b.timestamp_ms);
          store.writeFrames(frames, clock);
          if (++batches === c.reopenAt) store = tmp.open(options);
          if (batches % 3 === 0) store.pruneStep(clock);
        }
        const leases = leasesOf(c);
        for (const l of leases) store.leases.insert(l, T0);
        const nowMs = T0 + 6 * HOUR + 17;
        const range = { fromMs: T0 + c.range[0] * 3 + 5, toMs: T0 + c.range[0] * 3 + 5 + c.range[1] };
        const got = leaseParts({ store, now: () => nowMs }, range);
        const byId = new Map(got.parts.map((p) => [p.lease, p]));
        for (const l of leases) {
          const p = byId.get(l.id);
          const overlaps = l.startMs < got.toMs && (l.endMs === null || l.endMs > got.fromMs);
          if (!overlaps) {
            expect(p).toBeUndefined();
            continue;
          }
          expect(p).toBeDefined();
          const b = brute(inputs, l, got.fromMs, got.toMs, nowMs);
          expect({
            leasedMs: p?.leasedMs,
            coveredMs: p?.coveredMs,
            busyMs: p?.busyMs,
            idleMs: p?.idleMs,
            idleHeldMs: p?.idleHeldMs,
            unknownReportedMs: p?.unknownReportedMs,
            energyCwms: p?.energyCwms,
            energyIdleCwms: p?.energyIdleCwms,
            utilSum: p?.utilSum,
            utilCount: p?.utilCount,
          }).toEqual(b);
        }
        // A statement's total is the exact sum of its lines' integers.
        const s = statement({ store, now: () => nowMs }, { tenant: "acme", month: "2026-01" });
        const sum = (f: (l: ReturnType<typeof leaseLine>) => number) => s.lines.reduce((a, l) => a + f(l), 0);
        expect(s.lines.every((l) => l.tenant === "acme")).toBe(true);
        expect(s.total.leasedMs).toBe(sum((l) => l.leasedMs));
        expect(s.total.busyMs).toBe(sum((l) => l.busyMs));
        expect(s.total.downMs).toBe(sum((l) => l.downMs));
        expect(s.total.energyCwms).toBe(sum((l) => l.energyCwms));
        expect([s.total.utilSum, s.total.utilCount]).toEqual([
          sum((l) => l.utilSum),
          sum((l) => l.utilCount),
        ]);
        expect(s.total.costMicros.USD?.cost ?? 0).toBe(sum((l) => l.costMicros));
        expect(s.total.costMicros.USD?.paidIdle ?? 0).toBe(sum((l) => l.paidIdleCostMicros));
      }),
      { numRuns: 40 },
    );
  });
});
