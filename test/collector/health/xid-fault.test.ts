// Whose fault an xid flag's episode is (the hardware's or the workload's) is fixed by the Xid that
// opened it and never changed by a later one: a hardware episode counts as down time (statements,
// the tenants view, the downtime report: reports/down-time.ts), a workload one does not, so a
// later Xid of the other kind must not rewrite the episode's past. Fault classes are NVIDIA's
// (test/fixtures/xid/): 48 (double-bit ECC error) and 79 (fallen off the bus) are the hardware's,
// 13 (graphics engine exception) and 31 (GPU memory page fault) the workload's.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { XID_QUIET_MS } from "../../../collector/flags/rules/xid.js";
import { LeaseService } from "../../../collector/leases/service.js";
import { DownFlags } from "../../../collector/reports/down-time.js";
import { ACME, GPU, statementDownMs, tenantApp } from "../../security/tenant-app.js";
import { xidEvent } from "./events.js";
import { type FlagHarness, flagHarness, HOST, INTERVAL, inventory, MIN, T0, UUID } from "./flag-harness.js";

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

/** Xid `code` logged at T0 + `min` minutes and received then. */
function xidAt(harness: FlagHarness, min: number, code: number): void {
  harness.clock.now = T0 + min * MIN;
  harness.xid([xidEvent(min * 60 + 1, code, { time_ms: T0 + min * MIN })]);
}

/** The GPU's down stretches from its xid flags, as every availability figure reads them from the store. */
function xidDownOf(harness: FlagHarness, nowMs: number): [number, number][] {
  const flags = harness.store.flagStore().history({ fromMs: T0, toMs: nowMs, limit: 100 });
  return DownFlags.of(flags, ["xid"])
    .gpuStretches(UUID, T0, nowMs, nowMs)
    .map((s) => [s.fromMs, s.toMs]);
}

describe("an xid flag's fault", () => {
  it("a workload Xid on a hardware Xid's flag is counted, and the flag stays the hardware's", () => {
    h = flagHarness();
    xidAt(h, 1, 79);
    const opened = h.open("xid");
    xidAt(h, 3, 79);
    xidAt(h, 5, 31);
    expect(h.history("xid")).toHaveLength(1);
    const flag = h.open("xid");
    expect(flag).toMatchObject({
      id: opened?.id,
      severity: "critical",
      startMs: T0 + MIN,
      reason: opened?.reason,
    });
    expect(flag?.values).toMatchObject({
      code: 79,
      mnemonic: "ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS",
      action: "reboot",
      fault: "hardware",
      count: 3,
      last_code: 31,
      last_ms: T0 + 5 * MIN,
      // The last Xid of the flag's fault, the hardware's: the workload's is only counted.
      fault_last_ms: T0 + 3 * MIN,
    });
    // Down from the first hardware Xid to the last (before 2026-12-07: to now while open).
    expect(xidDownOf(h, T0 + 10 * MIN)).toEqual([[T0 + MIN, T0 + 3 * MIN]]);
  });

  it("a hardware Xid on a workload Xid's flag, of no higher severity, closes it and opens the hardware's from then", () => {
    h = flagHarness();
    xidAt(h, 1, 13);
    xidAt(h, 5, 48); // both "warning": an update before, which made the whole episode the hardware's
    xidAt(h, 7, 48);
    const [hardware, workload] = h.history("xid");
    expect(workload).toMatchObject({
      startMs: T0 + MIN,
      endMs: T0 + 5 * MIN,
      values: { code: 13, fault: "workload" },
    });
    expect(hardware).toMatchObject({
      startMs: T0 + 5 * MIN,
      endMs: null,
      severity: "warning",
      values: { code: 48, fault: "hardware", count: 2 },
    });
    expect(hardware?.reason).toContain("Xid 48");
    expect(xidDownOf(h, T0 + 10 * MIN)).toEqual([[T0 + 5 * MIN, T0 + 7 * MIN]]);
  });

  it.each([false, true])(
    "a hardware Xid's flag closes a quiet spell after its last hardware Xid: workload Xids do not hold it (restart: %s)",
    (restart) => {
      h = flagHarness();
      xidAt(h, 1, 48);
      xidAt(h, 2, 48);
      xidAt(h, 10, 13);
      let quietFrom = T0 + 2 * MIN;
      if (restart) {
        h = h.restart();
        quietFrom = T0 + 11 * MIN; // the collector's own downtime is not quiet
        h.engine.receiving(quietFrom);
      }
      h.engine.tick(quietFrom + XID_QUIET_MS);
      const [flag] = h.history("xid");
      expect(flag).toMatchObject({ endMs: T0 + 2 * MIN, values: { code: 48, fault: "hardware", count: 3 } });
      expect(flag?.reason).toContain(`(no hardware Xid since ${new Date(T0 + 2 * MIN).toISOString()})`);
      expect(xidDownOf(h, T0 + 60 * MIN)).toEqual([[T0 + MIN, T0 + 2 * MIN]]);
    },
  );
});

