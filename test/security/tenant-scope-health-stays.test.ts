// A GPU's health timeline for a tenant over a range holding several of its stays (two leases with
// another tenant's lease between them) covers every stay, each clipped to it, and nothing of the
// time between: events, flag episodes (once per stay, as the flag list shows them) and down time,
// which adds up to the down time its statement counts. An acknowledgement is listed under the id
// of the entry (the stay's piece of the flag) the tenant sees, and one made outside its stays not
// at all.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { GpuState } from "../../shared/proto.js";
import { xidEvent } from "../collector/health/events.js";
import {
  type FlagHarness,
  flagHarness,
  HOST,
  INTERVAL,
  inventory,
  MIN,
  T0,
} from "../collector/health/flag-harness.js";
import {
  ACME,
  GPU,
  HOUR,
  STAY_ID_STEP,
  statementDownMs,
  tenantApp,
  timelineOf,
  twoStays,
} from "./tenant-app.js";

const TOKEN = "tenant-health-stays-admin-token-0123";
const NOW = T0 + 5 * HOUR;

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

/**
 * The GPU is lost over [30 min, 4 h 30 min); a workload's Xid at 1 h 30 min, 2 h 30 min and
 * 3 h 30 min. acme leases it over [1 h, 2 h) and [3 h, 4 h); globex holds it between.
 */
function serve(): FastifyInstance {
  h = flagHarness();
  const harness = h;
  harness.store.writeInventory(inventory(HOST, T0, [GPU]), T0);
  for (let t = T0; t < NOW; t += 10 * INTERVAL) {
    const lost = t >= T0 + 30 * MIN && t < T0 + 4 * HOUR + 30 * MIN;
    harness.frame(t, { state: lost ? GpuState.GPU_STATE_LOST : GpuState.GPU_STATE_OK });
  }
  harness.clock.now = NOW;
  harness.xid([1.5, 2.5, 3.5].map((at, i) => xidEvent(i + 1, 13, { time_ms: T0 + at * HOUR })));
  const now = () => NOW;
  app = tenantApp(harness, twoStays(harness, now), now, TOKEN, ACME);
  return app;
}

describe("a tenant's health timeline over several of its stays", () => {
  it("covers every stay in the range, clipped to each, as its statement counts the down time", async () => {
    const a = serve();
    const range = `from=${T0}&to=${NOW}`;
    const fleet = await timelineOf(a, range, TOKEN);
    const real = fleet.flags.find((f) => f.kind === "lost");
    expect(real).toMatchObject({ startMs: T0 + 30 * MIN });

    const t = await timelineOf(a, range);
    expect([t.fromMs, t.toMs]).toEqual([T0 + HOUR, T0 + 4 * HOUR]);
    expect(t.events.map((e) => e.timeMs)).toEqual([T0 + 3.5 * HOUR, T0 + 1.5 * HOUR]);
    const lost = t.flags.filter((f) => f.kind === "lost");
    expect(lost.map((f) => [f.id, f.startMs, f.endMs])).toEqual([
      [(real?.id ?? 0) + STAY_ID_STEP, T0 + 3 * HOUR, T0 + 4 * HOUR],
      [real?.id, T0 + HOUR, T0 + 2 * HOUR],
    ]);
    // Nothing of globex's hour between.
    for (const f of t.flags)
      expect(f.startMs >= T0 + 2 * HOUR && f.startMs < T0 + 3 * HOUR, `${f.kind} ${f.startMs}`).toBe(false);
    expect(t.stays).toEqual([
      { fromMs: T0 + HOUR, toMs: T0 + 2 * HOUR },
      { fromMs: T0 + 3 * HOUR, toMs: T0 + 4 * HOUR },
    ]);
    expect(t.downtime).toEqual([
      { fromMs: T0 + HOUR, toMs: T0 + 2 * HOUR, kinds: ["lost"] },
      { fromMs: T0 + 3 * HOUR, toMs: T0 + 4 * HOUR, kinds: ["lost"] },
    ]);
    expect(t.downtimeMs).toBe(2 * HOUR);
    expect(t.downtimeMs).toBe(await statementDownMs(a, T0));

    // A range over the first stay alone shows that stay's part only.
    const early = await timelineOf(a, `from=${T0}&to=${T0 + 150 * MIN}`);
    expect([early.fromMs, early.toMs, early.downtimeMs]).toEqual([T0 + HOUR, T0 + 2 * HOUR, HOUR]);
    expect(early.events.map((e) => e.timeMs)).toEqual([T0 + 1.5 * HOUR]);
  });

  it("lists each acknowledgement under the id of the stay's entry it was made in, none from outside its stays", async () => {
    const a = serve();
    const range = `from=${T0}&to=${NOW}`;
    const real = (await timelineOf(a, range, TOKEN)).flags.find((f) => f.kind === "lost");
    const id = real?.id ?? 0;
    // One acknowledgement in each stay of acme's, one in globex's hour between them.
    for (const at of [1.5, 2.5, 3.5]) h?.engine.acknowledge(id, `checked at ${at} h`, T0 + at * HOUR);
    const fleet = await timelineOf(a, range, TOKEN);
    expect(fleet.acknowledgements.map((k) => [k.flagId, k.atMs])).toEqual([
      [id, T0 + 1.5 * HOUR],
      [id, T0 + 2.5 * HOUR],
      [id, T0 + 3.5 * HOUR],
    ]);

    const t = await timelineOf(a, range);
    const shown = new Set(t.flags.map((f) => f.id));
    expect(t.acknowledgements.map((k) => [k.flagId, k.atMs, k.note])).toEqual([
      [id, T0 + 1.5 * HOUR, "checked at 1.5 h"],
      [id + STAY_ID_STEP, T0 + 3.5 * HOUR, "checked at 3.5 h"],
    ]);
    // Every acknowledgement points at an entry the tenant sees.
    for (const k of t.acknowledgements) expect(shown.has(k.flagId), String(k.flagId)).toBe(true);
    // A range over the second stay alone: the same entry's id.
    const late = await timelineOf(a, `from=${T0 + 150 * MIN}&to=${NOW}`);
    expect(late.acknowledgements.map((k) => k.flagId)).toEqual([id + STAY_ID_STEP]);
    expect(late.flags.filter((f) => f.kind === "lost").map((f) => f.id)).toEqual([id + STAY_ID_STEP]);
  });
});
