// A collector that dies without a clean stop (SIGKILL, power loss) has written every flag change;
// its rule timers must agree with them when it starts again, as after a rolled-back batch.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, frame, type Harness, harness, MIN, run, sample, T0 } from "./helpers.js";

let h: Harness;
afterEach(() => cleanup(h));

/** The collector dies: the database is closed as the OS would leave it, no timers saved. */
function crashAndRestart(): Harness {
  h.db.close();
  return harness(undefined, h.dir);
}

describe("rule timers after a crash or a rolled-back batch", () => {
  it("an idle episode that switched to idle-held after the last save closes as idle-held", () => {
    h = harness();
    run(h, T0, T0 + 20 * MIN, () => [sample({ utilization_gpu_pct: 0, memory_used_mib: 0 })]);
    h.engine.tick(T0 + 20 * MIN); // timers saved: the episode is "idle"
    run(h, T0 + 20 * MIN, T0 + 25 * MIN, () => [sample({ utilization_gpu_pct: 0, memory_used_mib: 40_000 })]);
    expect(h.engine.openFlags().map((f) => f.kind)).toEqual(["idle-held"]);

    h = crashAndRestart();
    run(h, T0 + 25 * MIN, T0 + 30 * MIN, () => [
      sample({ utilization_gpu_pct: 90, memory_used_mib: 40_000 }),
    ]);

    expect(h.engine.openFlags()).toEqual([]);
    expect(h.events.filter((e) => e.type === "closed").map((e) => e.flag.kind)).toEqual(["idle-held"]);
  });

  it("an idle episode that opened and closed after the last save is not raised again over its own time", () => {
    h = harness();
    const idle = () => [sample({ utilization_gpu_pct: 0, memory_used_mib: 0 })];
    run(h, T0, T0 + 10 * MIN, idle);
    h.engine.tick(T0 + 10 * MIN); // timers saved: 10 idle minutes pending
    run(h, T0 + 10 * MIN, T0 + 16 * MIN, idle);
    run(h, T0 + 16 * MIN, T0 + 18 * MIN, () => [sample({ utilization_gpu_pct: 90, memory_used_mib: 0 })]);
    expect(h.engine.history({ kinds: ["idle"] })).toMatchObject([{ startMs: T0, endMs: T0 + 16 * MIN }]);

    h = crashAndRestart();
    run(h, T0 + 18 * MIN, T0 + 25 * MIN, idle);

    // Idle again from T0 + 18 min: not 15 minutes yet, so no second episode (let alone one from T0).
    expect(h.engine.history({ kinds: ["idle"] })).toMatchObject([{ startMs: T0, endMs: T0 + 16 * MIN }]);
  });

  it("a switch to idle-held whose transaction rolled back is redone, and the episode closes", () => {
    h = harness();
    run(h, T0, T0 + 20 * MIN, () => [sample({ utilization_gpu_pct: 0, memory_used_mib: 0 })]);
    const insert = h.store.insert.bind(h.store);
    let failures = 1;
    h.store.insert = (flag, nowMs) => {
      if (failures-- > 0) throw new Error("disk full");
      return insert(flag, nowMs);
    };
    const held = () => [sample({ utilization_gpu_pct: 0, memory_used_mib: 40_000 })];
    const t = T0 + 21 * MIN; // one minute of memory held: the episode switches here
    run(h, T0 + 20 * MIN, t, held);
    expect(() => h.engine.onFrames([frame(t, held())], t)).toThrow("disk full");
    expect(h.engine.openFlags().map((f) => f.kind)).toEqual(["idle"]);

    run(h, t + 10_000, T0 + 25 * MIN, held);
    expect(h.engine.openFlags().map((f) => f.kind)).toEqual(["idle-held"]);
    run(h, T0 + 25 * MIN, T0 + 30 * MIN, () => [
      sample({ utilization_gpu_pct: 90, memory_used_mib: 40_000 }),
    ]);
    expect(h.engine.openFlags()).toEqual([]);
  });
});
