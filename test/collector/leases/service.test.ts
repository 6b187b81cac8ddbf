// The lease service over a real SQLite file: conflicts name the lease in the way, unknown GPUs
// are refused, every change leaves a history row, imports are all-or-nothing and idempotent,
// and random sequences of creates never leave two overlapping leases on one device.
import fc from "fast-check";
import { afterEach, describe, expect, test } from "vitest";
import { LeaseService } from "../../../collector/leases/service.js";
import type { ApiError } from "../../../collector/request/errors.js";
import { type LeaseTestStore, openLeaseStore } from "./store-helpers.js";

const G1 = "GPU-11111111-2222-3333-4444-555555555555";
const G2 = "GPU-66666666-2222-3333-4444-555555555555";
const NOW = Date.parse("2026-12-01T00:00:00Z");
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

let t: LeaseTestStore | undefined;
afterEach(() => {
  t?.close();
  t = undefined;
});

function service(now = NOW) {
  t = openLeaseStore([G1, G2]);
  let clock = now;
  const svc = new LeaseService(t.store.leases, () => clock);
  return { svc, setNow: (ms: number) => (clock = ms) };
}

function caught(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    return error as ApiError;
  }
  throw new Error("expected an error");
}

describe("create", () => {
  test("a conflict is a 409 naming the lease in the way; nothing is written", () => {
    const { svc } = service();
    svc.create({ id: "a", device: G1, tenant: "acme", start: iso(NOW - 10 * H) }, "test");
    const e = caught(() => svc.create({ id: "b", device: G1, tenant: "globex", start: iso(NOW) }, "test"));
    expect(e.statusCode).toBe(409);
    expect(e.parameter).toBe("device");
    expect(e.message).toContain('"a"');
    expect(e.extra).toEqual({ conflict: "a" });
    expect(() => svc.get("b")).toThrow(/no lease/);
    expect(svc.history("a").map((h) => h.action)).toEqual(["create"]);
  });

  test("unknown GPU, bad currency, negative price, end before start: 4xx naming the field", () => {
    const { svc } = service();
    const base = { device: G1, tenant: "acme", start: iso(NOW) };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...base, device: "GPU-nope" }, 404, "device"],
      [{ ...base, pricePerGpuHour: 2, currency: "EUO" }, 400, "currency"],
      [{ ...base, pricePerGpuHour: -1, currency: "EUR" }, 400, "pricePerGpuHour"],
      [{ ...base, pricePerGpuHour: "2.5" }, 400, "currency"],
      [{ ...base, end: iso(NOW - H) }, 400, "end"],
      [{ ...base, committedAvailabilityPct: 101 }, 400, "committedAvailabilityPct"],
      [{ ...base, color: "red" }, 400, "color"],
      [{ ...base, labels: { __proto__x: "1", constructor: "y" } }, 400, "labels.constructor"],
      [{ device: G1, start: iso(NOW) }, 400, "tenant"],
      [{ ...base, start: "2026-02-30T00:00:00Z" }, 400, "start"],
      [{ ...base, end: "2026-12-01T24:00:00Z" }, 400, "end"],
    ];
    for (const [body, status, field] of cases) {
      const e = caught(() => svc.create(body, "test"));
      expect({ status: e.statusCode, field: e.parameter }).toEqual({ status, field });
    }
    expect(svc.list({ limit: 100 })).toEqual([]);
  });

  test("price and commitment are exact integers underneath", () => {
    const { svc } = service();
    const l = svc.create(
      {
        device: G1,
        tenant: "acme",
        start: iso(NOW),
        pricePerGpuHour: "2.123456",
        currency: "usd",
        committedAvailabilityPct: 99.95,
      },
      "test",
    );
    expect([l.priceMicros, l.currency, l.availabilityMilli]).toEqual([2_123_456, "USD", 99_950]);
  });
});

describe("queries", () => {
  test("in force at t and overlapping [a, b)", () => {
    const { svc } = service();
    svc.create({ id: "a", device: G1, tenant: "acme", start: iso(NOW - 10 * H), end: iso(NOW - 5 * H) }, "t");
    svc.create({ id: "b", device: G1, tenant: "globex", start: iso(NOW - 5 * H) }, "t");
    svc.create({ id: "c", device: G2, tenant: "acme", start: iso(NOW - 2 * H), end: iso(NOW - H) }, "t");
    expect(svc.inForce(G1, NOW - 6 * H)?.id).toBe("a");
    expect(svc.inForce(G1, NOW - 5 * H)?.id).toBe("b");
    expect(svc.inForce(G1, NOW - 11 * H)).toBeUndefined();
    expect(svc.inForce(G2, NOW)).toBeUndefined();
    const ids = (f: Parameters<LeaseService["list"]>[0]) => svc.list(f).map((l) => l.id);
    expect(ids({ limit: 10, tenant: "acme" })).toEqual(["a", "c"]);
    expect(ids({ limit: 10, fromMs: NOW - 3 * H, toMs: NOW })).toEqual(["b", "c"]);
    expect(ids({ limit: 10, device: G1, fromMs: NOW - 7 * H, toMs: NOW - 6 * H })).toEqual(["a"]);
  });

  test("the lookups use the indexes (no full scan)", () => {
    service();
    const db = t?.store.db;
    if (!db) throw new Error("no store");
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[])
        .map((r) => r.detail)
        .join(" | ");
    expect(
      plan("SELECT * FROM leases WHERE device = 'x' AND start_ms <= 5 ORDER BY start_ms DESC LIMIT 1"),
    ).toMatch(/USING INDEX leases_device_start/);
    expect(
      plan("SELECT * FROM leases WHERE gpu_uuid = 'x' AND start_ms < 9 AND (end_ms IS NULL OR end_ms > 1)"),
    ).toMatch(/USING INDEX leases_gpu_start/);
  });
});

