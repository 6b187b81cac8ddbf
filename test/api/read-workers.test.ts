// The read worker pool (collector/api/read-workers.ts) with real worker threads on the fixture's
// SQLite file: requests go to the least busy thread, and the summary's aggregate, cut in spans
// of GPU ids, sums to what the collector's own connection gives.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadWorkers } from "../../collector/api/read-workers.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import { aggregateSums, idSpans } from "../../collector/store/store-aggregate.js";
import { type GroupSums, mergeGroupSums } from "../../collector/usage/usage-sums.js";
import { silentLogger } from "../../shared/logger.js";
import { buildFleet, type FleetFixture } from "./fleet-fixture.js";

const HOUR = 3_600_000;
let fleet: FleetFixture;
let pool: ReadWorkers;
beforeAll(() => {
  fleet = buildFleet();
  fleet.store.checkpoint();
  pool = new ReadWorkers({ database: join(fleet.dir, "collector.db") }, silentLogger(), 2);
});
afterAll(async () => {
  await pool?.stop();
  fleet?.close();
});

describe("ReadWorkers", () => {
  it("answers on two threads at once, each request on the one with fewer waiting", async () => {
    const range = { fromMs: fleet.nowMs - 2 * HOUR, toMs: fleet.nowMs, groupBy: "site" as const };
    const a = pool.call({ op: "aggregate", ...range });
    const b = pool.call({ op: "aggregate", ...range });
    expect(pool.waiting).toEqual([1, 1]);
    expect(await a).toEqual(await b);
    expect(pool.waiting).toEqual([0, 0]);
  });

  it("gives the summary the same range usage as the collector's own connection", async () => {
    const parts = { store: fleet.store, flags: fleet.flags, now: () => fleet.nowMs };
    const range = { fromMs: fleet.nowMs - 3 * HOUR, toMs: fleet.nowMs };
    const viaWorkers = await new StoreBackend({ ...parts, reader: pool }).summary(range);
    const here = await new StoreBackend(parts).summary(range);
    expect(viaWorkers.utilization.range).toEqual(here.utilization.range);
    expect(viaWorkers.utilization.range.busyHours).toBeGreaterThan(0);
  });
});

describe("aggregateSums over spans of GPU ids", () => {
  it("add up to the whole fleet's sums, unsealed samples included, with and without the bucket scan", () => {
    const ids = [...fleet.store.raw.gpusById.keys()];
    // Samples written since the last seal: the spans must share out the deltas in memory too.
    expect([...fleet.store.raw.gpusById.values()].some((g) => g.deltas.some((d) => d.size > 0))).toBe(true);
    for (const maxTemperature of [false, true])
      for (const groupBy of ["site", "host", "gpu"] as const) {
        const request = { fromMs: fleet.nowMs - 3 * HOUR, toMs: fleet.nowMs, groupBy, maxTemperature };
        const whole = aggregateSums(fleet.store, request);
        const byKey = (list: GroupSums[]) => [...list].sort((a, b) => a.key.localeCompare(b.key));
        for (const parts of [2, 3, 7]) {
          const merged = mergeGroupSums(
            idSpans(ids, parts).map((span) => aggregateSums(fleet.store, request, span)),
          );
          expect(byKey(merged)).toEqual(byKey(whole));
        }
        expect(whole.reduce((n, g) => n + g.gpus, 0)).toBe(ids.length);
      }
    // A uuid filter inside a span that does not hold it: nothing.
    const hot = fleet.store.raw.gpus.get(fleet.hotUuid)?.id as number;
    const request = { fromMs: fleet.nowMs - 3 * HOUR, toMs: fleet.nowMs, groupBy: "gpu" as const };
    const filtered = { ...request, filters: { uuid: fleet.hotUuid } };
    expect(aggregateSums(fleet.store, filtered, { above: hot, upTo: Number.POSITIVE_INFINITY })).toEqual([]);
    expect(aggregateSums(fleet.store, filtered, { above: hot - 1, upTo: hot })).toEqual(
      aggregateSums(fleet.store, filtered),
    );
  });
});

describe("idSpans", () => {
  it("shares ids out about evenly, and the spans hold every id, known or not", () => {
    const ids = [7, 3, 12, 5, 9, 1];
    const spans = idSpans(ids, 2);
    expect(spans).toEqual([
      { above: Number.NEGATIVE_INFINITY, upTo: 5 },
      { above: 5, upTo: Number.POSITIVE_INFINITY },
    ]);
    for (const id of [-4, 0, 1, 5, 6, 12, 1e9])
      expect(spans.filter((s) => id > s.above && id <= s.upTo)).toHaveLength(1);
    // Fewer ids than parts, or none: fewer spans, never an empty or overlapping one.
    expect(idSpans([4], 3)).toEqual([{ above: Number.NEGATIVE_INFINITY, upTo: Number.POSITIVE_INFINITY }]);
    expect(idSpans([], 2)).toEqual([{ above: Number.NEGATIVE_INFINITY, upTo: Number.POSITIVE_INFINITY }]);
    expect(idSpans([1, 2, 3, 4], 4).map((s) => s.upTo)).toEqual([1, 2, 3, Number.POSITIVE_INFINITY]);
  });
});
