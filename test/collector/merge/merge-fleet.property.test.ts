// Thermal, capacity and downtime reports merged from several collectors' parts (merge-fleet.ts)
// equal the report of one part holding everything, however each stretch's integers are split
// between the parts (random splits of a GPU's minutes, energy and readings sum to the whole), a
// collector that knew a GPU later (a shorter period), and flag episodes held by one collector or
// by several (round robin: each holds a copy).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FleetPart, FleetPartKind, StretchPart } from "../../../collector/contract/api-contract.js";
import type { Flag, FlagKind } from "../../../collector/flags/types.js";
import { mergeFleetReport, mergeStretches } from "../../../collector/merge/merge-fleet.js";
import { usageRow } from "../../../collector/reports/fleet-usage.js";
import type { UsageSums } from "../../../collector/usage/usage-sums.js";
import { expectSame } from "../../scale/fanout-helpers.js";

const MIN = 60_000;
const RANGE = { fromMs: 0, toMs: 120 * MIN };
const NOW = 100 * MIN;
const HOSTS = ["node-a", "node-b", "node-c"];
const MODELS = ["NVIDIA H100 80GB HBM3", "NVIDIA L40S", "Mystery GPU"];
const INTEGERS = [
  "samples",
  "busyMs",
  "idleMs",
  "idleHeldMs",
  "unknownMs",
  "energyCwms",
  "energyIdleCwms",
  "utilizationSum",
  "utilizationCount",
] as const satisfies readonly (keyof UsageSums)[];

/** A GPU's stretches: on one host the whole range, or moved at `cut` to another. */
const gpuArb = (i: number) =>
  fc
    .record({
      hosts: fc.tuple(fc.constantFrom(...HOSTS), fc.constantFrom(...HOSTS)),
      moved: fc.boolean(),
      cut: fc.integer({ min: 1, max: 119 }).map((m) => m * MIN),
      model: fc.constantFrom(...MODELS),
      sums: fc.array(fc.array(fc.nat({ max: 5_000_000 }), { minLength: 9, maxLength: 9 }), {
        minLength: 2,
        maxLength: 2,
      }),
      temps: fc.array(fc.option(fc.integer({ min: 20, max: 95 })), { minLength: 2, maxLength: 2 }),
      periods: fc.array(fc.nat({ max: 120 * MIN }), { minLength: 2, maxLength: 2 }),
    })
    .map((g): StretchPart[] => {
      const edges = g.moved ? [RANGE.fromMs, g.cut, RANGE.toMs] : [RANGE.fromMs, RANGE.toMs];
      return edges.slice(0, -1).map((fromMs, s) => {
        const sums = g.sums[s] ?? [];
        return {
          uuid: `GPU-${String(i).padStart(3, "0")}`,
          index: i % 8,
          host: g.hosts[s] ?? "node-a",
          site: "fra1",
          model: g.model,
          labels: { customer: `c${i % 2}` },
          fromMs,
          toMs: edges[s + 1] as number,
          periodMs: g.periods[s] ?? 0,
          ...(Object.fromEntries(INTEGERS.map((k, j) => [k, sums[j] ?? 0])) as Omit<
            UsageSums,
            "maxTemperatureC"
          >),
          maxTemperatureC: g.temps[s] ?? null,
        };
      });
    });

const KINDS: FlagKind[] = ["overheat", "throttled", "lost", "error", "offline", "stale"];
const flagArb = (uuids: readonly string[]) =>
  fc
    .record({
      kind: fc.constantFrom(...KINDS),
      host: fc.constantFrom(...HOSTS),
      gpu: fc.nat({ max: Math.max(0, uuids.length - 1) }),
      // Five-minute steps: episodes that start together (their order must not matter).
      start: fc.integer({ min: 0, max: 23 }).map((m) => m * 5 * MIN),
      length: fc.option(fc.integer({ min: 1, max: 60 * MIN })),
      lost: fc.nat({ max: 30 * MIN }),
    })
    .map(
      (f): Flag => ({
        id: 0,
        kind: f.kind,
        severity: "warning",
        host: f.host,
        gpuUuid: f.kind === "offline" || f.kind === "stale" ? null : (uuids[f.gpu] ?? null),
        gpuIndex: null,
        site: "fra1",
        labels: {},
        startMs: f.start,
        endMs: f.length === null ? null : f.start + f.length,
        reason: `${f.kind} at ${f.start}`,
        values: { throttled_ms: f.lost },
        updatedMs: f.start,
      }),
    );

