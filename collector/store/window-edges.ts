// Edge rows for many (GPU, point) lookups in one statement per tier (issue 15: the lease reports
// read every lease window's edges; 20,000 leases in a month ask about 80,000 distinct rows).
// One prepared point read per lookup cost about 2.5 µs in JS around a sub-microsecond seek; here
// the lookups go to SQLite as one JSON array of integers and the rows come back as one blob, as
// UsageEdges.signedSums does for the fleet's GPUs.
//
// A lookup is the newest row of tier t in (afterMs, atMs] where afterMs is the start of the
// parent holding atMs - 1 (usage-edges.ts): so (GPU, atMs / step) says it all, packed into one
// integer. Lookups that do not fit that shape (an afterMs elsewhere, a point off the tier's
// steps, an integer past 2^53) are read one by one, with the same answer.
import type { Database, Statement } from "better-sqlite3";
import { EDGE_SUMS, type EdgeLookup, type UsageEdges, ZERO_SUMS } from "./usage-edges.js";
import { addUvarintRuns, addUvarints } from "./varint.js";

export type PointLookup = EdgeLookup & { gpuId: number };

const ONE = [1];
const statements = new WeakMap<Database, { blob: Statement; one: Statement }>();

function prepared(db: Database) {
  let s = statements.get(db);
  if (!s) {
    // The codes are gpu << bits | point, the point atMs / step. Numbers arrive bound as doubles:
    // cast, so that the parent's start is an integer division, not a real one.
    const at = "(j.value & @mask) * CAST(@step AS INTEGER)";
    const parent = "CAST(@parent AS INTEGER)";
    s = {
      blob: db
        .prepare(
          `SELECT CAST(group_concat(ifnull((SELECT m.sums FROM usage_edges AS m
              WHERE m.step_ms = @step AND m.gpu_id = (j.value >> @bits)
                AND m.edge_ms > (${at} - 1) / ${parent} * ${parent} AND m.edge_ms <= ${at}
              ORDER BY m.edge_ms DESC LIMIT 1), ${ZERO_SUMS}), '') AS BLOB)
             FROM json_each(@codes) AS j`,
        )
        .pluck(true),
      one: db
        .prepare(
          `SELECT sums FROM usage_edges WHERE step_ms = ? AND gpu_id = ? AND edge_ms > ? AND edge_ms <= ?
            ORDER BY edge_ms DESC LIMIT 1`,
        )
        .pluck(true),
    };
    statements.set(db, s);
  }
  return s;
}

/** Binary search: the index of `x` in sorted `a` (present by construction). */
function indexOf(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Each lookup's row, added with its sign into sums[into(k) * EDGE_SUMS + i] for lookup k: `into`
 * maps a lookup to the total it belongs to (a window). Equal lookups are read once.
 */
export function addPointSums(
  db: Database,
  edges: UsageEdges,
  steps: readonly number[],
  lookups: readonly PointLookup[],
  into: (k: number) => number,
  sums: Float64Array,
): void {
  const s = prepared(db);
  const row = new Array<number>(EDGE_SUMS);
  const addRow = (k: number, values: readonly number[] | Float64Array, at: number) => {
    const base = into(k) * EDGE_SUMS;
    const sign = (lookups[k] as PointLookup).sign;
    for (let i = 0; i < EDGE_SUMS; i++)
      sums[base + i] = (sums[base + i] as number) + sign * (values[at + i] as number);
  };
  /** One lookup read by itself (the shapes the packed read does not take). */
  const readOne = (k: number) => {
    const l = lookups[k] as PointLookup;
    const b = s.one.get(steps[l.t] as number, l.gpuId, l.afterMs, l.atMs) as Buffer | undefined;
    if (!b) return;
    row.fill(0);
    addUvarints(b, 1, row);
    addRow(k, row, 0);
  };
  for (let t = 0; t < steps.length; t++) {
    const step = steps[t] as number;
    const mine: number[] = [];
    let maxPoint = 0;
    lookups.forEach((l, k) => {
      if (l.t !== t || l.atMs <= l.afterMs) return;
      const packable =
        l.atMs % step === 0 &&
        edges.parentOf(t, l.atMs - 1).start === l.afterMs &&
        Number.isSafeInteger(l.gpuId) &&
        l.gpuId >= 0 &&
        l.atMs > 0;
      if (packable) {
        mine.push(k);
        maxPoint = Math.max(maxPoint, l.atMs / step);
        return;
      }
      readOne(k);
    });
    if (mine.length === 0) continue;
    const bits = Math.max(1, Math.ceil(Math.log2(maxPoint + 1)));
    const scale = 2 ** bits;
    const code = (l: PointLookup) => l.gpuId * scale + l.atMs / step;
    let maxCode = 0;
    const codes = new Float64Array(mine.length);
    mine.forEach((k, n) => {
      const c = code(lookups[k] as PointLookup);
      codes[n] = c;
      maxCode = Math.max(maxCode, c);
    });
    if (!Number.isSafeInteger(maxCode) || bits > 52) {
      for (const k of mine) readOne(k);
      continue;
    }
    // Distinct codes in order (GPU, then point): neighbouring rows come from pages just read.
    codes.sort();
    let n = 0;
    for (let i = 0; i < codes.length; i++)
      if (i === 0 || codes[i] !== codes[n - 1]) codes[n++] = codes[i] as number;
    const distinct = codes.subarray(0, n);
    const blob = s.blob.get({
      step,
      bits,
      mask: scale - 1,
      parent: edges.parentStep(t),
      codes: JSON.stringify(Array.from(distinct)),
    }) as Buffer | null;
    const values = new Float64Array(n * EDGE_SUMS);
    if (blob) decodeRuns(blob, values);
    for (const k of mine) addRow(k, values, indexOf(distinct, code(lookups[k] as PointLookup)) * EDGE_SUMS);
  }
}

/** The blob's runs in order into `out` (EDGE_SUMS per lookup); throws when they do not fill it. */
function decodeRuns(blob: Uint8Array, out: Float64Array): void {
  const row = new Array<number>(EDGE_SUMS);
  let p = 0;
  for (let k = 0; k < out.length / EDGE_SUMS; k++) {
    row.fill(0);
    p = addUvarintRuns(blob, p, EDGE_SUMS, ONE, row);
    out.set(row, k * EDGE_SUMS);
  }
  if (p !== blob.length) throw new RangeError("usage edge blob does not match its lookups");
}