/**
 * acme leases the GPU from T0 on, which reports every 100 s for an hour; each Xid [minute, code]
 * in turn; the app asks at the harness's clock.
 */
function leasedGpu(xids: readonly (readonly [number, number])[]): {
  harness: FlagHarness;
  app: FastifyInstance;
} {
  h = flagHarness();
  const harness = h;
  harness.store.writeInventory(inventory(HOST, T0, [GPU]), T0);
  for (let t = T0; t < T0 + 60 * MIN; t += 10 * INTERVAL) harness.frame(t, {});
  for (const [minute, code] of xids) xidAt(harness, minute, code);
  const now = () => harness.clock.now;
  const leases = new LeaseService(harness.store.leases, now);
  leases.create({ id: "acme-1", device: UUID, tenant: "acme", start: T0 }, "test");
  app = tenantApp(harness, leases, now, "xid-fault-admin-token-0123456789", ACME);
  return { harness, app };
}

describe("a statement's down time from Xids of both kinds", () => {
  /** The statement at 25 min of leasedGpu(xids). */
  async function billedDown(xids: readonly (readonly [number, number])[]): Promise<number> {
    const { harness, app: a } = leasedGpu(xids);
    harness.clock.now = T0 + 25 * MIN;
    return statementDownMs(a, harness.clock.now);
  }

  it("bills a hardware Xid's episode down although a workload Xid followed", async () => {
    // Down from the first hardware Xid to the last: the workload's neither ends nor extends it.
    expect(
      await billedDown([
        [10, 48],
        [15, 48],
        [20, 13],
      ]),
    ).toBe(5 * MIN);
  });

  it("bills a workload Xid's episode up to the hardware Xid that followed it as up", async () => {
    expect(
      await billedDown([
        [10, 13],
        [20, 48],
        [22, 48],
      ]),
    ).toBe(2 * MIN);
  });
});

