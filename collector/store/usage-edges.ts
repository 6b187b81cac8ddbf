// Cumulative usage per GPU at rollup bucket edges (080_usage_edges.sql), so a range's usage costs
// a few index seeks per GPU instead of one row per bucket (issue 15: reports in O(GPUs)).
//
// A tier's row at edge E holds the sums of that tier's buckets of the GPU that start before E,
// counted from the start of the enclosing "parent": the bucket of the next coarser tier, or for
// the coarsest tier a 90-day era (which keeps energy sums in cW·ms below 2^53 up to ~11 kW). A
// row exists at bucket + step for every stored bucket, so the sums of [parent start, X) are the
// newest row in (parent start, X] — one seek. A merge into bucket T adds its growth to the rows
// after T in T's parent: at most parent/step - 1 rows (59 for minutes in hours); in the coarsest
// tier only late data finds rows after it. Sums are integers, so differences are exact.
import type { Database, Statement } from "better-sqlite3";
import { GputelError } from "../../shared/errors.js";
import type { UsageSums } from "../usage/usage-sums.js";
import { type UsageTable, WIDTH } from "./usage-table.js";
import { addUvarintRuns, addUvarints, ByteWriter } from "./varint.js";

/** The sums, in this order: samples, busy, idle, idle-held, unknown ms, energy and idle energy cW·ms, utilization sum and count. */
export const EDGE_SUMS = 9;
export type EdgeValues = number[];

/** GPU ids in (above, upTo]: a share of the fleet (one read thread's part of an aggregate). */
export interface IdSpan {
  above: number;
  upTo: number;
}

/** One edge read: the newest row of tier t in (afterMs, atMs], added with `sign`. */
export interface EdgeLookup {
  t: number;
  afterMs: number;
  atMs: number;
  sign: 1 | -1;
}

const META_KEY = "usage_edges_steps";
/** Prefixed to the steps in store_meta: rows written as 72-byte doubles (before it) are rebuilt. */
const FORMAT = "varint:";
const ERA_MS = 90 * 86_400_000;

const writer = new ByteWriter(EDGE_SUMS * 8);

/** signedSums' GPUs: all of them, a list (bound as JSON), or a span of ids (a rowid range). */
const FROM_GPUS = {
  all: "gpus AS g NOT INDEXED",
  list: "json_each(?) AS j CROSS JOIN gpus AS g ON g.id = j.value",
  span: "gpus AS g NOT INDEXED WHERE g.id > ? AND g.id <= ?",
} as const;
/** A lookup that found no row, in an edge-sums blob (signedSums, window-edges): EDGE_SUMS zero varints. */
export const ZERO_SUMS = `x'${"00".repeat(EDGE_SUMS)}'`;

/** The sums as unsigned varints: 20-30 bytes where nine doubles took 72, so more rows per page. */
function pack(v: readonly number[]): Buffer {
  writer.length = 0;
  for (let i = 0; i < EDGE_SUMS; i++) {
    const x = v[i] ?? 0;
    // Sums of merges that only add: a negative or fractional value is a bug, not data to round.
    if (!Number.isSafeInteger(x) || x < 0)
      throw new GputelError("GPUTEL_E_STORE", "A usage edge sum is not a non-negative integer", {
        sum: i,
        value: x,
      });
    writer.uvarint(x);
  }
  return writer.finish();
}

/**
 * The EDGE_SUMS sums from v[offset] as usage totals (maxTemperatureC null: not a sum, edges do
 * not keep it).
 */
export function edgeUsage(v: ArrayLike<number>, offset = 0): UsageSums {
  const at = (i: number) => v[offset + i] ?? 0;
  return {
    samples: at(0),
    busyMs: at(1),
    idleMs: at(2),
    idleHeldMs: at(3),
    unknownMs: at(4),
    energyCwms: at(5),
    energyIdleCwms: at(6),
    maxTemperatureC: null,
    utilizationSum: at(7),
    utilizationCount: at(8),
  };
}

/** Hex digits of a GPU id in a signedSums blob (ids are rowids far below 16^12). */
const ID_HEX = 12;

function hexId(b: Uint8Array, at: number): number {
  let id = 0;
  for (let p = at; p < at + ID_HEX; p++) {
    const c = b[p] as number;
    id = id * 16 + (c <= 0x39 ? c - 0x30 : c - 0x57); // '0'-'9', 'a'-'f' (printf's %x)
  }
  return id;
}

