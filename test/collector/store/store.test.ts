import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_MIGRATIONS_DIR, migrate } from "../../../collector/store/migrate.js";
import { AgentState, GpuState } from "../../../shared/proto.js";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

let tmp: TempStore;
afterEach(() => tmp?.cleanup());

describe("Store write and read", () => {
  it("returns exactly what went in: values, absent fields and states", () => {
    tmp = tempStore();
    const store = tmp.open();
    const r = store.writeFrames(
      [
        frame(1, T0, [
          gpu(0, {
            utilization_gpu_pct: 87,
            power_draw_watts: 512.37,
            temperature_gpu_celsius: -3,
            mig_mode: true,
          }),
          gpu(1, { state: GpuState.GPU_STATE_LOST }),
        ]),
        frame(2, T0 + 1000, [
          gpu(0, { utilization_gpu_pct: 0, clock_event_reasons: 2 ** 40 + 5 }),
          gpu(1, {}),
        ]),
      ],
      T0 + 1500,
    );
    expect(r).toEqual({ stored: 2, duplicates: 0 });
    expect(store.samples("GPU-test-0", T0, T0 + 2000)).toEqual([
      {
        ts: T0,
        intervalMs: 1000,
        state: "ok",
        values: {
          utilization_gpu_pct: 87,
          power_draw_watts: 512.37,
          temperature_gpu_celsius: -3,
          mig_mode: 1,
        },
      },
      {
        ts: T0 + 1000,
        intervalMs: 1000,
        state: "ok",
        values: { utilization_gpu_pct: 0, clock_event_reasons: 2 ** 40 + 5 },
      },
    ]);
    expect(store.samples("GPU-test-1", T0, T0 + 2000).map((s) => [s.state, s.values])).toEqual([
      ["lost", {}],
      ["ok", {}],
    ]);
    const latest = store.latest().find((g) => g.uuid === "GPU-test-0");
    expect(latest).toMatchObject({ host: "node-a", site: "fra1", labels: { customer: "acme" }, state: "ok" });
    expect(latest?.values).toEqual({ utilization_gpu_pct: 0, clock_event_reasons: 2 ** 40 + 5 });
    // Only the readings asked for; an absent one stays absent.
    const some = store.latest(["utilization_gpu_pct", "power_draw_watts", "mig_mode"]);
    expect(some.find((g) => g.uuid === "GPU-test-0")).toMatchObject({
      host: "node-a",
      state: "ok",
      values: { utilization_gpu_pct: 0 },
    });
    expect(some.find((g) => g.uuid === "GPU-test-0")?.values).toEqual({ utilization_gpu_pct: 0 });
    expect(some.find((g) => g.uuid === "GPU-test-1")?.values).toEqual({});
    expect(() => store.latest(["no_such_metric" as "mig_mode"])).toThrow(RangeError);
    expect(store.hostStatuses()).toEqual([expect.any(String)]);
    expect(store.frameCount()).toBe(2);
  });

  it("stores a frame delivered twice once (same seq, or same GPU and timestamp)", () => {
    tmp = tempStore();
    const store = tmp.open();
    const f = frame(1, T0, [gpu(0, { utilization_gpu_pct: 50 })]);
    expect(store.writeFrames([f, f], T0)).toEqual({ stored: 1, duplicates: 1 });
    expect(store.writeFrames([f], T0)).toEqual({ stored: 0, duplicates: 1 });
    // A new boot resending the same sample (same GPU, same timestamp) is still one sample.
    expect(store.writeFrames([{ ...f, boot_id: "boot-2" }], T0)).toEqual({ stored: 0, duplicates: 1 });
    expect(store.samples("GPU-test-0", 0, T0 + 1)).toHaveLength(1);
    expect(store.stats().samplesStored).toBe(1);
  });

  it("keeps duplicates out after a seal and after a reopen", () => {
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 60_000 });
    const frames = Array.from({ length: 150 }, (_, k) =>
      frame(k + 1, T0 + k * 1000, [gpu(0, { pstate: k % 3 })]),
    );
    store.writeFrames(frames, T0 + 150_000);
    const again = tmp.open({ rawWindowMs: 60_000 });
    expect(again.writeFrames(frames, T0 + 150_000)).toEqual({ stored: 0, duplicates: 150 });
    const other = frames.map((f) => ({ ...f, boot_id: "boot-2" }));
    expect(again.writeFrames(other, T0 + 150_000)).toEqual({ stored: 0, duplicates: 150 });
    expect(again.samples("GPU-test-0", 0, T0 + 10 ** 7).map((s) => s.values.pstate)).toEqual(
      frames.map((_, k) => k % 3),
    );
  });

  it("loses nothing committed when the process dies without sealing", () => {
    tmp = tempStore();
    const first = tmp.open({ rawWindowMs: 60_000 });
    const frames = Array.from({ length: 90 }, (_, k) =>
      frame(k + 1, T0 + k * 1000, [
        gpu(0, { power_draw_watts: 100 + k / 100 }),
        gpu(1, { utilization_gpu_pct: k }),
      ]),
    );
    for (let i = 0; i < frames.length; i += 7) first.writeFrames(frames.slice(i, i + 7), T0 + 100_000);
    const before = first.samples("GPU-test-0", 0, T0 + 10 ** 7);
    const seriesBefore = first.series("GPU-test-1", ["utilization_gpu_pct"], T0, T0 + 120_000, 60_000);
    expect(first.stats().recentRows).toBeGreaterThan(0);
    // A second handle on the same file sees only what is on disk (the first never sealed nor closed).
    const second = tmp.open({ rawWindowMs: 60_000 });
    expect(second.samples("GPU-test-0", 0, T0 + 10 ** 7)).toEqual(before);
    expect(before).toHaveLength(90);
    expect(second.series("GPU-test-1", ["utilization_gpu_pct"], T0, T0 + 120_000, 60_000)).toEqual(
      seriesBefore,
    );
    expect(second.latest().find((g) => g.uuid === "GPU-test-1")?.values.utilization_gpu_pct).toBe(89);
  });

  it("restores no sealed sample on reopen when a later raw_recent row holds an older one", () => {
    // GPU 1 stays unsealed (its window is the one of +1000 s), so the rows it shares with GPU 0
    // stay in raw_recent after GPU 0 sealed their samples. Row 2 holds GPU 0 at +200 s; row 3,
    // later, holds it at +10 s (a late frame), sealed alone in a block that ends before +200 s:
    // a restore must read that block too, not only those from +200 s on.
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 60_000 });
    let seq = 0;
    const at = (ts: number, gpus: number[]) =>
      frame(
        ++seq,
        T0 + ts,
        gpus.map((i) => gpu(i, { fan_speed_pct: ts % 97 })),
      );
    store.writeFrames([at(1_000_000, [1])], T0 + 1_000_000);
    store.writeFrames([at(200_000, [0, 1])], T0 + 200_000);
    for (let t = 201_000; t <= 300_000; t += 1000) store.writeFrames([at(t, [0])], T0 + t);
    store.sealStale(T0 + 900_000);
    store.writeFrames([at(10_000, [0, 1])], T0 + 900_000);
    store.sealStale(T0 + 900_000);
    const blocks = store.db
      .prepare("SELECT start_ms - ? AS s, end_ms - ? AS e FROM raw_blocks ORDER BY start_ms")
      .all(T0, T0);
    expect(blocks[0]).toEqual({ s: 10_000, e: 10_000 });
    expect(store.stats().recentRows).toBe(3 + 100);
    const before = store.samples("GPU-test-0", 0, T0 + 10 ** 7);
    expect(before.map((s) => s.ts - T0).slice(0, 3)).toEqual([10_000, 200_000, 201_000]);
    const again = tmp.open({ rawWindowMs: 60_000 });
    expect(again.samples("GPU-test-0", 0, T0 + 10 ** 7)).toEqual(before);
    expect(again.samples("GPU-test-1", 0, T0 + 10 ** 7).map((s) => s.ts - T0)).toEqual([
      10_000, 200_000, 1_000_000,
    ]);
  });

  it("accepts a replay interleaved with live frames, without loss", () => {
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 60_000, maxBlockSamples: 50 });
    const all = Array.from({ length: 400 }, (_, k) =>
      frame(k + 1, T0 + k * 1000, [gpu(0, { fan_speed_pct: k % 101 })]),
    );
    // Live frames from 300 on; the backlog (0..299) arrives oldest first between them.
    const live = all.slice(300);
    const backlog = all.slice(0, 300);
    for (let i = 0; i < 100; i++) {
      store.writeFrames([live[i]!, ...backlog.slice(i * 3, i * 3 + 3)], T0 + 400_000);
    }
    const got = store.samples("GPU-test-0", 0, T0 + 10 ** 7);
    expect(got.map((s) => s.ts)).toEqual(all.map((f) => f.timestamp_ms));
    expect(got.map((s) => s.values.fan_speed_pct)).toEqual(all.map((_, k) => k % 101));
  });

  it("records inventory history when a GPU moves host or gets a new driver", () => {
    tmp = tempStore();
    const store = tmp.open();
    const inv = (host: string, driver: string, at: number) => ({
      host,
      timestamp_ms: at,
      driver_version: driver,
      site: "fra1",
      gpus: [{ index: 0, uuid: "GPU-x", name: "NVIDIA H100 80GB HBM3", serial: "1", vbios_version: "96.00" }],
    });
    store.writeInventory(inv("node-a", "550.1", T0), T0);
    store.writeInventory(inv("node-a", "550.1", T0 + 10), T0 + 10);
    store.writeInventory(inv("node-a", "560.2", T0 + 20), T0 + 20);
    store.writeInventory(inv("node-b", "560.2", T0 + 30), T0 + 30);
    const rows = store.db
      .prepare(
        "SELECT h.name AS host, i.driver_version AS driver, i.valid_from_ms AS f, i.valid_to_ms AS t FROM gpu_inventory i JOIN hosts h ON h.id = i.host_id ORDER BY i.id",
      )
      .all();
    expect(rows).toEqual([
      { host: "node-a", driver: "550.1", f: T0, t: T0 + 20 },
      { host: "node-a", driver: "560.2", f: T0 + 20, t: T0 + 30 },
      { host: "node-b", driver: "560.2", f: T0 + 30, t: null },
    ]);
    expect(store.latest()).toMatchObject([{ uuid: "GPU-x", host: "node-b", model: "NVIDIA H100 80GB HBM3" }]);
  });

  it("records status and counts rejects", () => {
    tmp = tempStore();
    const store = tmp.open({ now: () => T0 + 42 });
    store.writeStatus(
      { host: "node-a", state: AgentState.AGENT_STATE_OFFLINE, reason: "connection lost", timestamp_ms: T0 },
      T0,
    );
    store.countReject("node-a", "bad_topic");
    store.countReject("node-a", "bad_topic", 2);
    store.countReject("node-b", "decode");
    expect(store.hostRows()).toMatchObject([
      { name: "node-a", status: "offline", status_reason: "connection lost" },
    ]);
    // node-b is no host the store knows: counted under "-", so invented hosts add no rows (issue 13).
    expect(store.rejectCounts()).toEqual([
      { host: "-", reason: "decode", count: 1, lastMs: T0 + 42 },
      { host: "node-a", reason: "bad_topic", count: 3, lastMs: T0 + 42 },
    ]);
  });
});

