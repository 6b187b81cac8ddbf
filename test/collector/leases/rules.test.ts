// Properties (fast-check) of the pure lease rules: overlap detection against a brute-force walk
// over every instant of a small time line, and "an edit or an end never rewrites the past":
// whatever an accepted change does, every instant before `now` keeps the same lease facts.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Lease, LeaseFields } from "../../../collector/leases/model.js";
import { checkDelete, findConflict, overlaps, planEdit, planEnd } from "../../../collector/leases/rules.js";

const T = 60; // instants 0..T-1; an open end reaches past T

const span = fc
  .tuple(fc.integer({ min: 0, max: T - 2 }), fc.option(fc.integer({ min: 1, max: T - 1 }), { nil: null }))
  .map(([s, e]) => ({ startMs: s, endMs: e === null ? null : Math.max(s + 1, e) }));

const covers = (l: { startMs: number; endMs: number | null }, t: number) =>
  l.startMs <= t && (l.endMs === null || t < l.endMs);

function lease(id: string, device: string, s: { startMs: number; endMs: number | null }): Lease {
  return {
    id,
    device,
    gpu: device.startsWith("MIG-") ? "GPU-A" : device,
    tenant: "acme",
    ...s,
    contract: null,
    priceMicros: 2_500_000,
    currency: "EUR",
    availabilityMilli: 99_500,
    labels: {},
    source: "api",
  };
}

describe("overlap", () => {
  test("overlaps() is true exactly when some instant lies in both spans", () => {
    fc.assert(
      fc.property(span, span, (a, b) => {
        let brute = false;
        for (let t = 0; t <= T + 1; t++) if (covers(a, t) && covers(b, t)) brute = true;
        expect(overlaps(a, b)).toBe(brute);
        expect(overlaps(b, a)).toBe(brute);
      }),
    );
  });

  test("findConflict names a lease sharing hardware and an instant, or none exists", () => {
    const device = fc.constantFrom("GPU-A", "GPU-B", "MIG-A1", "MIG-A2");
    fc.assert(
      fc.property(fc.array(fc.tuple(device, span), { maxLength: 8 }), device, span, (rows, d, s) => {
        const others = rows.map(([dev, sp], i) => lease(`L${i}`, dev, sp));
        const candidate = lease("new", d, s);
        const clash = (o: Lease) => {
          const hw = o.device === d || o.device === candidate.gpu || o.gpu === d;
          for (let t = 0; t <= T + 1; t++) if (hw && covers(o, t) && covers(candidate, t)) return true;
          return false;
        };
        const found = findConflict(candidate, others);
        if (found) expect(clash(found)).toBe(true);
        else expect(others.some(clash)).toBe(false);
      }),
    );
  });

  test("two MIG devices of one GPU do not collide; the whole GPU collides with both", () => {
    const a = lease("a", "MIG-A1", { startMs: 0, endMs: null });
    expect(findConflict(lease("b", "MIG-A2", { startMs: 0, endMs: null }), [a])).toBeUndefined();
    expect(findConflict(lease("c", "GPU-A", { startMs: 5, endMs: 6 }), [a])?.id).toBe("a");
  });
});

/** What a report would read at instant t: who held it, at what price and commitment. */
const factsAt = (l: Lease, t: number) =>
  covers(l, t)
    ? JSON.stringify([
        l.device,
        l.tenant,
        l.priceMicros,
        l.currency,
        l.availabilityMilli,
        l.contract,
        l.labels,
      ])
    : "none";

const patch: fc.Arbitrary<LeaseFields> = fc.record(
  {
    tenant: fc.constantFrom("acme", "globex"),
    startMs: fc.integer({ min: 0, max: T }),
    endMs: fc.option(fc.integer({ min: 0, max: T }), { nil: null }),
    priceMicros: fc.constantFrom(2_500_000, 3_000_000),
    availabilityMilli: fc.constantFrom(99_500, 99_900),
    labels: fc.constantFrom<Record<string, string>>({}, { team: "x" }),
  },
  { requiredKeys: [] },
);

describe("edits never rewrite the past", () => {
  test("an accepted edit leaves every instant before now as it was", () => {
    fc.assert(
      fc.property(span, patch, fc.integer({ min: 0, max: T }), (s, p, now) => {
        const before = lease("L", "GPU-A", s);
        let after: Lease;
        try {
          after = planEdit(before, p, now);
        } catch {
          return; // refused: nothing changed
        }
        for (let t = 0; t < now; t++) expect(factsAt(after, t)).toBe(factsAt(before, t));
        if (after.endMs !== null) expect(after.endMs).toBeGreaterThan(after.startMs);
      }),
    );
  });

  test("a started lease accepts only a new end; an ended one nothing; a scheduled one anything ahead", () => {
    fc.assert(
      fc.property(span, patch, fc.integer({ min: 0, max: T }), (s, p, now) => {
        const before = lease("L", "GPU-A", s);
        const changes = Object.entries(p).filter(
          ([k, v]) => JSON.stringify(before[k as keyof Lease]) !== JSON.stringify(v),
        );
        let ok = true;
        try {
          planEdit(before, p, now);
        } catch {
          ok = false;
        }
        const state = now < before.startMs ? "scheduled" : covers(before, now) ? "active" : "ended";
        if (state === "ended" && changes.length > 0) expect(ok).toBe(false);
        if (state === "active" && changes.some(([k]) => k !== "endMs")) expect(ok).toBe(false);
      }),
    );
  });

  test("the same labels in another order are no change, so a started lease takes them", () => {
    const before = { ...lease("L", "GPU-A", { startMs: 0, endMs: null }), labels: { a: "1", b: "2" } };
    expect(planEdit(before, { labels: { b: "2", a: "1" } }, 10)).toEqual(before);
    expect(() => planEdit(before, { labels: { a: "1", b: "3" } }, 10)).toThrow(/labels/);
  });

  test("an end is refused in the past, accepted at or after now when after the start", () => {
    fc.assert(
      fc.property(span, fc.integer({ min: 0, max: T }), fc.integer({ min: 0, max: T }), (s, at, now) => {
        const before = lease("L", "GPU-A", s);
        let after: Lease | undefined;
        try {
          after = planEnd(before, at, now);
        } catch {
          after = undefined;
        }
        const ended = before.endMs !== null && before.endMs <= now;
        expect(after !== undefined).toBe(!ended && at >= now && at > before.startMs);
        if (after) for (let t = 0; t < now; t++) expect(factsAt(after, t)).toBe(factsAt(before, t));
      }),
    );
  });

  test("only a lease that has not started may be deleted", () => {
    const l = lease("L", "GPU-A", { startMs: 10, endMs: null });
    expect(() => checkDelete(l, 9)).not.toThrow();
    expect(() => checkDelete(l, 10)).toThrow(/only a lease that has not started/);
  });
});
