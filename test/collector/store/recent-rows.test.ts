// raw_recent rows go once nothing in them is unsealed (issue 19: one watermark per GPU instead of
// a row map per GPU), and not before: a restart still finds every unsealed sample.
import { afterEach, describe, expect, it } from "vitest";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

let tmp: TempStore | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

describe("raw_recent rows", () => {
  it("stay while a sample in them is unsealed and go when every GPU has sealed past them", () => {
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 60_000 });
    const count = () => (store.db.prepare("SELECT count(*) AS n FROM raw_recent").get() as { n: number }).n;
    // Two GPUs, one batch (one row) per second for 3 minutes: windows seal as minutes pass.
    for (let k = 0; k < 180; k++) {
      store.writeFrames([frame(k + 1, T0 + k * 1000, [gpu(0), gpu(1)])], T0 + k * 1000 + 50);
    }
    const rows = count();
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(130); // the sealed minutes' rows are gone
    const before = store.samples("GPU-test-1", 0, T0 + 10 ** 7);
    store.close();
    const again = tmp.open({ rawWindowMs: 60_000 });
    expect(again.samples("GPU-test-1", 0, T0 + 10 ** 7)).toEqual(before);
    expect(before).toHaveLength(180);
    again.sealAll();
    expect((again.db.prepare("SELECT count(*) AS n FROM raw_recent").get() as { n: number }).n).toBe(0);
  });
});
