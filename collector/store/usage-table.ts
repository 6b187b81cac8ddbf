// Per-GPU usage over one range, flat: one Float64Array row per GPU instead of an array and an
// object per GPU. A 10,000-GPU report made 20,000 of them, all alive until the report was
// built, and spent about as long in their garbage collection as in reading them.
import { emptyUsage, type UsageSums } from "../usage/usage-sums.js";
import { BUSY, ENERGY, ENERGY_IDLE, HELD, IDLE, SAMPLES, UNKNOWN } from "./rollup-acc.js";

/** Columns of a row: the usage-edge sums in their order (usage-edges.ts EDGE_SUMS), then the highest temperature. */
export { BUSY, ENERGY, ENERGY_IDLE, HELD, IDLE, SAMPLES, UNKNOWN } from "./rollup-acc.js";
export const UTIL_SUM = 7;
export const UTIL_COUNT = 8;
/** NaN while no reading was added (null in UsageSums). */
export const TEMP_MAX = 9;
export const WIDTH = 10;

export class UsageTable {
  /** GPU id → its row + 1 (0: no row). */
  private rowOf: Int32Array;
  /** The GPU of each row, in the order rows were made. */
  readonly ids: number[] = [];
  /** Row r's columns at r * WIDTH. */
  values: Float64Array;

  constructor(expectedRows = 16) {
    this.rowOf = new Int32Array(Math.max(16, expectedRows + 1));
    this.values = new Float64Array(Math.max(1, expectedRows) * WIDTH);
  }

  get rows(): number {
    return this.ids.length;
  }

  /** The row of a GPU, or -1. */
  find(gpuId: number): number {
    return gpuId < this.rowOf.length ? (this.rowOf[gpuId] as number) - 1 : -1;
  }

  /** The row of a GPU, made (all zeros, no temperature) when it has none. */
  row(gpuId: number): number {
    if (!Number.isSafeInteger(gpuId) || gpuId < 0) throw new RangeError(`bad GPU id ${gpuId}`);
    const found = this.find(gpuId);
    if (found >= 0) return found;
    if (gpuId >= this.rowOf.length) {
      const grown = new Int32Array(Math.max(gpuId + 1, this.rowOf.length * 2));
      grown.set(this.rowOf);
      this.rowOf = grown;
    }
    const r = this.ids.length;
    if ((r + 1) * WIDTH > this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.ids.push(gpuId);
    this.rowOf[gpuId] = r + 1;
    this.values[r * WIDTH + TEMP_MAX] = Number.NaN;
    return r;
  }

  /** Adds to column `col` of row r. */
  add(r: number, col: number, x: number): void {
    const i = r * WIDTH + col;
    this.values[i] = (this.values[i] as number) + x;
  }

  /** Adds a UsageSums into a GPU's row (the highest temperature takes the larger). */
  addUsage(gpuId: number, u: Readonly<UsageSums>): void {
    const r = this.row(gpuId);
    this.add(r, SAMPLES, u.samples);
    this.add(r, BUSY, u.busyMs);
    this.add(r, IDLE, u.idleMs);
    this.add(r, HELD, u.idleHeldMs);
    this.add(r, UNKNOWN, u.unknownMs);
    this.add(r, ENERGY, u.energyCwms);
    this.add(r, ENERGY_IDLE, u.energyIdleCwms);
    this.add(r, UTIL_SUM, u.utilizationSum);
    this.add(r, UTIL_COUNT, u.utilizationCount);
    const t = u.maxTemperatureC;
    const at = r * WIDTH + TEMP_MAX;
    // NaN >= t is false: the first reading replaces the NaN.
    if (t !== null && !((this.values[at] as number) >= t)) this.values[at] = t;
  }

  /** Row r as a UsageSums object (for the callers that keep one per GPU). */
  usage(r: number): UsageSums {
    const u = emptyUsage();
    this.fill(r, u);
    return u;
  }

  /** Row r written into `u`. */
  fill(r: number, u: UsageSums): void {
    const at = r * WIDTH;
    const v = this.values;
    const t = v[at + TEMP_MAX] as number;
    u.samples = v[at + SAMPLES] as number;
    u.busyMs = v[at + BUSY] as number;
    u.idleMs = v[at + IDLE] as number;
    u.idleHeldMs = v[at + HELD] as number;
    u.unknownMs = v[at + UNKNOWN] as number;
    u.energyCwms = v[at + ENERGY] as number;
    u.energyIdleCwms = v[at + ENERGY_IDLE] as number;
    u.maxTemperatureC = Number.isNaN(t) ? null : t;
    u.utilizationSum = v[at + UTIL_SUM] as number;
    u.utilizationCount = v[at + UTIL_COUNT] as number;
  }

  /** The rows by GPU id, as objects: those with at least one sample, or with `all` every row. */
  toMap(all = false): Map<number, UsageSums> {
    const out = new Map<number, UsageSums>();
    this.ids.forEach((id, r) => {
      if (all || (this.values[r * WIDTH + SAMPLES] as number) > 0) out.set(id, this.usage(r));
    });
    return out;
  }
}
