// Lease line parts merged from several collectors (merge-leases.ts) equal one collector's lines,
// however a lease's minutes, energy and flags are split between collectors, with collectors that
// never saw the GPU giving zeros and no place; the statement built from them totals its lines
// exactly. A part's window sent on as terms (lease-terms.ts) gives the same window back.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { termsOf } from "../../../collector/fanout/lease-terms.js";
import { mergeLeaseParts, SUMMED_INTEGERS } from "../../../collector/merge/merge-leases.js";
import { type LeaseLinePart, leaseWindow } from "../../../collector/reports/lease-lines.js";
import { buildStatement } from "../../../collector/reports/lease-report.js";

const MIN = 60_000;
const SUMMED = SUMMED_INTEGERS;

const partArb = (i: number) =>
  fc
    .record({
      tenant: fc.constantFrom("acme", "globex"),
      from: fc.nat({ max: 600 }),
      length: fc.nat({ max: 600 }),
      price: fc.option(fc.nat({ max: 9_000_000 })),
      availability: fc.option(fc.integer({ min: 90_000, max: 100_000 })),
      sums: fc.array(fc.nat({ max: 40 * MIN }), { minLength: SUMMED.length, maxLength: SUMMED.length }),
      down: fc.nat({ max: 600 }),
    })
    .map((r): LeaseLinePart => {
      const fromMs = r.from * MIN;
      const toMs = fromMs + r.length * MIN;
      return {
        lease: `L-${i}`,
        tenant: r.tenant,
        device: `GPU-${i % 3}`,
        gpu: `GPU-${i % 3}`,
        host: `node-${i % 2}`,
        site: "fra1",
        model: "NVIDIA H100 80GB HBM3",
        contract: null,
        currency: r.price === null ? null : "EUR",
        priceMicros: r.price,
        availabilityMilli: r.availability,
        labels: { team: r.tenant },
        fromMs,
        toMs,
        leasedMs: toMs - fromMs,
        downMs: Math.min(r.down * MIN, toMs - fromMs),
        ...(Object.fromEntries(SUMMED.map((k, j) => [k, r.sums[j] ?? 0])) as Pick<
          LeaseLinePart,
          (typeof SUMMED)[number]
        >),
      };
    });

const arb = fc
  .integer({ min: 1, max: 8 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => partArb(i))))
  .chain((whole) =>
    fc.record({
      whole: fc.constant(whole),
      ways: fc.integer({ min: 1, max: 4 }),
      draws: fc.array(fc.nat({ max: 999 }), { minLength: 8, maxLength: 64 }),
    }),
  );

/** Each lease's integers spread over `ways` collectors; one knows the GPU's place, the others may not. */
function spread(whole: readonly LeaseLinePart[], ways: number, draws: readonly number[]): LeaseLinePart[][] {
  const parts: LeaseLinePart[][] = Array.from({ length: ways }, () => []);
  let d = 0;
  const next = () => draws[d++ % draws.length] ?? 0;
  for (const p of whole) {
    const left = Object.fromEntries(SUMMED.map((k) => [k, p[k]])) as Record<(typeof SUMMED)[number], number>;
    const placed = next() % ways;
    for (let w = 0; w < ways; w++) {
      const own = Object.fromEntries(
        SUMMED.map((k) => {
          const take = w === ways - 1 ? left[k] : Math.floor((left[k] * next()) / 1000);
          left[k] -= take;
          return [k, take];
        }),
      );
      // Only a collector that saw the GPU's samples knows where it is.
      const knows = w === placed || (own.coveredMs ?? 0) > 0;
      // Down time: the collector that saw the GPU has all of it; another may have part of the
      // same episodes (an offline status reaches every collector), never more.
      const downMs = w === placed ? p.downMs : Math.floor((p.downMs * next()) / 1000);
      parts[w]?.push({ ...p, ...own, downMs, ...(knows ? {} : { host: "", site: "", model: "" }) });
    }
  }
  return parts;
}

describe("merged lease line parts (property)", () => {
  it("add up to one collector's lines, and its statements", () => {
    fc.assert(
      fc.property(arb, ({ whole, ways, draws }) => {
        const one = mergeLeaseParts([whole]);
        const merged = mergeLeaseParts(spread(whole, ways, draws));
        expect(merged).toEqual(one);
        for (const tenant of ["acme", "globex"]) {
          const header = { tenant, month: "2026-01", fromMs: 0, toMs: 31 * 1440 * MIN, nowMs: 700 * MIN };
          const s = buildStatement(header, merged);
          expect(s).toEqual(buildStatement(header, whole));
          expect(s.total.busyMs).toBe(s.lines.reduce((n, l) => n + l.busyMs, 0));
          expect(s.total.leasedMs).toBe(s.lines.reduce((n, l) => n + l.leasedMs, 0));
          const eur = s.lines.reduce((n, l) => n + (l.currency === "EUR" ? l.costMicros : 0), 0);
          expect(s.total.costMicros.EUR?.cost ?? 0).toBe(eur);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("places the GPU where the part with the most known time says, whatever the order", () => {
    const [base] = fc.sample(partArb(0), { numRuns: 1, seed: 7 }) as [LeaseLinePart];
    const at = (host: string, coveredMs: number): LeaseLinePart => ({ ...base, host, coveredMs });
    for (const order of [
      [at("", 0), at("node-a", 10), at("node-b", 5), at("node-c", 12)],
      [at("node-c", 12), at("node-b", 5), at("", 0), at("node-a", 10)],
    ]) {
      const [merged] = mergeLeaseParts(order.map((p) => [p]));
      expect(merged?.host).toBe("node-c");
      expect(merged?.coveredMs).toBe(27);
    }
  });

  it("sends a lease on as terms that give its window back", () => {
    fc.assert(
      fc.property(arb, fc.nat({ max: 1200 }), ({ whole }, now) => {
        for (const p of whole) {
          const range = { fromMs: 0, toMs: 1200 * MIN };
          expect(leaseWindow(termsOf(p), range.fromMs, range.toMs, Math.max(p.toMs, now * MIN))).toEqual({
            fromMs: p.fromMs,
            toMs: p.toMs,
          });
        }
      }),
    );
  });
});