describe("edit, end, delete", () => {
  test("a started lease only takes a new end, recorded with who and before/after", () => {
    const { svc, setNow } = service();
    svc.create(
      { id: "a", device: G1, tenant: "acme", start: iso(NOW), pricePerGpuHour: 2, currency: "EUR" },
      "alice",
    );
    setNow(NOW + H);
    const e = caught(() => svc.edit("a", { pricePerGpuHour: 3 }, "bob"));
    expect([e.statusCode, e.parameter]).toEqual([409, "pricePerGpuHour"]);
    expect(() => svc.end("a", iso(NOW + H / 2), "bob")).toThrow(/past/);
    svc.end("a", undefined, "bob");
    expect(svc.get("a").endMs).toBe(NOW + H);
    const history = svc.history("a");
    expect(history.map((h) => [h.action, h.actor])).toEqual([
      ["create", "alice"],
      ["end", "bob"],
    ]);
    expect(history[1]?.before?.endMs).toBeNull();
    expect(history[1]?.after?.endMs).toBe(NOW + H);
  });

  test("an end later than the current one may not run over the next lease", () => {
    const { svc } = service();
    svc.create({ id: "a", device: G1, tenant: "acme", start: iso(NOW - H), end: iso(NOW + H) }, "t");
    svc.create({ id: "b", device: G1, tenant: "globex", start: iso(NOW + H) }, "t");
    const e = caught(() => svc.end("a", iso(NOW + 5 * H), "bob"));
    expect([e.statusCode, e.parameter, e.extra.conflict]).toEqual([409, "device", "b"]);
    expect(svc.get("a").endMs).toBe(NOW + H);
    expect(svc.history("a").map((h) => h.action)).toEqual(["create"]);
    svc.end("a", iso(NOW + H / 2), "bob");
    expect(svc.get("a").endMs).toBe(NOW + H / 2);
  });

  test("delete only before the start", () => {
    const { svc, setNow } = service();
    svc.create({ id: "a", device: G1, tenant: "acme", start: iso(NOW + H) }, "t");
    svc.create({ id: "b", device: G2, tenant: "acme", start: iso(NOW - H) }, "t");
    expect(caught(() => svc.remove("b", "t")).statusCode).toBe(409);
    svc.remove("a", "t");
    expect(caught(() => svc.get("a")).statusCode).toBe(404);
    expect(svc.history("b").length).toBe(1);
    setNow(NOW + 2 * H);
  });
});

describe("import", () => {
  test("all or nothing, errors name line and field; the same file twice changes nothing", () => {
    const { svc } = service();
    const good = [
      {
        line: 2,
        fields: { id: "i1", device: G1, tenant: "acme", start: iso(NOW - 10 * H), end: iso(NOW - 5 * H) },
      },
      {
        line: 3,
        fields: {
          id: "i2",
          device: G1,
          tenant: "globex",
          start: iso(NOW - 5 * H),
          pricePerGpuHour: "1.5",
          currency: "EUR",
        },
      },
    ];
    const bad = [
      ...good,
      { line: 4, fields: { id: "i3", device: G2, tenant: "acme", start: iso(NOW), currency: "XXQ" } },
    ];
    const e = caught(() => svc.importAll(bad, "t"));
    expect([e.statusCode, e.parameter, e.extra.line]).toEqual([400, "currency", 4]);
    expect(e.message).toMatch(/^line 4, field currency/);
    expect(svc.list({ limit: 10 })).toEqual([]);
    expect(svc.importAll(good, "t")).toEqual({ created: ["i1", "i2"], updated: [], unchanged: [] });
    expect(svc.importAll(good, "t")).toEqual({ created: [], updated: [], unchanged: ["i1", "i2"] });
    expect(svc.history("i2").length).toBe(1);
    const overlap = [
      {
        line: 7,
        fields: { id: "i9", device: G1, tenant: "x", start: iso(NOW - 6 * H), end: iso(NOW - 4 * H) },
      },
    ];
    const c = caught(() => svc.importAll(overlap, "t"));
    expect([c.statusCode, c.extra.line, c.extra.conflict]).toEqual([409, 7, "i1"]);
  });
});

test("property: random creates never leave two overlapping leases on one device", () => {
  const { svc } = service();
  let n = 0;
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          device: fc.constantFrom(G1, G2),
          s: fc.integer({ min: 1, max: 40 }), // in the future, so each run can delete its leases
          len: fc.option(fc.integer({ min: 1, max: 20 }), { nil: null }),
        }),
        { maxLength: 12 },
      ),
      (ops) => {
        for (const o of ops) {
          const body = {
            id: `p${n++}`,
            device: o.device,
            tenant: "t",
            start: NOW + o.s * H,
            ...(o.len ? { end: NOW + (o.s + o.len) * H } : {}),
          };
          try {
            svc.create(body, "prop");
          } catch (error) {
            const conflict = (error as ApiError).extra.conflict as string;
            const other = svc.get(conflict);
            const end = o.len ? NOW + (o.s + o.len) * H : Number.POSITIVE_INFINITY;
            expect(other.startMs < end && (other.endMs === null || other.endMs > NOW + o.s * H)).toBe(true);
          }
        }
        const all = svc.list({ limit: 100_000 });
        for (const a of all)
          for (const b of all)
            if (a.id !== b.id && a.device === b.device)
              expect(a.startMs < (b.endMs ?? Infinity) && b.startMs < (a.endMs ?? Infinity)).toBe(false);
        for (const l of all) svc.remove(l.id, "prop");
      },
    ),
    { numRuns: 40 },
  );
});
