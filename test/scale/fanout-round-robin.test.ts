// A share group under round robin (Mosquitto's shared subscriptions): every member receives some
// frames of every host. Here the first collector gets host-x's even frames, the second its odd
// ones; the kernel-log events reach both (a plain subscription), so both raise GX's xid and
// reset-required from its Xid 79, and the frame that shows GX's recovery action back at none
// reaches one of them only. A third collector holds every frame. The first, with the second as
// its peer, must count the lease's flags opened (statement, lease report) as the third does: each
// episode once however many members hold a copy; and end reset-required at the recovery, in the
// flag list, the lease's down time, the downtime report and the health timeline, though the
// second collector's copy ends at its next frame, a sample later.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectSame, getJson, type ServedCollector, stopAll } from "./fanout-helpers.js";
import { GX, type RoundRobinGx, STEP, serveRoundRobinGx } from "./round-robin-gx.js";

const TOKEN = "fanout-round-robin-token-0123456789abc";
const MIN = 60_000;
const H = 60 * MIN;
const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const T0 = NOW - 2 * H;
const MONTH = new Date(T0).toISOString().slice(0, 7);
const AT_XID = T0 + 30 * MIN;
/** The first frame with GX's recovery action back at none: an even one, the first collector's. */
const RECOVERED = T0 + 60 * MIN;
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-round-robin-"));
const scenario: RoundRobinGx = {
  dir,
  token: TOKEN,
  nowMs: NOW,
  t0Ms: T0,
  xidMs: AT_XID,
  recoveredMs: RECOVERED,
};

type Down = { fromMs: number; toMs: number; kinds: string[] };
type Statement = {
  lines: { lease: string; flags: number; downMs: number; down: Down[] | null }[];
  total: { flags: number };
};
type Flags = { flags: { kind: string; startMs: number; endMs: number | null }[] };

describe("a share group under round robin", () => {
  let first: ServedCollector;
  let second: ServedCollector;
  let whole: ServedCollector;
  const started: ServedCollector[] = [];
  const get = <T>(c: ServedCollector, path: string) => getJson<T>(c, path, TOKEN);

  beforeAll(async () => {
    ({ first, second, whole } = await serveRoundRobinGx(scenario, started));
  }, 60_000);

  afterAll(async () => {
    await stopAll(started, dir);
  });

  it("holds a copy of GX's xid and reset-required on each member", async () => {
    for (const c of [first, second]) {
      const r = await fetch(`${c.url}/api/v1/flags?state=all&gpu=${GX}`, {
        headers: { authorization: `Bearer ${TOKEN}`, "x-gputel-fanout": "1" },
      });
      const { flags } = (await r.json()) as Flags;
      expect(flags.map((f) => f.kind).sort()).toEqual(["reset-required", "xid"]);
    }
  });

  it("counts GX's flags in the statement once, as one collector holding every frame does", async () => {
    const path = `/api/v1/reports/statement?tenant=acme&month=${MONTH}`;
    const merged = await get<Statement>(first, path);
    const one = await get<Statement>(whole, path);
    expect(one.lines.map((l) => l.flags)).toEqual([2]);
    expect(merged.lines.map((l) => l.flags)).toEqual([2]);
    expect(merged.total.flags).toBe(2);
  });

  it("counts GX's flags in the lease report once", async () => {
    const path = `/api/v1/reports/leases?from=${T0}&to=${NOW}&by=lease`;
    const merged = await get<{ groups: { flags: number }[] }>(first, path);
    const one = await get<{ groups: { flags: number }[] }>(whole, path);
    expect(one.groups.map((g) => g.flags)).toEqual([2]);
    expect(merged.groups.map((g) => g.flags)).toEqual([2]);
  });

  it("bills GX's down time up to the recovery, as the whole collector does", async () => {
    const path = `/api/v1/reports/statement?tenant=acme&month=${MONTH}`;
    const merged = await get<Statement>(first, path);
    expect(merged.lines[0]?.down).toEqual([{ fromMs: AT_XID, toMs: RECOVERED, kinds: ["reset-required"] }]);
    expectSame(merged, await get(whole, path), "statement");
    const report = `/api/v1/reports/leases?from=${T0}&to=${NOW}&by=lease`;
    expectSame(await get(first, report), await get(whole, report), "lease report");
  });

  it("gives the tenants view as the whole collector does: each member's half of GX's samples added", async () => {
    type View = { tenants: { utilizationToday: number; leasedHoursMonth: number; downHoursMonth: number }[] };
    const merged = await get<View>(first, "/api/v1/tenants");
    expectSame(merged, await get<View>(whole, "/api/v1/tenants"), "tenants view");
    expect(merged.tenants.map((t) => [t.utilizationToday, t.leasedHoursMonth, t.downHoursMonth])).toEqual([
      [1, 2, 0.5],
    ]);
  });

  it("ends the merged reset-required at the recovery, though the second's copy ends a sample later", async () => {
    const own = await fetch(`${second.url}/api/v1/flags?state=all&kind=reset-required`, {
      headers: { authorization: `Bearer ${TOKEN}`, "x-gputel-fanout": "1" },
    });
    const copy = ((await own.json()) as Flags).flags.map((f) => [f.startMs, f.endMs]);
    expect(copy).toEqual([[AT_XID, RECOVERED + STEP]]);
    const path = `/api/v1/flags?state=all&gpu=${GX}`;
    const merged = await get<Flags>(first, path);
    const reset = merged.flags.filter((f) => f.kind === "reset-required");
    expect(reset.map((f) => [f.startMs, f.endMs])).toEqual([[AT_XID, RECOVERED]]);
    const downtime = `/api/v1/reports/downtime?from=${T0}&to=${NOW}`;
    expectSame(await get(first, downtime), await get(whole, downtime), "downtime report");
    const health = `/api/v1/gpus/${GX}/health?from=${T0}&to=${NOW}`;
    expectSame(await get(first, health), await get(whole, health), "health");
  });
});
