// A read worker that went unasked longer than the raw retention: meanwhile the writer sealed the
// samples it still holds and retention deleted their blocks. Its refresh must not keep them as
// unsealed (they are in the rollups now), or its reports count them twice.
import { afterEach, describe, expect, it } from "vitest";
import { Store } from "../../../collector/store/store.js";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

const HOUR = 3_600_000;
const OPTIONS = { rawWindowMs: 60_000, retention: ["1h:raw", "30d:1m", "2y:1h"] };

let tmp: TempStore | undefined;
let reader: Store | undefined;
afterEach(() => {
  reader?.close();
  tmp?.cleanup();
});

describe("read worker after retention", () => {
  it("answers what the writer answers once the samples it held were sealed and pruned", () => {
    tmp = tempStore();
    const writer = tmp.open(OPTIONS);
    const early = Array.from({ length: 30 }, (_, k) =>
      frame(k + 1, T0 + k * 1000, [gpu(0, { utilization_gpu_pct: 50, power_draw_watts: 200 })]),
    );
    writer.writeFrames(early, T0 + 30_000);
    reader = Store.openReader(tmp.path, OPTIONS);
    const range = { fromMs: T0, toMs: T0 + HOUR };
    const id = writer.gpuByUuid("GPU-test-0")?.id as number;
    expect(reader.read(() => reader?.gpuTotals(range).get(id)?.samples)).toBe(30);

    // Hours later: sealed, the block past the raw retention deleted, and new frames since.
    const later = T0 + 3 * HOUR;
    for (let more = true; more; ) more = writer.pruneStep(later).more;
    expect(writer.stats().rawBlocks).toBe(0);
    writer.writeFrames([frame(31, later, [gpu(0, { utilization_gpu_pct: 10 })])], later);

    expect(writer.gpuTotals(range).get(id)?.samples).toBe(30);
    expect(reader.read(() => reader?.gpuTotals(range).get(id))).toEqual(writer.gpuTotals(range).get(id));
    expect(reader.read(() => reader?.samples("GPU-test-0", T0, later + 1))).toEqual(
      writer.samples("GPU-test-0", T0, later + 1),
    );
  });
});
