// A database a collector at schema 070 wrote (before usage edges, process sessions, MIG devices)
// opens with this build: the later migrations run, the usage edges are built from the rollups,
// and every sample, rollup and report answer is what it was.
import { afterEach, describe, expect, it } from "vitest";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

const HOUR = 3_600_000;

describe("migration chain from schema 070", () => {
  it("keeps every row and answer of a database written before usage edges", () => {
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 600_000 });
    const frames = Array.from({ length: 400 }, (_, k) =>
      frame(
        k + 1,
        T0 + k * 10_000,
        [
          gpu(0, { utilization_gpu_pct: k % 101, power_draw_watts: 100 + (k % 13) }),
          gpu(1, { temperature_gpu_celsius: 40 + (k % 5) }),
        ],
        { interval_ms: 10_000 },
      ),
    );
    for (let i = 0; i < frames.length; i += 25)
      store.writeFrames(frames.slice(i, i + 25), T0 + (i + 25) * 10_000);
    const range = { fromMs: T0 + 7 * 60_000, toMs: T0 + HOUR + 3 * 60_000 };
    const answers = () => ({
      samples: store.samples("GPU-test-0", 0, T0 + 10 * HOUR),
      series: store.series(
        "GPU-test-0",
        ["utilization_gpu_pct", "power_draw_watts"],
        T0,
        T0 + 2 * HOUR,
        60_000,
      ),
      totals: store.gpuTotals(range),
      scan: store.gpuTotals(range, undefined, { maxTemperature: true }),
    });
    const before = answers();
    expect(before.samples).toHaveLength(400);
    // Back to schema 070: the later tables, indexes and records gone.
    store.db.exec(`
      DROP TABLE usage_edges; DROP TABLE process_sessions; DROP TABLE process_sets; DROP TABLE mig_devices;
      DROP TABLE xid_counts;
      DROP INDEX flags_gpu_start; DROP INDEX flags_host_start; CREATE INDEX flags_host ON flags (host);
      DELETE FROM store_meta WHERE key = 'usage_edges_steps';
      DELETE FROM schema_migrations WHERE version > 70;
    `);
    store.close();
    const again = tmp.open({ rawWindowMs: 600_000 });
    expect(again.db.prepare("SELECT max(version) FROM schema_migrations").pluck().get()).toBeGreaterThan(70);
    expect(again.samples("GPU-test-0", 0, T0 + 10 * HOUR)).toEqual(before.samples);
    expect(
      again.series("GPU-test-0", ["utilization_gpu_pct", "power_draw_watts"], T0, T0 + 2 * HOUR, 60_000),
    ).toEqual(before.series);
    expect(again.gpuTotals(range)).toEqual(before.totals);
    expect(again.gpuTotals(range, undefined, { maxTemperature: true })).toEqual(before.scan);
  });
});