function unpack(b: Uint8Array): EdgeValues {
  const v = new Array<number>(EDGE_SUMS).fill(0);
  addUvarints(b, 1, v);
  return v;
}

export class UsageEdges {
  private stmts:
    | { after: Statement; latest: Statement; put: Statement; clear: Statement; buckets: Statement }
    | undefined;
  private readonly lookupStmts = new Map<string, Statement>();

  constructor(
    private readonly db: Database,
    /** Rollup steps, finest first. */
    private readonly steps: readonly number[],
  ) {}

  /** The span whose buckets tier t counts together: the next coarser step, or an era for the coarsest. */
  parentStep(t: number): number {
    const step = this.steps[t] as number;
    const parent = this.steps[t + 1];
    if (parent !== undefined && parent % step === 0) return parent;
    return Math.max(1, Math.floor(ERA_MS / step)) * step;
  }

  /** [start, end) of the parent holding a point of tier t. */
  parentOf(t: number, atMs: number): { start: number; end: number } {
    const start = this.parentStart(t, atMs);
    return { start, end: start + this.parentStep(t) };
  }

  /** parentOf(t, atMs).start without the object (lease reports ask it for every lookup). */
  parentStart(t: number, atMs: number): number {
    const p = this.parentStep(t);
    return atMs - (((atMs % p) + p) % p);
  }

  /**
   * The lookups whose signed sum is tier t's buckets in [from, to), handed to `add`: each
   * parent's prefix up to `to` minus the first parent's prefix up to `from`. A fine piece spans at
   * most two parents (rangePieces goes finer only where no coarser bucket fits); the coarsest, a
   * few eras.
   */
  rangeLookups(
    t: number,
    from: number,
    to: number,
    add: (afterMs: number, atMs: number, sign: 1 | -1) => void,
  ): void {
    const parent = this.parentStep(t);
    let start = this.parentStart(t, from);
    add(start, from, -1);
    for (;;) {
      const end = start + parent;
      add(start, Math.min(to, end), 1);
      if (to <= end) break;
      start = end;
    }
  }

  private prepared() {
    this.stmts ??= {
      after: this.db
        .prepare(
          "SELECT edge_ms, sums FROM usage_edges WHERE step_ms = ? AND gpu_id = ? AND edge_ms > ? AND edge_ms <= ?",
        )
        .raw(true),
      latest: this.db
        .prepare(
          `SELECT sums FROM usage_edges WHERE step_ms = ? AND gpu_id = ? AND edge_ms > ? AND edge_ms <= ?
            ORDER BY edge_ms DESC LIMIT 1`,
        )
        .pluck(true),
      put: this.db.prepare(
        "INSERT OR REPLACE INTO usage_edges (step_ms, gpu_id, edge_ms, sums) VALUES (?, ?, ?, ?)",
      ),
      clear: this.db.prepare("DELETE FROM usage_edges"),
      buckets: this.db
        .prepare(
          `SELECT bucket_ms, samples, busy_ms, idle_ms, idle_held_ms, unknown_ms, energy_cwms, energy_idle_cwms,
                  util_sum, util_count FROM rollups WHERE step_ms = ? AND gpu_id = ? ORDER BY bucket_ms`,
        )
        .raw(true),
    };
    return this.stmts;
  }

  /** Bucket `bucketMs` of tier t of a GPU grew by `delta` (after minus before, in EDGE_SUMS order). */
  added(t: number, gpuId: number, bucketMs: number, delta: EdgeValues): void {
    if (delta.every((v) => v === 0)) return;
    const s = this.prepared();
    const step = this.steps[t] as number;
    const edge = bucketMs + step;
    const parent = this.parentOf(t, bucketMs);
    const rows = s.after.all(step, gpuId, bucketMs, parent.end) as [number, Buffer][];
    if (rows[0]?.[0] !== edge) {
      // The bucket was empty: its edge starts from the newest edge before it in the parent.
      const prev = s.latest.get(step, gpuId, parent.start, bucketMs) as Buffer | undefined;
      const base = prev ? unpack(prev) : new Array<number>(EDGE_SUMS).fill(0);
      s.put.run(step, gpuId, edge, pack(base.map((v, i) => v + (delta[i] ?? 0))));
    }
    for (const [at, sums] of rows) {
      s.put.run(step, gpuId, at, pack(unpack(sums).map((v, i) => v + (delta[i] ?? 0))));
    }
  }

