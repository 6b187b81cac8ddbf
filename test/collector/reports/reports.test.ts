import { afterEach, describe, expect, it } from "vitest";
import type { Flag } from "../../../collector/flags/types.js";
import {
  capacityReport,
  energyReport,
  fleetReport,
  thermalReport,
  utilizationReport,
} from "../../../collector/reports/reports.js";
import { buildThermalReport } from "../../../collector/reports/thermal-report.js";
import type { GpuUsage } from "../../../collector/reports/types.js";
import type { Store } from "../../../collector/store/store.js";
import { rangePieces } from "../../../collector/store/store-aggregate.js";
import { busy, HOUR, idle, lost, MIN, STEP, T0, tempStore, writeSpan } from "./helpers.js";

const A = { name: "node-a", site: "fra1", labels: { customer: "acme" } };
const B = { name: "node-b", site: "ams2", labels: { customer: "beta" } };

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/**
 * One hour from T0. node-a (3 H100): busy at 300 W, idle at 60 W, idle-held at 100 W.
 * node-b (3 L40S): busy at 200 W for the first half hour then silent, lost all hour, and one
 * that never sent anything.
 */
function fleet(): Store {
  const t = tempStore();
  const store = t.open();
  cleanup = t.cleanup;
  const inv = (h: typeof A, model: string, uuids: string[], at: number) =>
    store.writeInventory(
      {
        host: h.name,
        site: h.site,
        labels: h.labels,
        gpus: uuids.map((uuid, index) => ({ index, uuid, name: model })),
      },
      at,
    );
  inv(A, "NVIDIA H100 80GB HBM3", ["a0", "a1", "a2"], T0);
  inv(B, "NVIDIA L40S", ["b0", "b1", "b2"], T0);
  writeSpan(store, A, T0, T0 + HOUR, () => [
    busy("a0", 0, 80, 300),
    idle("a1", 1, 60, false),
    idle("a2", 2, 100, true),
  ]);
  writeSpan(store, B, T0, T0 + HOUR, (ts) => [
    ...(ts < T0 + HOUR / 2 ? [busy("b0", 0, 50, 200)] : []),
    lost("b1", 1),
  ]);
  return store;
}