describe("retention", () => {
  it("prunes exactly the raw blocks and buckets past their retention, in bounded steps", () => {
    tmp = tempStore();
    // A step stops once its time budget is spent: a fake clock advancing 1 ms per reading.
    let fake = 0;
    const clock = () => ++fake;
    const store = tmp.open({
      retention: ["10m:raw", "30m:1m", "2h:1h"],
      rawWindowMs: 60_000,
      pruneBatch: 3,
      clock,
    });
    const frames = Array.from({ length: 3600 }, (_, k) =>
      frame(k + 1, T0 + k * 1000, [gpu(0, { utilization_gpu_pct: 50 })]),
    );
    for (let i = 0; i < frames.length; i += 60)
      store.writeFrames(frames.slice(i, i + 60), T0 + i * 1000 + 60_000);
    store.sealAll();
    const now = T0 + 3600_000;
    let steps = 0;
    let most = 0;
    for (let more = true; more; steps++) {
      const r = store.pruneStep(now);
      more = r.more;
      most = Math.max(most, r.deleted);
    }
    expect(steps).toBeGreaterThan(2);
    // At most 15 readings of the budget clock per step, one DELETE batch of 3 rows each.
    expect(most).toBeLessThanOrEqual(15 * 3);
    const left = store.db.prepare("SELECT min(end_ms) AS e FROM raw_blocks").get() as { e: number };
    expect(left.e).toBeGreaterThanOrEqual(now - 600_000);
    const got = store.samples("GPU-test-0", 0, now);
    // Blocks are one minute each here: every sample at or after the cutoff's block is kept.
    expect(got[0]!.ts).toBeGreaterThan(now - 600_000 - 60_000);
    expect(got[0]!.ts).toBeLessThanOrEqual(now - 600_000);
    expect(got.at(-1)!.ts).toBe(T0 + 3599_000);
    const minute = store.db
      .prepare("SELECT min(bucket_ms) AS b, count(*) AS n FROM rollups WHERE step_ms = 60000")
      .get();
    expect(minute).toEqual({ b: now - 1_800_000, n: 30 });
    expect(store.db.prepare("SELECT count(*) AS n FROM rollups WHERE step_ms = 3600000").get()).toEqual({
      n: 1,
    });
    expect(store.stats().samplesStored).toBe(got.length);
  });

  it("feeds a replay older than the raw retention to the rollup tiers only", () => {
    tmp = tempStore();
    const store = tmp.open();
    const old = T0 - 3 * 86_400_000;
    const frames = Array.from({ length: 120 }, (_, k) =>
      frame(k + 1, old + k * 1000, [gpu(0, { utilization_gpu_pct: 90, power_draw_watts: 360 })]),
    );
    expect(store.writeFrames(frames, T0)).toEqual({ stored: 120, duplicates: 0 });
    store.sealAll();
    expect(store.samples("GPU-test-0", 0, T0)).toEqual([]);
    expect(store.stats()).toMatchObject({ rawBlocks: 0, recentRows: 0, samplesStored: 0 });
    const s = store.series("GPU-test-0", ["utilization_gpu_pct"], old, old + 120_000, 60_000);
    expect(s.tier).toBe("1m");
    expect(s.metrics.utilization_gpu_pct?.avg).toEqual([90, 90]);
    const [g] = store.aggregate({ fromMs: old, toMs: old + 120_000, groupBy: "gpu" });
    expect(g).toMatchObject({ key: "GPU-test-0", busyMs: 120_000, energyWh: 12, avgUtilizationPct: 90 });
  });
});

describe("migrations", () => {
  it("applies every NNN_*.sql once, in numeric order, recording versions", () => {
    tmp = tempStore();
    const dir = join(tmp.dir, "migrations");
    mkdirSync(dir);
    for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR))
      copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(dir, f));
    writeFileSync(join(dir, "900_extra.sql"), "CREATE TABLE extra (id INTEGER PRIMARY KEY);");
    writeFileSync(join(dir, "README.md"), "not a migration");
    const db = new Database(join(tmp.dir, "m.db"));
    const first = migrate(db, dir);
    expect(first.at(-1)).toBe(900);
    expect(first).toEqual([...first].sort((a, b) => a - b));
    expect(migrate(db, dir)).toEqual([]);
    writeFileSync(join(dir, "901_more.sql"), "ALTER TABLE extra ADD COLUMN name TEXT;");
    expect(migrate(db, dir)).toEqual([901]);
    db.close();
  });
});