/** One collector's flags: of a kind, host and GPU, one episode at a time (the engine's rule). */
function oneAtATime(flags: readonly Flag[]): Flag[] {
  const out: Flag[] = [];
  for (const f of [...flags].sort((a, b) => a.startMs - b.startMs)) {
    const clash = out.some(
      (o) =>
        o.kind === f.kind &&
        o.host === f.host &&
        o.gpuUuid === f.gpuUuid &&
        (o.endMs === null || o.endMs >= f.startMs),
    );
    if (!clash) out.push(f);
  }
  return out;
}

/** Splits n into `ways` naturals that add up to n. */
function split(n: number, ways: number, draws: readonly number[]): number[] {
  const out: number[] = [];
  let left = n;
  for (let w = 0; w < ways - 1; w++) {
    const take = Math.floor(left * ((draws[w] ?? 0) / 1000));
    out.push(take);
    left -= take;
  }
  out.push(left);
  return out;
}

/** The whole stretches spread over `ways` parts; `draws` pick the shares. */
function spread(whole: readonly StretchPart[], ways: number, draws: readonly number[]): StretchPart[][] {
  const parts: StretchPart[][] = Array.from({ length: ways }, () => []);
  let d = 0;
  const next = () => draws[d++ % draws.length] ?? 0;
  for (const s of whole) {
    const shares = Object.fromEntries(
      INTEGERS.map((k) => [k, split(s[k], ways, Array.from({ length: ways }, next))]),
    ) as Record<(typeof INTEGERS)[number], number[]>;
    // One collector knew the GPU from the start of its stretch; the others perhaps later.
    const full = next() % ways;
    const hottest = next() % ways;
    for (let w = 0; w < ways; w++) {
      const own = Object.fromEntries(INTEGERS.map((k) => [k, shares[k][w] ?? 0]));
      const temp =
        w === hottest || s.maxTemperatureC === null
          ? s.maxTemperatureC
          : Math.max(0, s.maxTemperatureC - (next() % 5));
      const periodMs = w === full ? s.periodMs : Math.floor((s.periodMs * (next() % 1000)) / 1000);
      // A collector with nothing of a stretch may not list it at all.
      if (w !== full && INTEGERS.every((k) => own[k] === 0) && next() % 2 === 0) continue;
      parts[w]?.push({ ...s, ...own, periodMs, maxTemperatureC: temp });
    }
  }
  return parts;
}

const part = (kind: FleetPartKind, stretches: StretchPart[], flags: Flag[]): FleetPart => ({
  kind,
  ...RANGE,
  nowMs: NOW,
  stretches,
  flags,
});

const fleetArb = fc
  .integer({ min: 1, max: 6 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => gpuArb(i))))
  .chain((gpus) => {
    const whole = gpus.flat();
    const uuids = [...new Set(whole.map((s) => s.uuid))];
    return fc.record({
      whole: fc.constant(whole),
      flags: fc.array(flagArb(uuids), { maxLength: 12 }).map(oneAtATime),
      ways: fc.integer({ min: 1, max: 4 }),
      draws: fc.array(fc.nat({ max: 999 }), { minLength: 8, maxLength: 64 }),
      holders: fc.array(fc.nat({ max: 15 }), { minLength: 12, maxLength: 12 }),
    });
  });

/** One GPU busy on `host` for an hour from `fromMs`, at most `temp` °C. */
const stretch = (host: string, fromMs: number, temp: number): StretchPart => ({
  uuid: "GPU-moved",
  index: 0,
  host,
  site: "fra1",
  model: MODELS[0] as string,
  labels: {},
  fromMs,
  toMs: fromMs + 60 * MIN,
  periodMs: 60 * MIN,
  samples: 360,
  busyMs: 60 * MIN,
  idleMs: 0,
  idleHeldMs: 0,
  unknownMs: 0,
  energyCwms: 0,
  energyIdleCwms: 0,
  utilizationSum: 0,
  utilizationCount: 0,
  maxTemperatureC: temp,
});