  /** Whether the rows were built for these steps; when not, rebuild() must run (writer only). */
  current(): boolean {
    const stored = this.db.prepare("SELECT value FROM store_meta WHERE key = ?").pluck().get(META_KEY);
    return stored === FORMAT + this.steps.join(",");
  }

  /** Recomputes every row from the rollups table (an older database, other tiers, a bulk load). */
  rebuild(): void {
    const s = this.prepared();
    const ids = this.db.prepare("SELECT id FROM gpus ORDER BY id").pluck(true).all() as number[];
    this.db.transaction(() => {
      s.clear.run();
      for (let t = 0; t < this.steps.length; t++) {
        const step = this.steps[t] as number;
        for (const gpuId of ids) {
          let parentEnd = Number.NEGATIVE_INFINITY;
          let run = new Array<number>(EDGE_SUMS).fill(0);
          for (const row of s.buckets.all(step, gpuId) as number[][]) {
            const bucket = row[0] as number;
            if (bucket >= parentEnd) {
              parentEnd = this.parentOf(t, bucket).end;
              run = new Array<number>(EDGE_SUMS).fill(0);
            }
            for (let i = 0; i < EDGE_SUMS; i++) run[i] = (run[i] as number) + (row[i + 1] as number);
            s.put.run(step, gpuId, bucket + step, pack(run));
          }
        }
      }
      this.db
        .prepare("INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)")
        .run(META_KEY, FORMAT + this.steps.join(","));
    })();
  }

  /**
   * Per GPU, the signed sum of lookups added into `into` (its first EDGE_SUMS columns): each the
   * newest row of tier t in (afterMs, atMs], i.e. the sums of the tier's buckets in
   * [afterMs, atMs) when afterMs is a parent start. One pass over the GPUs with one backward seek
   * per lookup (a join on max(edge_ms) reads every row of the range: about four times as long);
   * `only` limits it to a list of ids or a span of them. Every GPU read gets a row, its sums possibly all zero (no row, or nothing
   * in the range).
   *
   * The answer comes back as one blob: per GPU its id in hex, then each lookup's row (zeros for
   * none). A row handed to JS costs a value, an array and a Buffer, and 10,000 of them each time
   * (all alive until the last is read) cost about as much again as the seeks: most of it in
   * scavenges that copied them. The blob is added into the table's flat rows for the same reason.
   * The GPUs are walked in id order (NOT INDEXED: the planner's choice, the UUID index, visits
   * them in UUID order), so each seek lands next to the one before: 5–10 % less time here.
   */
  signedSums(lookups: readonly EdgeLookup[], into: UsageTable, only?: readonly number[] | IdSpan): void {
    const used = lookups.filter((l) => l.atMs > l.afterMs);
    if (used.length === 0) return;
    const mode = only === undefined ? "all" : Array.isArray(only) ? "list" : "span";
    const key = `${used.length}:${mode}`;
    let stmt = this.lookupStmts.get(key);
    if (!stmt) {
      const one = `ifnull((SELECT m.sums FROM usage_edges AS m
                     WHERE m.step_ms = ? AND m.gpu_id = g.id AND m.edge_ms > ? AND m.edge_ms <= ?
                     ORDER BY m.edge_ms DESC LIMIT 1), ${ZERO_SUMS})`;
      // || and group_concat copy the bytes as they are (typed text; the cast only retypes it).
      stmt = this.db
        .prepare(
          `SELECT CAST(group_concat(printf('%0${ID_HEX}x', g.id) || ${used.map(() => one).join(" || ")}, '') AS BLOB)
             FROM ${FROM_GPUS[mode]}`,
        )
        .pluck(true);
      this.lookupStmts.set(key, stmt);
    }
    const args: (number | string)[] = used.flatMap((l) => [this.steps[l.t] as number, l.afterMs, l.atMs]);
    if (mode === "list") args.push(JSON.stringify(only));
    else if (mode === "span") args.push((only as IdSpan).above, (only as IdSpan).upTo);
    const blob = stmt.get(...args) as Buffer | null;
    if (!blob) return; // no GPU
    const signs = used.map((l) => l.sign);
    for (let p = 0; p < blob.length; ) {
      const r = into.row(hexId(blob, p));
      p = addUvarintRuns(blob, p + ID_HEX, EDGE_SUMS, signs, into.values, r * WIDTH);
    }
  }
}
