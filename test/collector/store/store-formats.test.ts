// A database written before issue 19 keeps reading: raw_recent rows in format 1 (entries bare),
// raw blocks in format 1 (deflated varints) next to new ones (rollup rows: rollup-codec test).
import { inflateRawSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { decodeChunk } from "../../../collector/store/chunk-codec.js";
import { encodeChunkV1 } from "../../../collector/store/chunk-codec-v1.js";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

let tmp: TempStore | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

const frames = Array.from({ length: 300 }, (_, k) =>
  frame(k + 1, T0 + k * 1000, [
    gpu(0, { power_draw_watts: 100 + (k % 7) / 100, utilization_gpu_pct: k % 2 ? 90 : undefined }),
    gpu(1, { temperature_gpu_celsius: 40 + (k % 3) }),
  ]),
);

describe("store formats", () => {
  it("recovers unsealed samples from format-1 raw_recent rows after a restart", () => {
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 3_600_000 });
    store.writeFrames(frames, T0 + 300_000);
    const before = store.samples("GPU-test-0", 0, T0 + 10 ** 7);
    expect(before).toHaveLength(300);
    // Rewrite every row as a collector before issue 19 wrote it.
    const rows = store.db.prepare("SELECT id, data FROM raw_recent").all() as { id: number; data: Buffer }[];
    for (const r of rows)
      store.db
        .prepare("UPDATE raw_recent SET data = ?, format = 1 WHERE id = ?")
        .run(inflateRawSync(r.data), r.id);
    store.close();
    const again = tmp.open({ rawWindowMs: 3_600_000 });
    expect(again.samples("GPU-test-0", 0, T0 + 10 ** 7)).toEqual(before);
    expect(again.writeFrames(frames, T0 + 300_000)).toEqual({ stored: 0, duplicates: 300 });
  });

  it("reads format-1 raw blocks next to new ones", () => {
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 60_000 });
    store.writeFrames(frames, T0 + 300_000);
    store.sealAll();
    const before = store.samples("GPU-test-0", 0, T0 + 10 ** 7);
    const series = store.series("GPU-test-0", ["power_draw_watts"], T0, T0 + 300_000, 60_000);
    // Every other block back to format 1, as an older collector sealed it.
    const blocks = store.db.prepare("SELECT id, data FROM raw_blocks ORDER BY id").all() as {
      id: number;
      data: Buffer;
    }[];
    blocks.forEach((b, i) => {
      if (i % 2 === 1) return;
      const c = decodeChunk(b.data);
      const samples = Array.from({ length: c.n }, (_, k) => ({
        ts: c.ts[k] as number,
        intervalMs: c.interval[k] as number,
        state: c.state[k] as number,
        vals: Float64Array.from(c.cols, (col) => col[k] as number),
      }));
      store.db.prepare("UPDATE raw_blocks SET data = ? WHERE id = ?").run(encodeChunkV1(samples), b.id);
    });
    store.close();
    const again = tmp.open({ rawWindowMs: 60_000 });
    expect(again.samples("GPU-test-0", 0, T0 + 10 ** 7)).toEqual(before);
    expect(again.series("GPU-test-0", ["power_draw_watts"], T0, T0 + 300_000, 60_000)).toEqual(series);
  });

  it("rebuilds usage edges written as doubles (before 090) into varints at open", () => {
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 60_000 });
    store.writeFrames(frames, T0 + 300_000);
    store.sealAll();
    const range = { fromMs: T0 + 60_000, toMs: T0 + 240_000 };
    const before = store.gpuTotals(range);
    expect(before.size).toBe(2);
    // As an older collector left them: nine float64 per row, store_meta naming the steps alone.
    const rows = store.db.prepare("SELECT count(*) FROM usage_edges").pluck().get() as number;
    store.db.prepare("UPDATE usage_edges SET sums = zeroblob(72)").run();
    store.db.prepare("UPDATE store_meta SET value = '60000,3600000' WHERE key = 'usage_edges_steps'").run();
    store.close();
    const again = tmp.open({ rawWindowMs: 60_000 });
    expect(again.db.prepare("SELECT count(*) FROM usage_edges WHERE length(sums) < 72").pluck().get()).toBe(
      rows,
    );
    expect(again.gpuTotals(range)).toEqual(before);
  });
});
