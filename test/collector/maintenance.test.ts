// The periodic maintenance's retention: the tiers' steps (sealing silent GPUs' windows with their
// rollups, pruning the tiers) run every round, whatever becomes of the once-a-minute prune of
// kernel-log events and process sessions, as they did when collector/run.ts ran them.
import { describe, expect, it } from "vitest";
import { Maintenance } from "../../collector/maintenance.js";
import { silentLogger } from "../../shared/logger.js";

const T0 = 1_800_000_000_000;

/** A store whose events prune fails with `error`; counts the calls of each retention step. */
function failingEventsStore(error: Error) {
  const calls = { events: 0, steps: 0 };
  const store = {
    shortWait: <T>(fn: () => T): T => fn(),
    pruneEvents: (): number => {
      calls.events++;
      throw error;
    },
    pruneProcesses: (): number => 0,
    pruneStep: () => {
      calls.steps++;
      return { deleted: 0, more: false };
    },
  };
  return { store, calls };
}

function maintenanceOver(store: ReturnType<typeof failingEventsStore>["store"]): Maintenance {
  return new Maintenance({ store, flags: { tick: () => undefined }, logger: silentLogger() });
}

describe("the collector's periodic maintenance", () => {
  it("keeps sealing and pruning the tiers while the events' prune fails, and retries that prune a minute on", async () => {
    const { store, calls } = failingEventsStore(new Error("disk I/O error"));
    const maintenance = maintenanceOver(store);
    for (let i = 0; i < 3; i++) await maintenance.round(T0 + i * 1000);
    expect(calls.steps).toBe(3);
    expect(calls.events).toBe(1);
    await maintenance.round(T0 + 61_000);
    expect(calls.events).toBe(2);
    expect(maintenance.counters().skippedBusy.retention).toBe(0);
  });

  it("skips the round's retention when the events' prune finds the database locked, and tries it again next round", async () => {
    const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
    const { store, calls } = failingEventsStore(busy);
    const maintenance = maintenanceOver(store);
    await maintenance.round(T0);
    await maintenance.round(T0 + 1000);
    expect(calls.events).toBe(2);
    expect(calls.steps).toBe(0);
    expect(maintenance.counters().skippedBusy.retention).toBe(2);
  });
});
