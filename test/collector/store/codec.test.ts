import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  chunkSample,
  chunkTimestamps,
  decodeChunk,
  encodeChunk,
} from "../../../collector/store/chunk-codec.js";
import {
  METRIC_COUNT,
  readRecentEntries,
  type StoredSample,
  writeRecentEntry,
} from "../../../collector/store/sample.js";
import { SeqRanges } from "../../../collector/store/seq-ranges.js";
import { parseTierRules } from "../../../collector/store/tiers.js";
import { addUvarintRuns, addUvarints, ByteReader, ByteWriter } from "../../../collector/store/varint.js";

const value = fc.oneof(
  fc.constant(Number.NaN),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.constant(2 ** 52 + 3),
);
const samplesArb = fc
  .uniqueArray(fc.integer({ min: 1_700_000_000_000, max: 1_700_100_000_000 }), {
    minLength: 1,
    maxLength: 80,
  })
  .chain((tss) =>
    fc.tuple(
      fc.constant([...tss].sort((a, b) => a - b)),
      fc.array(fc.array(value, { minLength: METRIC_COUNT, maxLength: METRIC_COUNT }), {
        minLength: tss.length,
        maxLength: tss.length,
      }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: tss.length, maxLength: tss.length }),
    ),
  )
  .map(([tss, vals, states]) =>
    tss.map(
      (ts, k): StoredSample => ({
        ts,
        intervalMs: 1000 + (k % 3),
        state: states[k] as number,
        vals: Float64Array.from(vals[k] as number[]),
      }),
    ),
  );

function plain(s: StoredSample) {
  return { ts: s.ts, intervalMs: s.intervalMs, state: s.state, vals: Array.from(s.vals) };
}

describe("varint", () => {
  it("round-trips signed integers up to 2^53", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 })), (values) => {
        const w = new ByteWriter(4);
        for (const v of values) w.svarint(v);
        const r = new ByteReader(w.finish());
        expect(values.map(() => r.svarint())).toEqual(values);
        expect(r.done).toBe(true);
      }),
    );
  });

  it("adds unsigned varints up to 2^53 into sums, times a sign (the usage edges' rows)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 53 - 1 }), { maxLength: 9 }),
        fc.constantFrom(1, -1),
        (values, sign) => {
          const w = new ByteWriter(4);
          for (const v of values) w.uvarint(v);
          const sums = values.map((_, i) => i);
          addUvarints(w.finish(), sign, sums);
          expect(sums).toEqual(values.map((v, i) => i + sign * v));
        },
      ),
    );
    expect(() => addUvarints(Uint8Array.of(0x80), 1, [0])).toThrow(RangeError);
  });

  it("adds runs of varints from an offset, each run times its sign (a GPU's lookups in one blob)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.array(fc.integer({ min: 0, max: 2 ** 49 /* six runs stay exact */ }), {
              minLength: 3,
              maxLength: 3,
            }),
            fc.constantFrom(1, -1),
          ),
          { maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 4 }),
        (runs, pad) => {
          const w = new ByteWriter(4);
          for (let i = 0; i < pad; i++) w.byte(0xff); // bytes before the runs (a GPU id)
          for (const [values] of runs) for (const v of values) w.uvarint(v);
          const bytes = w.finish();
          const sums = [1, 2, 3];
          const end = addUvarintRuns(
            bytes,
            pad,
            3,
            runs.map(([, sign]) => sign),
            sums,
          );
          expect(end).toBe(bytes.length);
          expect(sums).toEqual(
            [0, 1, 2].map((i) => i + 1 + runs.reduce((s, [v, sign]) => s + sign * (v[i] as number), 0)),
          );
        },
      ),
    );
    expect(() => addUvarintRuns(Uint8Array.of(0, 0x80), 0, 2, [1], [0, 0])).toThrow(RangeError);
  });
});

describe("raw block codec", () => {
  it("round-trips samples exactly, absent (NaN) staying absent", () => {
    fc.assert(
      fc.property(samplesArb, (samples) => {
        const blob = encodeChunk(samples);
        const c = decodeChunk(blob);
        expect(Array.from(chunkTimestamps(blob))).toEqual(samples.map((s) => s.ts));
        expect(c.n).toBe(samples.length);
        for (let k = 0; k < c.n; k++)
          expect(plain(chunkSample(c, k))).toEqual(plain(samples[k] as StoredSample));
      }),
    );
  });

  it("round-trips a batch's recent row", () => {
    fc.assert(
      fc.property(samplesArb, (samples) => {
        const w = new ByteWriter(16);
        samples.forEach((s, k) => {
          writeRecentEntry(w, k % 5, s);
        });
        const back = readRecentEntries(w.finish());
        expect(back.map((e) => e.gpuId)).toEqual(samples.map((_, k) => k % 5));
        expect(back.map((e) => plain(e.sample))).toEqual(samples.map(plain));
      }),
    );
  });
});

describe("SeqRanges", () => {
  it("behaves like a set of integers", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 200 }), (seqs) => {
        const ranges = new SeqRanges();
        const set = new Set<number>();
        for (const s of seqs) {
          expect(ranges.add(s)).toBe(!set.has(s));
          set.add(s);
        }
        const reparsed = SeqRanges.parse(String(ranges));
        for (let s = 0; s <= 61; s++) expect(reparsed.has(s)).toBe(set.has(s));
      }),
    );
  });
});

describe("tier rules", () => {
  it("parses the defaults", () => {
    expect(parseTierRules(["48h:raw", "30d:1m", "2y:1h"])).toEqual({
      rawRetentionMs: 48 * 3_600_000,
      rollups: [
        { stepMs: 60_000, retentionMs: 30 * 86_400_000 },
        { stepMs: 3_600_000, retentionMs: 2 * 365 * 86_400_000 },
      ],
    });
  });

  it("reports every problem at once", () => {
    let message = "";
    try {
      parseTierRules(["48h", "xx:1m", "1d:7s", "2d:1m", "1d:1m"]);
    } catch (error) {
      message = String(error);
    }
    expect(message).toContain('retention[0]: "48h" is not');
    expect(message).toContain('retention "xx"');
    expect(message).toContain("step 1m appears twice");
    expect(message).toContain("not a multiple of 7s");
    expect(message).toContain("retention[4]: retention 1d must be at least as long");
  });
});
