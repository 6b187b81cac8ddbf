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
import { EDGE_SUMS, type UsageEdges, ZERO_SUMS } from "./usage-edges.js";
import { addUvarintRuns, addUvarints } from "./varint.js";

/**
 * Edge lookups as columns, entry k one lookup: the newest row of tier `tier[k]` of GPU `gpu[k]` in
 * (after[k], at[k]], added with `sign[k]` into total `into[k]`. A month's lease windows ask about
 * 100,000 lookups at a time: an object each cost more than the seeks they ask for.
 */
export class PointLookups {
  length = 0;
  gpu = new Float64Array(64);
  tier = new Int32Array(64);
  after = new Float64Array(64);
  at = new Float64Array(64);
  sign = new Int8Array(64);
  into = new Int32Array(64);

  push(gpuId: number, t: number, afterMs: number, atMs: number, sign: 1 | -1, into: number): void {
    if (this.length === this.gpu.length) this.grow();
    const k = this.length++;
    this.gpu[k] = gpuId;
    this.tier[k] = t;
    this.after[k] = afterMs;
    this.at[k] = atMs;
    this.sign[k] = sign;
    this.into[k] = into;
  }

  private grow(): void {
    this.gpu = twice(this.gpu);
    this.tier = twice(this.tier);
    this.after = twice(this.after);
    this.at = twice(this.at);
    this.sign = twice(this.sign);
    this.into = twice(this.into);
  }
}

/** A copy of `a` in an array of its own type, twice as long. */
function twice<T extends Float64Array | Int32Array | Int8Array>(a: T): T {
  const next = new (a.constructor as new (length: number) => T)(a.length * 2);
  next.set(a);
  return next;
}

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
 * Each lookup's row, added with its sign into sums[into[k] * EDGE_SUMS + i] for lookup k (`into`
 * names the total it belongs to: a window). Equal lookups are read once; a lookup with atMs <=
 * afterMs reads nothing.
 */
export function addPointSums(
  db: Database,
  edges: UsageEdges,
  steps: readonly number[],
  lookups: PointLookups,
  sums: Float64Array,
): void {
  const s = prepared(db);
  const { gpu, tier, after, at, sign, into } = lookups;
  const row = new Array<number>(EDGE_SUMS);
  const addRow = (k: number, values: readonly number[] | Float64Array, from: number) => {
    const base = (into[k] as number) * EDGE_SUMS;
    const sg = sign[k] as number;
    for (let i = 0; i < EDGE_SUMS; i++)
      sums[base + i] = (sums[base + i] as number) + sg * (values[from + i] as number);
  };
  /** One lookup read by itself (the shapes the packed read does not take). */
  const readOne = (k: number) => {
    const b = s.one.get(steps[tier[k] as number] as number, gpu[k], after[k], at[k]) as Buffer | undefined;
    if (!b) return;
    row.fill(0);
    addUvarints(b, 1, row);
    addRow(k, row, 0);
  };
  const mine = new Int32Array(lookups.length);
  for (let t = 0; t < steps.length; t++) {
    const step = steps[t] as number;
    let m = 0;
    let maxPoint = 0;
    for (let k = 0; k < lookups.length; k++) {
      const x = at[k] as number;
      if (tier[k] !== t || x <= (after[k] as number)) continue;
      const g = gpu[k] as number;
      const packable =
        x % step === 0 &&
        edges.parentStart(t, x - 1) === after[k] &&
        Number.isSafeInteger(g) &&
        g >= 0 &&
        x > 0;
      if (packable) {
        mine[m++] = k;
        maxPoint = Math.max(maxPoint, x / step);
      } else readOne(k);
    }
    if (m === 0) continue;
    const bits = Math.max(1, Math.ceil(Math.log2(maxPoint + 1)));
    const scale = 2 ** bits;
    const code = (k: number) => (gpu[k] as number) * scale + (at[k] as number) / step;
    let maxCode = 0;
    const codes = new Float64Array(m);
    for (let n = 0; n < m; n++) {
      const c = code(mine[n] as number);
      codes[n] = c;
      maxCode = Math.max(maxCode, c);
    }
    if (!Number.isSafeInteger(maxCode) || bits > 52) {
      for (let n = 0; n < m; n++) readOne(mine[n] as number);
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
    for (let j = 0; j < m; j++) {
      const k = mine[j] as number;
      addRow(k, values, indexOf(distinct, code(k)) * EDGE_SUMS);
    }
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
