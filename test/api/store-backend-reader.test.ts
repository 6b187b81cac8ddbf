// StoreBackend with a reader (the read worker's client): heavy reads go to it, and a summary
// does not wait behind a busy worker when an answer for a range of the same length is at hand.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerRead, type ReadRequest } from "../../collector/api/read-requests.js";
import type { Reader } from "../../collector/api/read-worker-client.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import { buildFleet, type FleetFixture } from "./fleet-fixture.js";

const HOUR = 3_600_000;
let fleet: FleetFixture;
beforeAll(() => {
  fleet = buildFleet();
});
afterAll(() => fleet?.close());

/** Answers from the fixture's own store, each only when the test lets it go. */
function heldReader() {
  const asked: ReadRequest[] = [];
  const waiting: (() => void)[] = [];
  const reader: Reader = {
    call(request) {
      asked.push(request);
      return new Promise((resolve) => {
        waiting.push(() => {
          if (request.op !== "aggregate") throw new Error(`unexpected ${request.op}`);
          resolve(answerRead(fleet.store, fleet.store.flagStore(), request) as never);
        });
      });
    },
  };
  const release = () => {
    for (const go of waiting.splice(0)) go();
  };
  return { reader, asked, release };
}

describe("StoreBackend with a reader", () => {
  it("asks the reader for range usage, and serves the previous answer while the next one is computed", async () => {
    const held = heldReader();
    let now = fleet.nowMs;
    const backend = new StoreBackend({
      store: fleet.store,
      flags: fleet.flags,
      reader: held.reader,
      now: () => now,
    });
    const first = backend.summary({ fromMs: now - 2 * HOUR, toMs: now });
    await Promise.resolve();
    expect(held.asked).toHaveLength(1);
    held.release();
    const a = await first;
    expect(a.utilization.range.toMs - a.utilization.range.fromMs).toBe(2 * HOUR);

    // A minute later: a new range, computed on the (busy) reader; the answer does not wait for it.
    now += 60_000;
    const b = await backend.summary({ fromMs: now - 2 * HOUR, toMs: now });
    expect(held.asked).toHaveLength(2);
    expect(b.utilization.range).toEqual(a.utilization.range);
    held.release();
    await new Promise((resolve) => setImmediate(resolve));
    const c = await backend.summary({ fromMs: now - 2 * HOUR, toMs: now });
    expect(held.asked).toHaveLength(2);
    expect(c.utilization.range.toMs).toBe(a.utilization.range.toMs + 60_000);

    // A range of another length has nothing to stand in for it: it waits.
    let done = false;
    const other = backend.summary({ fromMs: now - 3 * HOUR, toMs: now }).then((s) => {
      done = true;
      return s;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    held.release();
    expect((await other).utilization.range.toMs - (await other).utilization.range.fromMs).toBe(3 * HOUR);
  });
});

describe("StoreBackend with a reader of several threads", () => {
  it("has each thread sum a span of the GPUs, and the summary is the one thread's to the digit", async () => {
    const spans: { above: number; upTo: number }[] = [];
    const reader: Reader = {
      threads: 3,
      call(request) {
        if (request.op === "aggregate" && request.span) spans.push(request.span);
        return Promise.resolve(answerRead(fleet.store, fleet.store.flagStore(), request) as never);
      },
    };
    const parts = { store: fleet.store, flags: fleet.flags, now: () => fleet.nowMs };
    const range = { fromMs: fleet.nowMs - 2 * HOUR, toMs: fleet.nowMs };
    const split = await new StoreBackend({ ...parts, reader }).summary(range);
    const whole = await new StoreBackend(parts).summary(range);
    expect(split.utilization.range).toEqual(whole.utilization.range);
    expect(split.utilization.range.busyHours).toBeGreaterThan(0);
    // Three spans, one after another, from below every id to above every id.
    expect(spans).toHaveLength(3);
    expect(spans[0]?.above).toBe(Number.NEGATIVE_INFINITY);
    expect(spans[1]?.above).toBe(spans[0]?.upTo);
    expect(spans[2]?.above).toBe(spans[1]?.upTo);
    expect(spans[2]?.upTo).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("StoreBackend's fan-out parts through a reader", () => {
  it("are the parts it reads itself: fleet parts of each kind, lease parts of given terms", async () => {
    const asked: string[] = [];
    const reader: Reader = {
      call(request) {
        asked.push(request.op);
        return Promise.resolve(answerRead(fleet.store, fleet.store.flagStore(), request) as never);
      },
    };
    const parts = { store: fleet.store, flags: fleet.flags, now: () => fleet.nowMs };
    const viaReader = new StoreBackend({ ...parts, reader });
    const here = new StoreBackend(parts);
    const range = { fromMs: fleet.nowMs - 2 * HOUR, toMs: fleet.nowMs };
    for (const kind of ["thermal", "capacity", "downtime"] as const) {
      const part = await viaReader.fleetPart(kind, range);
      expect(part).toEqual(await here.fleetPart(kind, range));
      expect(part.stretches.length).toBeGreaterThan(0);
    }
    // The thermal part carries the overheat episode it reads; capacity reads no flags.
    expect((await here.fleetPart("thermal", range)).flags.map((f) => f.gpuUuid)).toContain(fleet.hotUuid);
    expect((await here.fleetPart("capacity", range)).flags).toEqual([]);
    const terms = [
      {
        id: "L-1",
        device: fleet.hotUuid,
        gpu: fleet.hotUuid,
        tenant: "acme",
        startMs: range.fromMs,
        endMs: null,
        contract: null,
        priceMicros: 1_000_000,
        currency: "EUR",
        availabilityMilli: null,
        labels: {},
      },
    ];
    const leases = await viaReader.leaseParts(range, undefined, terms);
    expect(leases).toEqual(await here.leaseParts(range, undefined, terms));
    expect(leases.parts.map((p) => [p.lease, p.coveredMs > 0])).toEqual([["L-1", true]]);
    expect(asked).toEqual(["fleetPart", "fleetPart", "fleetPart", "leaseParts"]);
  });
});
