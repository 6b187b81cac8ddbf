// The read worker's incremental refresh (RawWriter.refresh): after any sequence of writes, seals
// (by window, by block size, stale, all), late and duplicate samples, new hosts and GPUs, and
// label changes (which fall back to a full load), a reader that refreshed at every step holds
// exactly the memory, and gives exactly the answers, of a reader that loads the file afresh, and
// answers what the writer answers.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { Store } from "../../../collector/store/store.js";
import type { IGpuSample } from "../../../shared/proto.js";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

let tmp: TempStore | undefined;
const readers: Store[] = [];
afterEach(() => {
  for (const r of readers.splice(0)) r.close();
  tmp?.cleanup();
  tmp = undefined;
});

const OPTIONS = { rawWindowMs: 60_000, maxBlockSamples: 5, graceMs: 20_000 };

type Step =
  | {
      kind: "write";
      host: number;
      gpus: number;
      lateMs: number;
      busy: boolean;
      noPower: boolean;
      repeat: boolean;
    }
  | { kind: "advance"; ms: number }
  | { kind: "sealStale" }
  | { kind: "sealAll" }
  | { kind: "relabel"; host: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      host: fc.integer({ min: 0, max: 3 }),
      gpus: fc.integer({ min: 1, max: 3 }),
      lateMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 90_000 })),
      busy: fc.boolean(),
      noPower: fc.boolean(),
      repeat: fc.boolean(),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 45_000 }) }),
    weight: 3,
  },
  { arbitrary: fc.constant({ kind: "sealStale" as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: "sealAll" as const }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant("relabel" as const), host: fc.integer({ min: 0, max: 3 }) }),
    weight: 1,
  },
);

const value = (v: number) => (Number.isNaN(v) ? null : v);

/** Everything a reader keeps in memory and answers from it, as plain data. */
function memoryOf(store: Store) {
  const raw = store.raw;
  const gpus = [...raw.gpusById.values()]
    .sort((a, b) => a.id - b.id)
    .map((g) => ({
      id: g.id,
      uuid: g.uuid,
      hostId: g.hostId,
      index: g.index,
      model: g.model,
      samples: g.unsealed.samples().map((s) => ({
        ts: s.ts,
        intervalMs: s.intervalMs,
        state: s.state,
        vals: Array.from(s.vals, value),
      })),
      maxTs: g.maxTs,
      windowEnd: g.windowEnd,
      latest: g.latest && { ts: g.latest.ts, state: g.latest.state, vals: Array.from(g.latest.vals, value) },
      deltas: g.rollup.starts().map((b) => [b, Array.from(g.rollup.get(b) ?? [], value)]),
    }));
  const hosts = [...raw.hostsById.values()]
    .sort((a, b) => a.id - b.id)
    .map((h) => ({
      id: h.id,
      name: h.name,
      site: h.site,
      labels: h.labels,
      lastSeenMs: h.lastSeenMs,
      inventory: h.inventory && [...h.inventory].sort(),
    }));
  const range = { fromMs: T0 - 3_600_000, toMs: T0 + 6 * 3_600_000 };
  return {
    gpus,
    hosts,
    aggregate: store.aggregate({ ...range, groupBy: "gpu" }),
    latest: store.latest().map((g) => ({ ...g, values: Object.entries(g.values) })),
  };
}

describe("Store.openReader refresh", () => {
  it("holds what a fresh load holds after every commit", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        tmp?.cleanup();
        for (const r of readers.splice(0)) r.close();
        tmp = tempStore();
        const writer = tmp.open(OPTIONS);
        let now = T0;
        let seq = 0;
        const labels = [0, 0, 0, 0];
        const write = (s: Extract<Step, { kind: "write" }>) => {
          const ts = now - s.lateMs - (now % 1000);
          const gpus: IGpuSample[] = Array.from({ length: s.gpus }, (_, i) =>
            gpu(i, {
              uuid: `GPU-h${s.host}-${i}`,
              utilization_gpu_pct: s.busy ? 90 : 0,
              memory_used_mib: s.busy ? 4000 : 1,
              compute_processes: s.busy ? 1 : 0,
              ...(s.noPower ? {} : { power_draw_watts: s.busy ? 300 + i : 60 }),
            }),
          );
          const extra = { host: `host-${s.host}`, boot_id: "boot", labels: { rack: `r${labels[s.host]}` } };
          seq += 1;
          const f = frame(seq, ts, gpus, extra);
          writer.writeFrames(s.repeat ? [f, frame(seq, ts, gpus, extra)] : [f], now);
        };
        write({ kind: "write", host: 0, gpus: 1, lateMs: 0, busy: true, noPower: false, repeat: false });
        const reader = Store.openReader(tmp.path, OPTIONS);
        readers.push(reader);
        for (const s of steps) {
          if (s.kind === "write") write(s);
          else if (s.kind === "advance") now += s.ms;
          else if (s.kind === "sealStale") writer.sealStale(now);
          else if (s.kind === "sealAll") writer.sealAll();
          else labels[s.host] = (labels[s.host] ?? 0) + 1;
          const fresh = Store.openReader(tmp.path, OPTIONS);
          try {
            const refreshed = reader.read(() => memoryOf(reader));
            expect(refreshed).toEqual(fresh.read(() => memoryOf(fresh)));
            // And both answer what the writer answers from its own memory.
            const { aggregate, latest } = memoryOf(writer);
            expect({ aggregate: refreshed.aggregate, latest: refreshed.latest }).toEqual({
              aggregate,
              latest,
            });
          } finally {
            fresh.close();
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