describe("merged fleet report parts (property)", () => {
  it("add up to one collector's rows: sums split any way, the period its earliest sighting", () => {
    fc.assert(
      fc.property(fleetArb, ({ whole, ways, draws }) => {
        const merged = mergeStretches(spread(whole, ways, draws).map((stretches) => ({ stretches })));
        const ids = new Map([...new Set(whole.map((s) => s.uuid))].sort().map((u, i) => [u, i]));
        const expected = [...whole]
          .sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0) || a.fromMs - b.fromMs)
          .map((s) =>
            usageRow(
              ids.get(s.uuid) ?? -1,
              { uuid: s.uuid, index: s.index, model: s.model, name: s.host, site: s.site, labels: s.labels },
              s,
              s.periodMs,
            ),
          );
        expect(merged).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("give the thermal, capacity and downtime reports of one part holding everything", () => {
    fc.assert(
      fc.property(fleetArb, ({ whole, flags, ways, draws, holders }) => {
        const spreadParts = spread(whole, ways, draws);
        // Each episode on one collector, or (round robin) a copy on several.
        const flagsOf = (w: number) =>
          flags.filter((_, i) => {
            const mask = (holders[i % holders.length] ?? 0) % (1 << ways) || 1;
            return (mask & (1 << w)) !== 0;
          });
        for (const kind of ["thermal", "capacity", "downtime"] as const) {
          for (const by of ["site", "host", "model", "gpu"] as const) {
            const one = mergeFleetReport(kind, by, [part(kind, whole, flags)], NOW);
            const many = mergeFleetReport(
              kind,
              by,
              spreadParts.map((s, w) => part(kind, s, flagsOf(w))),
              NOW,
            );
            expectSame(many, one, `${kind} by ${by}`);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it("gives a down interval's kinds and reasons in one order, whichever collector held which episode", () => {
    const s = stretch("node-a", 0, 70);
    const flag = (kind: FlagKind, gpuUuid: string | null): Flag => ({
      id: 1,
      kind,
      severity: "critical",
      host: "node-a",
      gpuUuid,
      gpuIndex: null,
      site: "fra1",
      labels: {},
      startMs: 10 * MIN,
      endMs: 20 * MIN,
      reason: kind,
      values: {},
      updatedMs: 20 * MIN,
    });
    const lost = flag("lost", s.uuid);
    const offline = flag("offline", null);
    const one = mergeFleetReport("downtime", "host", [part("downtime", [s], [lost, offline])], NOW);
    const two = mergeFleetReport(
      "downtime",
      "host",
      [part("downtime", [s], [offline]), part("downtime", [], [lost])],
      NOW,
    );
    expect(two).toEqual(one);
    if (one.kind !== "downtime") return;
    expect(one.down[0]?.intervals).toEqual([
      { fromMs: 10 * MIN, toMs: 20 * MIN, kinds: ["lost", "offline"], reasons: ["lost", "offline"] },
    ]);
  });

  it("keeps an xid episode apart from the one whose escalation closed it at the same instant", () => {
    // Xid 92 (ignored: no down time) at 0 and 10 min, then Xid 48 at 20 and 25 min: the 92s' flag
    // closes at 20 min as the 48's opens. Joined as copies of one episode, both took the 48's
    // values and the GPU was down from 0 in the merged report, where one collector says 20 to 25.
    const s = stretch("node-a", 0, 70);
    const xid = (startMs: number, endMs: number | null, values: Flag["values"]): Flag => ({
      id: startMs,
      kind: "xid",
      severity: values.action === "none" ? "info" : "warning",
      host: "node-a",
      gpuUuid: s.uuid,
      gpuIndex: 0,
      site: "fra1",
      labels: {},
      startMs,
      endMs,
      reason: `Xid ${values.code}`,
      values,
      updatedMs: endMs ?? 25 * MIN,
    });
    const ignored = xid(0, 20 * MIN, {
      code: 92,
      fault: "hardware",
      action: "none",
      fault_last_ms: 10 * MIN,
    });
    const acted = xid(20 * MIN, null, {
      code: 48,
      fault: "hardware",
      action: "investigate",
      fault_last_ms: 25 * MIN,
    });
    for (const parts of [
      [part("downtime", [s], [ignored, acted])],
      [part("downtime", [s], [ignored, acted]), part("downtime", [], [acted, ignored])],
    ]) {
      const r = mergeFleetReport("downtime", "host", parts, NOW);
      if (r.kind !== "downtime") throw new Error(r.kind);
      expect(r.down[0]?.intervals.map((i) => [i.fromMs, i.toMs, i.kinds])).toEqual([
        [20 * MIN, 25 * MIN, ["xid"]],
      ]);
    }
  });

  it("lists a GPU that moved once among the hottest, and counts it once in the total", () => {
    const [a, b] = [0, 60 * MIN];
    const r = mergeFleetReport(
      "thermal",
      "host",
      [part("thermal", [stretch("node-a", a, 81)], []), part("thermal", [stretch("node-b", b, 84)], [])],
      NOW,
    );
    expect(r.kind).toBe("thermal");
    if (r.kind !== "thermal") return;
    expect(r.hottest).toEqual([
      { uuid: "GPU-moved", host: "node-b", index: 0, model: MODELS[0], maxTemperatureC: 84 },
    ]);
    expect(r.total.gpus).toBe(1);
    expect(r.groups.map((g) => [g.key, g.gpus])).toEqual([
      ["node-a", 1],
      ["node-b", 1],
    ]);
  });
});
