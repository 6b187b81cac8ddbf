// Lease line parts merged from several collectors (merge-leases.ts) equal one collector's lines,
// however a lease's minutes, energy, flags and down stretches are split between collectors: the
// down stretches cut in pieces that overlap or touch, each piece on one collector or on several
// (an offline status reaches every collector), with collectors that never saw the GPU giving
// zeros, no stretch and no place. A GPU that moved during the lease has its places (host
// stretches) split alike. The statement and the report by host built from them equal one
// collector's, with totals the exact sum of their lines and groups. A part's window sent on as
// terms (lease-terms.ts) gives the same window back.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { termsOf } from "../../../collector/fanout/lease-terms.js";
import { mergeLeaseParts, SUMMED_INTEGERS } from "../../../collector/merge/merge-leases.js";
import {
  DOWN_KINDS,
  type DownEpisode,
  type DownKind,
  stretchMs,
  stretchMsIn,
  unionEpisodes,
} from "../../../collector/reports/down-time.js";
import {
  addUses,
  boundEpisodes,
  type LeaseLinePart,
  type LeasePlace,
  type LeaseUse,
  leaseWindow,
  MAX_DOWN_EPISODES,
} from "../../../collector/reports/lease-lines.js";
import { buildLeaseReport, buildStatement } from "../../../collector/reports/lease-report.js";
import { expectGroupsAddUp } from "../reports/helpers.js";

const MIN = 60_000;
const SUMMED = SUMMED_INTEGERS;
const HOSTS = ["node-a", "node-b", "node-c"];

const useArb = fc
  .array(fc.nat({ max: 40 * MIN }), { minLength: SUMMED.length, maxLength: SUMMED.length })
  .map((v) => Object.fromEntries(SUMMED.map((k, j) => [k, v[j] ?? 0])) as unknown as LeaseUse);

