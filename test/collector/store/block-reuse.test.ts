// A raw block's row id can come back: SQLite numbers a new row max(id) + 1, so once retention has
// deleted the newest block (a fleet silent past the raw retention), the next block gets the id
// of one that is gone. The duplicate check must then see the new block's samples, not the old.
import { afterEach, describe, expect, it } from "vitest";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

const HOUR = 3_600_000;

let tmp: TempStore;
afterEach(() => tmp?.cleanup());

describe("duplicates after retention deleted every block", () => {
  it("keeps a re-sent sample out when its block took the id of a pruned one", () => {
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 60_000, retention: ["1h:raw", "30d:1m", "2y:1h"] });
    const old = Array.from({ length: 30 }, (_, k) => frame(k + 1, T0 + k * 1000, [gpu(0, { pstate: 1 })]));
    store.writeFrames(old, T0 + 30_000);
    store.sealAll();
    // A re-sent sample of the sealed block (another boot): found in the block, stored once.
    expect(
      store.writeFrames([{ ...(old[5] as (typeof old)[number]), boot_id: "boot-2" }], T0 + 31_000),
    ).toEqual({
      stored: 0,
      duplicates: 1,
    });

    // Silent past the raw retention: the only block goes.
    const later = T0 + 3 * HOUR;
    for (let more = true; more; ) more = store.pruneStep(later).more;
    expect(store.stats().rawBlocks).toBe(0);

    const fresh = Array.from({ length: 30 }, (_, k) =>
      frame(k + 1, later + k * 1000, [gpu(0, { pstate: 2 })], { boot_id: "boot-3" }),
    );
    store.writeFrames(fresh, later + 30_000);
    store.sealAll();
    const resent = { ...(fresh[5] as (typeof fresh)[number]), boot_id: "boot-4", seq: 1 };
    expect(store.writeFrames([resent], later + 31_000)).toEqual({ stored: 0, duplicates: 1 });
    expect(store.samples("GPU-test-0", later, later + HOUR)).toHaveLength(30);
    const id = store.gpuByUuid("GPU-test-0")?.id as number;
    expect(store.gpuTotals({ fromMs: later, toMs: later + HOUR }, [id]).get(id)?.samples).toBe(30);
  });
});
