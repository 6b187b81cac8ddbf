import { afterEach, describe, expect, it } from "vitest";
import type { IGpuSample } from "../../../shared/proto.js";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

let tmp: TempStore;
afterEach(() => tmp?.cleanup());

describe("Store failures", () => {
  it("commits nothing from a batch that throws, and takes the same frames again afterwards", () => {
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 60_000 });
    store.writeFrames([frame(1, T0, [gpu(0, { utilization_gpu_pct: 10 })])], T0);
    const poisoned: IGpuSample = gpu(0);
    Object.defineProperty(poisoned, "power_draw_watts", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    const good = frame(2, T0 + 1000, [gpu(0, { utilization_gpu_pct: 20 })]);
    expect(() => store.writeFrames([good, frame(3, T0 + 2000, [poisoned])], T0 + 2000)).toThrow(
      expect.objectContaining({ code: "GPUTEL_E_STORE", message: "Store write failed: boom" }),
    );
    expect(store.samples("GPU-test-0", 0, T0 + 10_000).map((s) => s.values.utilization_gpu_pct)).toEqual([
      10,
    ]);
    expect(store.writeFrames([good], T0 + 2000)).toEqual({ stored: 1, duplicates: 0 });
    expect(store.samples("GPU-test-0", 0, T0 + 10_000).map((s) => s.values.utilization_gpu_pct)).toEqual([
      10, 20,
    ]);
    expect(
      store.series("GPU-test-0", ["utilization_gpu_pct"], T0, T0 + 60_000, 60_000).metrics
        .utilization_gpu_pct,
    ).toEqual({ min: [10], max: [20], avg: [15], last: [20], count: [2] });
  });

  it("rejects invalid tier rules before touching the file", () => {
    tmp = tempStore();
    expect(() => tmp.open({ retention: ["48h:raw", "30d:7s", "2y:1m"] })).toThrow(/not a multiple of 7s/);
  });
});

describe("aggregate", () => {
  it("groups usage and energy by site, label and model, with per-site idle thresholds", () => {
    tmp = tempStore();
    const store = tmp.open({
      // At site ams2 anything under 50 % counts as idle.
      idleThresholds: (_host, site) => ({ utilizationPct: site === "ams2" ? 50 : 5, heldMemoryMib: 1024 }),
    });
    const frames = [];
    for (let k = 0; k < 120; k++) {
      const ts = T0 + k * 1000;
      frames.push(
        frame(
          k + 1,
          ts,
          [gpu(0, { utilization_gpu_pct: 30, power_draw_watts: 100, temperature_gpu_celsius: 60 + (k % 3) })],
          {
            host: "a1",
            site: "fra1",
            labels: { customer: "acme" },
          },
        ),
        frame(
          k + 1,
          ts,
          [gpu(1, { utilization_gpu_pct: 30, power_draw_watts: 200, memory_used_mib: 5000 })],
          {
            host: "b1",
            site: "ams2",
            labels: { customer: "globex" },
          },
        ),
      );
    }
    store.writeFrames(frames, T0 + 120_000);
    store.writeInventory({ host: "a1", gpus: [{ index: 0, uuid: "GPU-test-0", name: "H100" }] }, T0);
    store.writeInventory({ host: "b1", gpus: [{ index: 1, uuid: "GPU-test-1", name: "L40S" }] }, T0);
    const bySite = store.aggregate({ fromMs: T0, toMs: T0 + 120_000, groupBy: "site" });
    expect(bySite).toEqual([
      {
        key: "ams2",
        gpus: 1,
        busyMs: 0,
        idleMs: 0,
        idleHeldMs: 120_000,
        unknownMs: 0,
        energyWh: (200 * 120) / 3600,
        energyIdleWh: (200 * 120) / 3600,
        maxTemperatureC: null,
        avgUtilizationPct: 30,
      },
      {
        key: "fra1",
        gpus: 1,
        busyMs: 120_000,
        idleMs: 0,
        idleHeldMs: 0,
        unknownMs: 0,
        energyWh: (100 * 120) / 3600,
        energyIdleWh: 0,
        maxTemperatureC: 62,
        avgUtilizationPct: 30,
      },
    ]);
    expect(
      store.aggregate({ fromMs: T0, toMs: T0 + 120_000, groupBy: { label: "customer" } }).map((g) => g.key),
    ).toEqual(["acme", "globex"]);
    expect(
      store
        .aggregate({
          fromMs: T0,
          toMs: T0 + 60_000,
          groupBy: "model",
          filters: { labels: { customer: "globex" } },
        })
        .map((g) => [g.key, g.idleHeldMs]),
    ).toEqual([["L40S", 60_000]]);
  });
});
