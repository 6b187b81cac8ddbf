import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_FLAGS_CONFIG, resolveFlagsConfig } from "../../../collector/flags/config.js";
import type { NewFlag } from "../../../collector/flags/types.js";
import { cleanup, type Harness, harness, T0 } from "./helpers.js";

let h: Harness;
afterEach(() => cleanup(h));

function flag(over: Partial<NewFlag>): NewFlag {
  return {
    kind: "idle",
    severity: "info",
    host: "node-1",
    gpuUuid: "GPU-1",
    gpuIndex: 0,
    site: "par1",
    labels: { customer: "acme" },
    startMs: T0,
    reason: "r",
    values: { utilization_gpu_pct: 0 },
    ...over,
  };
}

describe("FlagStore", () => {
  it("filters history by kind, host, site, label and time range, newest first, with bound parameters", () => {
    h = harness();
    const a = h.store.insert(flag({}), T0);
    h.store.close({ ...a, endMs: T0 + 1000, updatedMs: T0 + 1000 });
    h.store.insert(
      flag({
        kind: "overheat",
        host: "node-2",
        startMs: T0 + 5000,
        labels: { customer: "o'brien\"; DROP TABLE flags; --" },
      }),
      T0,
    );
    h.store.insert(
      flag({ kind: "stale", gpuUuid: null, gpuIndex: null, site: "ams1", startMs: T0 + 9000 }),
      T0,
    );

    expect(h.store.history({}).map((f) => f.kind)).toEqual(["stale", "overheat", "idle"]);
    expect(h.store.history({ kinds: ["idle", "stale"] })).toHaveLength(2);
    expect(h.store.history({ host: "node-2" })[0]!.kind).toBe("overheat");
    expect(h.store.history({ site: "ams1" })[0]!.gpuUuid).toBeNull();
    expect(h.store.history({ label: ["customer", "o'brien\"; DROP TABLE flags; --"] })).toHaveLength(1);
    expect(h.store.history({ label: ["customer", "acme"] })).toHaveLength(2);
    expect(h.store.history({ fromMs: T0 + 2000 }).map((f) => f.kind)).toEqual(["stale", "overheat"]);
    expect(h.store.history({ toMs: T0 + 4000 }).map((f) => f.kind)).toEqual(["idle"]);
    expect(h.store.history({ limit: 1 })).toHaveLength(1);
    expect(h.store.openFlags({ kinds: ["overheat"] })[0]!.endMs).toBeNull();
    expect(h.store.openFlags()).toHaveLength(2);
    expect(h.store.history({})[2]!.values).toEqual({ utilization_gpu_pct: 0 });
  });
});

describe("flags config", () => {
  it("reports every bad duration at once with its key path", () => {
    expect(() =>
      resolveFlagsConfig({
        ...DEFAULT_FLAGS_CONFIG,
        idle: { ...DEFAULT_FLAGS_CONFIG.idle, duration: "fifteen minutes" },
        overrides: [{ match: { site: "x" }, overheat: { clear_after: "2 min" } }],
      }),
    ).toThrow(/flags\.idle\.duration.*flags\.overrides\[0\]\.overheat\.clear_after/);
  });
});