const partArb = (i: number) =>
  fc
    .record({
      tenant: fc.constantFrom("acme", "globex"),
      from: fc.nat({ max: 600 }),
      length: fc.nat({ max: 600 }),
      price: fc.option(fc.nat({ max: 9_000_000 })),
      availability: fc.option(fc.integer({ min: 90_000, max: 100_000 })),
      // Where the GPU moved during the window (minutes into it) and each stretch's use.
      moves: fc.array(fc.nat({ max: 600 }), { maxLength: 3 }),
      uses: fc.array(useArb, { minLength: 4, maxLength: 4 }),
      // Raw down episodes: start, length (ms, odd), kinds.
      down: fc.array(
        fc.record({
          at: fc.nat({ max: 600 * MIN }),
          length: fc.integer({ min: 1, max: 90 * MIN }),
          kinds: fc.uniqueArray(fc.constantFrom(...DOWN_KINDS), { minLength: 1, maxLength: 3 }),
        }),
        { maxLength: 6 },
      ),
    })
    .map((r): LeaseLinePart => {
      const fromMs = r.from * MIN;
      const toMs = fromMs + r.length * MIN;
      const cuts = [...new Set(r.moves.filter((m) => m > 0 && m < r.length))].sort((a, b) => a - b);
      const edges = [fromMs, ...cuts.map((m) => fromMs + m * MIN), toMs];
      const episodes = unionEpisodes([
        r.down
          .map((d) => ({
            fromMs: fromMs + d.at,
            toMs: Math.min(toMs, fromMs + d.at + d.length),
            kinds: d.kinds,
          }))
          .filter((d) => d.toMs > d.fromMs),
      ]);
      const places: LeasePlace[] = edges.slice(1).map((to, j) => ({
        host: HOSTS[j % HOSTS.length] as string,
        site: "fra1",
        fromMs: edges[j] as number,
        toMs: to,
        downMs: stretchMsIn(episodes, edges[j] as number, to),
        ...(r.uses[j] as LeaseUse),
      }));
      return {
        lease: `L-${i}`,
        tenant: r.tenant,
        device: `GPU-${i % 3}`,
        gpu: `GPU-${i % 3}`,
        host: places[places.length - 1]?.host ?? "",
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
        ...addUses(places),
        downMs: stretchMs(episodes),
        down: episodes,
        places: places.length > 1 ? places : [],
        usageMeasured: true,
        usageAbsent: null,
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

/** A share of each integer of `use` for each of `ways` collectors, the last taking what is left. */
function shares(use: LeaseUse, ways: number, next: () => number): LeaseUse[] {
  const left = addUses([use]);
  return Array.from({ length: ways }, (_, w) => {
    const own = addUses([]);
    for (const k of SUMMED) {
      own[k] = w === ways - 1 ? left[k] : Math.floor((left[k] * next()) / 1000);
      left[k] -= own[k];
    }
    return own;
  });
}

/**
 * A collector's view of one down stretch: pieces that tile it, each stretched a little into the
 * next (overlaps count once), the first with every kind and the others with some; each piece goes
 * to one of the collectors that know the GPU, and sometimes to a second one as well.
 */
function pieces(e: DownEpisode, knowing: readonly number[], next: () => number): Map<number, DownEpisode[]> {
  const n = 1 + (next() % 3);
  const cuts = Array.from(
    { length: n - 1 },
    () => e.fromMs + Math.floor(((e.toMs - e.fromMs) * next()) / 1000),
  );
  const edges = [e.fromMs, ...cuts.sort((a, b) => a - b), e.toMs];
  const out = new Map<number, DownEpisode[]>();
  const give = (w: number, piece: DownEpisode) => out.set(w, [...(out.get(w) ?? []), piece]);
  for (let j = 0; j + 1 < edges.length; j++) {
    const to = Math.min(e.toMs, (edges[j + 1] as number) + (next() % 3) * 7_000);
    const kinds: DownKind[] = j === 0 ? e.kinds : e.kinds.filter((_, x) => x === 0 || next() % 2 === 0);
    const piece = { fromMs: edges[j] as number, toMs: to, kinds };
    const w = knowing[next() % knowing.length] as number;
    give(w, piece);
    const again = knowing[next() % knowing.length] as number;
    if (next() % 3 === 0 && again !== w) give(again, piece);
  }
  return out;
}

/** Each lease's integers, places and down stretches spread over `ways` collectors. */
function spread(whole: readonly LeaseLinePart[], ways: number, draws: readonly number[]): LeaseLinePart[][] {
  const parts: LeaseLinePart[][] = Array.from({ length: ways }, () => []);
  let d = 0;
  const next = () => draws[d++ % draws.length] ?? 0;
  for (const p of whole) {
    const placesOf: readonly LeaseUse[] = p.places.length > 0 ? p.places : [p];
    const split = placesOf.map((pl) => shares(pl, ways, next));
    const placed = next() % ways;
    // Only a collector that saw the GPU's samples or flags knows where it is (and has its down stretches).
    const knowing = Array.from({ length: ways }, (_, w) => w).filter(
      (w) => w === placed || split.some((s) => SUMMED.some((k) => (s[w]?.[k] ?? 0) > 0)),
    );
    const down = new Map<number, DownEpisode[]>();
    for (const e of p.down ?? [])
      for (const [w, list] of pieces(e, knowing, next)) down.set(w, [...(down.get(w) ?? []), ...list]);
    for (let w = 0; w < ways; w++) {
      const own = unionEpisodes([down.get(w) ?? []]);
      const uses = split.map((s) => s[w] as LeaseUse);
      const places = p.places.map((pl, j) => ({
        ...pl,
        ...(uses[j] as LeaseUse),
        downMs: stretchMsIn(own, pl.fromMs, pl.toMs),
      }));
      const knows = knowing.includes(w);
      parts[w]?.push({
        ...p,
        ...addUses(uses),
        downMs: stretchMs(own),
        down: own,
        places: knows ? places : [],
        ...(knows ? {} : { host: "", site: "", model: "" }),
      });
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
        const header = { fromMs: 0, toMs: 1200 * MIN, nowMs: 1200 * MIN };
        for (const by of ["host", "site", "tenant"] as const) {
          const r = buildLeaseReport(header, by, merged);
          expect(r).toEqual(buildLeaseReport(header, by, whole));
          expectGroupsAddUp(r);
        }
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

  it("falls back to the largest part's down time when a part leaves its stretches out", () => {
    const [base] = fc.sample(partArb(0), { numRuns: 1, seed: 11 }) as [LeaseLinePart];
    const many = Array.from({ length: MAX_DOWN_EPISODES + 1 }, (_, k) => ({
      fromMs: base.fromMs + 2 * k,
      toMs: base.fromMs + 2 * k + 1,
      kinds: ["stale" as const],
    }));
    expect(boundEpisodes(many)).toBeNull();
    expect(boundEpisodes(many.slice(1))).toHaveLength(MAX_DOWN_EPISODES);
    const cut = { ...base, places: [], downMs: 5 * MIN, down: null };
    const sent = {
      ...base,
      places: [],
      downMs: 3 * MIN,
      down: [{ fromMs: base.fromMs, toMs: base.fromMs + 3 * MIN, kinds: ["lost" as const] }],
    };
    for (const order of [
      [cut, sent],
      [sent, cut],
    ]) {
      const [merged] = mergeLeaseParts(order.map((p) => [p]));
      expect(merged?.downMs).toBe(5 * MIN);
      expect(merged?.down).toBeNull();
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