describe("utilization report", () => {
  it("counts busy, idle, idle-held and unknown GPU-hours exactly; unknown is never idle or busy", () => {
    const store = fleet();
    const r = utilizationReport(
      { store, now: () => T0 + 2 * HOUR },
      { fromMs: T0, toMs: T0 + HOUR, groupBy: "site" },
    );
    expect(r.total).toEqual({
      key: "total",
      gpus: 6,
      busyGpuHours: 1.5,
      idleGpuHours: 1,
      idleHeldGpuHours: 1,
      unknownGpuHours: 2.5,
      unknownReportedGpuHours: 1,
      noDataGpuHours: 1.5,
      utilizationRate: 1.5 / 3.5,
      utilizationRateIncludingUnknown: 1.5 / 6,
    });
    expect(
      r.groups.map((g) => [g.key, g.gpus, g.busyGpuHours, g.unknownGpuHours, g.utilizationRate]),
    ).toEqual([
      ["ams2", 3, 0.5, 2.5, 1],
      ["fra1", 3, 1, 0, 1 / 3],
    ]);
    expect(r.groupBy).toBe("site");
  });

  it("groups by label, model, host and GPU", () => {
    const store = fleet();
    const src = { store, now: () => T0 + 2 * HOUR };
    const range = { fromMs: T0, toMs: T0 + HOUR };
    const byLabel = utilizationReport(src, { ...range, groupBy: { label: "customer" } });
    expect(byLabel.groupBy).toBe("label:customer");
    expect(byLabel.groups.map((g) => [g.key, g.gpus])).toEqual([
      ["acme", 3],
      ["beta", 3],
    ]);
    const byModel = utilizationReport(src, { ...range, groupBy: "model" });
    expect(byModel.groups.map((g) => [g.key, g.utilizationRate])).toEqual([
      ["NVIDIA H100 80GB HBM3", 1 / 3],
      ["NVIDIA L40S", 1],
    ]);
    const byGpu = utilizationReport(src, { ...range, groupBy: "gpu", filters: { host: "node-b" } });
    expect(
      byGpu.groups.map((g) => [g.key, g.noDataGpuHours, g.unknownReportedGpuHours, g.utilizationRate]),
    ).toEqual([
      ["b0", 0.5, 0, 1],
      ["b1", 0, 1, null],
      ["b2", 1, 0, null],
    ]);
  });

  it("counts no time after now and none before a GPU joined; widens edges to whole minutes", () => {
    const store = fleet();
    store.writeInventory(
      { host: B.name, gpus: [{ index: 3, uuid: "b3", name: "NVIDIA L40S" }] },
      T0 + HOUR / 2,
    );
    const r = utilizationReport(
      { store, now: () => T0 + HOUR },
      { fromMs: T0 + 30_000, toMs: T0 + 2 * HOUR - 30_000, groupBy: "gpu" },
    );
    expect([r.fromMs, r.toMs]).toEqual([T0, T0 + 2 * HOUR]);
    const by = new Map(r.groups.map((g) => [g.key, g]));
    expect(by.get("b2")?.noDataGpuHours).toBe(1); // the second hour has not happened yet
    expect(by.get("b3")?.noDataGpuHours).toBe(0.5); // joined half way
  });

  it("attributes a GPU that moved host to each host for its own stretch", () => {
    const store = fleet();
    store.writeInventory(
      {
        host: B.name,
        site: B.site,
        labels: B.labels,
        gpus: [{ index: 5, uuid: "a0", name: "NVIDIA H100 80GB HBM3" }],
      },
      T0 + HOUR,
    );
    writeSpan(store, { ...B, boot: "boot-2" }, T0 + HOUR, T0 + 2 * HOUR, () => [idle("a0", 5, 70, false)]);
    const r = utilizationReport(
      { store, now: () => T0 + 2 * HOUR },
      { fromMs: T0, toMs: T0 + 2 * HOUR, groupBy: "host", filters: { uuid: "a0" } },
    );
    expect(r.groups.map((g) => [g.key, g.gpus, g.busyGpuHours, g.idleGpuHours, g.noDataGpuHours])).toEqual([
      ["node-a", 1, 1, 0, 0],
      ["node-b", 1, 0, 1, 0],
    ]);
    expect(r.total.gpus).toBe(1);
  });

  it("reads days, hours and minutes from their own tiers and matches the samples", () => {
    const t = tempStore();
    cleanup = t.cleanup;
    const store = t.open({ retention: ["48h:raw", "30d:1m", "2y:1h", "2y:1d"] });
    const from = T0 + 17 * MIN;
    const to = T0 + 50 * HOUR + 17 * MIN;
    expect(rangePieces([MIN, HOUR, 24 * HOUR], from, to)).toEqual([
      { tier: 2, from: T0 + 24 * HOUR, to: T0 + 48 * HOUR },
      { tier: 1, from: T0 + HOUR, to: T0 + 24 * HOUR },
      { tier: 0, from, to: T0 + HOUR },
      { tier: 1, from: T0 + 48 * HOUR, to: T0 + 50 * HOUR },
      { tier: 0, from: T0 + 50 * HOUR, to },
    ]);
    // Busy in even hours; [from, to) holds samples only from T0 + 17 min on.
    writeSpan(store, A, T0, T0 + 51 * HOUR, (ts) => [
      Math.floor((ts - T0) / HOUR) % 2 === 0 ? busy("a0", 0, 90, 400) : idle("a0", 0, 50, false),
    ]);
    store.sealAll();
    let busyMs = 0;
    let wh = 0;
    for (let ts = T0 + STEP / 2; ts < to; ts += STEP) {
      const isBusy = Math.floor((ts - T0) / HOUR) % 2 === 0;
      if (ts < T0 + 17 * MIN) continue;
      if (isBusy) busyMs += STEP;
      wh += ((isBusy ? 400 : 50) * STEP) / HOUR;
    }
    const src = { store, now: () => to };
    const u = utilizationReport(src, { fromMs: from, toMs: to, groupBy: "site" });
    expect(u.total.busyGpuHours).toBeCloseTo(busyMs / HOUR, 9);
    expect(u.total.noDataGpuHours).toBe(0);
    expect(energyReport(src, { fromMs: from, toMs: to, groupBy: "site" }).total.energyKwh).toBeCloseTo(
      wh / 1000,
      9,
    );
  });
});

describe("energy report", () => {
  it("sums kWh and kWh spent idle or idle-held", () => {
    const store = fleet();
    const r = energyReport({ store, now: () => T0 + HOUR }, { fromMs: T0, toMs: T0 + HOUR, groupBy: "site" });
    expect(r.total.energyKwh).toBeCloseTo(0.56, 12);
    expect(r.total.idleEnergyKwh).toBeCloseTo(0.16, 12);
    expect(r.total.wastedShare).toBeCloseTo(0.16 / 0.56, 12);
    expect(r.groups.map((g) => [g.key, g.energyKwh])).toEqual([
      ["ams2", expect.closeTo(0.1, 12)],
      ["fra1", expect.closeTo(0.46, 12)],
    ]);
  });
});