// An Xid whose NVIDIA immediate resolution is IGNORE (action none: 63, a row-remapping event; 92,
// a high single-bit ECC rate) is the hardware's but leaves the GPU working: its episode is not
// down time, as the health report's hardware Xids leave it out (shared/xid/xid.ts
// isHardwareXid). Before, an episode of Xid 92s every 10 minutes for an hour billed the hour.
describe("an Xid NVIDIA says to ignore", () => {
  /** The Xid `code` every 10 minutes from T0 to T0 + 60 min; the statement at 65 min. */
  async function hourOf(code: number): Promise<{ billed: number; xidDown: [number, number][] }> {
    const { harness, app: a } = leasedGpu([0, 10, 20, 30, 40, 50, 60].map((m) => [m, code] as const));
    harness.clock.now = T0 + 65 * MIN;
    expect(harness.open("xid")?.values).toMatchObject({ code, fault: "hardware", count: 7 });
    return {
      billed: await statementDownMs(a, harness.clock.now),
      xidDown: xidDownOf(harness, harness.clock.now),
    };
  }

  it.each([63, 92])("Xid %i every 10 minutes for an hour bills no down time", async (code) => {
    expect(await hourOf(code)).toEqual({ billed: 0, xidDown: [] });
  });

  it("Xid 48 (investigate) every 10 minutes for an hour bills the hour", async () => {
    expect(await hourOf(48)).toEqual({ billed: 60 * MIN, xidDown: [[T0, T0 + 60 * MIN]] });
  });

  it("Xid 79 (reboot) every 10 minutes for an hour is down from the first to the last", async () => {
    // It opens reset-required too, open up to now, so the statement bills 65 minutes.
    expect(await hourOf(79)).toEqual({ billed: 65 * MIN, xidDown: [[T0, T0 + 60 * MIN]] });
  });

  it("on a flag whose Xid needs acting, is counted only: it neither extends its down time nor holds it open", async () => {
    const { harness, app: a } = leasedGpu([
      [10, 48],
      [12, 48],
      ...[20, 30, 40, 50, 60].map((m) => [m, 92] as const),
    ]);
    harness.clock.now = T0 + 65 * MIN;
    // Down from the first Xid 48 to the last (before: to the last Xid 92, 50 minutes).
    expect(await statementDownMs(a, harness.clock.now)).toBe(2 * MIN);
    expect(harness.open("xid")?.values).toMatchObject({
      code: 48,
      action: "investigate",
      count: 7,
      last_code: 92,
      fault_last_ms: T0 + 12 * MIN,
      fault_seen_ms: T0 + 12 * MIN,
    });
    // A quiet spell after the last Xid 48 closes it: the 92s, like a workload's Xids, do not hold it.
    harness.engine.tick(harness.clock.now);
    expect(harness.history("xid")).toMatchObject([{ startMs: T0 + 10 * MIN, endMs: T0 + 12 * MIN }]);
  });

  it("a more severe Xid on its flag escalates: down from that Xid on", async () => {
    const { harness, app: a } = leasedGpu([
      [0, 92],
      [10, 92],
      [20, 48],
      [25, 48],
    ]);
    harness.clock.now = T0 + 30 * MIN;
    expect(h?.history("xid").map((f) => [f.values.code, f.startMs, f.endMs])).toEqual([
      [48, T0 + 20 * MIN, null],
      [92, T0, T0 + 20 * MIN],
    ]);
    expect(await statementDownMs(a, harness.clock.now)).toBe(5 * MIN);
  });
});

// A hardware Xid's episode is down from its first hardware Xid to its last (down-time.ts
// xidDownEnd): the same stretch while its flag is open as after it closed (its quiet spell, or an
// operator's acknowledgement), so a statement of the current month never shrinks after the fact.
describe("a hardware Xid episode's down time", () => {
  it("is the same while its flag is open as after its quiet spell closed it", async () => {
    const { harness, app: a } = leasedGpu([
      [20, 48],
      [25, 48],
    ]);
    harness.clock.now = T0 + 30 * MIN;
    expect(harness.open("xid")?.values.fault).toBe("hardware");
    const whileOpen = await statementDownMs(a, T0);
    harness.clock.now = T0 + 41 * MIN;
    harness.engine.tick(harness.clock.now);
    expect(harness.open("xid")).toBeUndefined();
    expect(await statementDownMs(a, T0)).toBe(whileOpen);
    // From the first hardware Xid to the last.
    expect(whileOpen).toBe(5 * MIN);
  });

  it("of a single Xid is the same open and after its quiet spell closed it: none", async () => {
    const { harness, app: a } = leasedGpu([[20, 48]]);
    harness.clock.now = T0 + 34 * MIN;
    const whileOpen = await statementDownMs(a, T0);
    harness.clock.now = T0 + 36 * MIN;
    harness.engine.tick(harness.clock.now);
    expect(harness.open("xid")).toBeUndefined();
    expect(await statementDownMs(a, T0)).toBe(whileOpen);
    expect(whileOpen).toBe(0);
  });

  it("is the same open and once an operator acknowledged it later", async () => {
    const { harness, app: a } = leasedGpu([
      [20, 48],
      [22, 48],
    ]);
    harness.clock.now = T0 + 30 * MIN;
    const whileOpen = await statementDownMs(a, T0);
    harness.clock.now = T0 + 33 * MIN;
    harness.engine.acknowledge(harness.open("xid")?.id ?? 0, "reseated", harness.clock.now);
    expect(harness.open("xid")).toBeUndefined();
    harness.clock.now = T0 + 50 * MIN;
    expect(await statementDownMs(a, T0)).toBe(whileOpen);
    expect(whileOpen).toBe(2 * MIN);
  });
});