describe("thermal report", () => {
  const flag = (over: Partial<Flag>): Flag => ({
    id: 1,
    kind: "overheat",
    severity: "warning",
    host: "node-a",
    gpuUuid: "a0",
    gpuIndex: 0,
    site: "fra1",
    labels: { customer: "acme" },
    startMs: T0,
    endMs: null,
    reason: "",
    values: {},
    updatedMs: T0,
    ...over,
  });

  it("clips flag episodes to the range, runs open ones up to now, and ranks the hottest GPUs", () => {
    const store = fleet();
    const flags = [
      flag({ id: 1, startMs: T0 - 10 * MIN, endMs: T0 + 20 * MIN }),
      flag({
        id: 2,
        kind: "throttled",
        gpuUuid: "a1",
        startMs: T0 + 50 * MIN,
        values: { throttled_ms: 10 * MIN },
      }),
      flag({ id: 3, kind: "idle", gpuUuid: "a1", startMs: T0 }),
    ];
    const r = thermalReport(
      { store, flags: { history: () => flags }, now: () => T0 + 90 * MIN },
      { fromMs: T0, toMs: T0 + HOUR, groupBy: "gpu", top: 2 },
    );
    expect(r.total.overheatGpuHours).toBeCloseTo(20 / 60, 12);
    expect(r.total.throttledGpuHours).toBeCloseTo(10 / 60, 12);
    // 10 minutes lost over a 40-minute episode, a quarter of it inside the range.
    expect(r.total.throttleGpuMinutesLost).toBeCloseTo(2.5, 12);
    expect(r.groups.find((g) => g.key === "a0")?.overheatEpisodes).toBe(1);
    expect(r.hottest).toEqual([
      { uuid: "a0", host: "node-a", index: 0, model: "NVIDIA H100 80GB HBM3", maxTemperatureC: 60 },
      { uuid: "b0", host: "node-b", index: 0, model: "NVIDIA L40S", maxTemperatureC: 60 },
    ]);
  });
});

describe("thermal report's hottest GPUs", () => {
  it("ranks GPUs of equal temperature by UUID, whatever order the rows come in", () => {
    const row = (uuid: string, maxTemperatureC: number, gpuId: number): GpuUsage => ({
      gpuId,
      uuid,
      model: "NVIDIA L40S",
      host: "node-a",
      site: "fra1",
      labels: {},
      periodMs: HOUR,
      busyMs: 0,
      idleMs: 0,
      idleHeldMs: 0,
      unknownReportedMs: 0,
      noDataMs: HOUR,
      energyWh: 0,
      energyIdleWh: 0,
      maxTemperatureC,
    });
    const rows = [row("c", 70, 0), row("a", 70, 1), row("b", 80, 2)];
    const hottest = (list: GpuUsage[]) =>
      buildThermalReport(
        { fromMs: T0, toMs: T0 + HOUR, nowMs: T0 + HOUR },
        "site",
        {},
        list,
        [],
        3,
      ).hottest.map((h) => h.uuid);
    expect(hottest(rows)).toEqual(["b", "a", "c"]);
    expect(hottest([...rows].reverse())).toEqual(["b", "a", "c"]);
  });
});

describe("capacity report", () => {
  it("states installed and used PFLOPS per model from the capacity table", () => {
    const store = fleet();
    const r = capacityReport(
      { store, now: () => T0 + HOUR },
      { fromMs: T0, toMs: T0 + HOUR, groupBy: "site" },
    );
    const h100 = r.total.models.find((m) => m.tableModel === "H100 SXM");
    expect(h100?.gpus).toBe(3);
    expect(h100?.installedPflops).toBeCloseTo(3 * 0.9894, 9);
    expect(h100?.usedPflops).toBeCloseTo(0.9894, 9);
    const l40s = r.total.models.find((m) => m.tableModel === "L40S");
    expect(l40s?.installedPflops).toBeCloseTo(3 * 0.36205, 9);
    expect(l40s?.usedPflops).toBeCloseTo(3 * 0.36205, 9); // busy whenever known
    expect(r.total.installedPflops).toBeCloseTo(3 * 0.9894 + 3 * 0.36205, 9);
    expect(r.unknownModels).toEqual([]);
    expect(r.groups.map((g) => g.key)).toEqual(["ams2", "fra1"]);
  });

  it("refuses unknown report kinds and bad ranges", () => {
    const store = fleet();
    expect(() => fleetReport("nope", { store }, { fromMs: T0, toMs: T0 + HOUR, groupBy: "site" })).toThrow(
      /Unknown report/,
    );
    expect(() => fleetReport("energy", { store }, { fromMs: T0, toMs: T0, groupBy: "site" })).toThrow(
      /Bad report range/,
    );
  });
});
