// The sums the utilization and energy reports group: per group key (interned: one slot per
// distinct key) and over everything, in flat columns. Fed either by usage rows (merged parts, a
// tenant's lease pieces) or straight from the fleet's stretches (forEachStretch), which makes no
// row object per GPU: a 10,000-GPU report spent about a third of its time building rows and
// collecting them.

import * as col from "../store/usage-table.js";
import { WIDTH } from "../store/usage-table.js";
import { type GroupBy, groupKey, type Placement } from "../usage/placement.js";
import { CWMS_PER_WH } from "../usage/usage-sums.js";
import type { StretchCursor } from "./fleet-usage.js";
import type { GpuUsage } from "./types.js";

/** Columns of a group: what a usage row adds to it. */
const BUSY = 0;
const IDLE = 1;
const HELD = 2;
const UNKNOWN_REPORTED = 3;
const NO_DATA = 4;
const ENERGY_WH = 5;
const ENERGY_IDLE_WH = 6;
const UTIL_SUM = 7;
const UTIL_COUNT = 8;
const GPUS = 9;
const COLS = 10;

/** One group's sums, as the report rows read them: a usage row's figures added up, and its GPUs. */
export type GroupTotals = Pick<
  GpuUsage,
  "busyMs" | "idleMs" | "idleHeldMs" | "unknownReportedMs" | "noDataMs" | "energyWh" | "energyIdleWh"
> & { gpus: number; utilSum: number; utilCount: number };

export class GroupSums {
  private readonly slots = new Map<string, number>();
  private readonly keys: string[] = [];
  private sums = new Float64Array(8 * COLS);
  private readonly all = new Float64Array(COLS);
  /** The slots the current GPU was counted in (fed stretches: a GPU's stretches come together). */
  private readonly counted: number[] = [];
  /** Rows: the GPUs counted per slot, and over all (rows may come in any order). */
  private readonly seen = new Map<number, Set<number>>();
  private readonly seenAll = new Set<number>();

  constructor(private readonly by: GroupBy) {}

  private slot(key: string): number {
    let s = this.slots.get(key);
    if (s === undefined) {
      s = this.keys.length;
      this.keys.push(key);
      this.slots.set(key, s);
      if ((s + 1) * COLS > this.sums.length) {
        const grown = new Float64Array(this.sums.length * 2);
        grown.set(this.sums);
        this.sums = grown;
      }
    }
    return s;
  }

  /** Adds one row's figures to its group and to the total, in the order the rows come. */
  private add(s: number, newInGroup: boolean, newGpu: boolean, v: readonly number[]): void {
    const at = s * COLS;
    for (let i = 0; i < GPUS; i++) {
      this.sums[at + i] = (this.sums[at + i] as number) + (v[i] as number);
      this.all[i] = (this.all[i] as number) + (v[i] as number);
    }
    if (newInGroup) this.sums[at + GPUS] = (this.sums[at + GPUS] as number) + 1;
    if (newGpu) this.all[GPUS] = (this.all[GPUS] as number) + 1;
  }

  private readonly figures = new Array<number>(GPUS).fill(0);

  /** Adds a usage row (GpuUsage, as fleetUsage or a merge makes it). */
  addRow(r: GpuUsage): void {
    const s = this.slot(groupKey(this.by, r));
    let inSlot = this.seen.get(s);
    if (!inSlot) {
      inSlot = new Set();
      this.seen.set(s, inSlot);
    }
    const newInGroup = !inSlot.has(r.gpuId);
    inSlot.add(r.gpuId);
    const newGpu = !this.seenAll.has(r.gpuId);
    this.seenAll.add(r.gpuId);
    const v = this.figures;
    v[BUSY] = r.busyMs;
    v[IDLE] = r.idleMs;
    v[HELD] = r.idleHeldMs;
    v[UNKNOWN_REPORTED] = r.unknownReportedMs;
    v[NO_DATA] = r.noDataMs;
    v[ENERGY_WH] = r.energyWh;
    v[ENERGY_IDLE_WH] = r.energyIdleWh;
    v[UTIL_SUM] = r.utilSum ?? 0;
    v[UTIL_COUNT] = r.utilCount ?? 0;
    this.add(s, newInGroup, newGpu, v);
  }

  private readonly place: Placement = { site: "", host: "", model: "", uuid: "", labels: {} };

  /** Adds a stretch as forEachStretch hands it: the figures usageRow would give it, without the row. */
  addStretch(c: StretchCursor): void {
    const p = this.place;
    p.site = c.host.site;
    p.host = c.host.name;
    p.labels = c.host.labels;
    p.model = c.gpu.model;
    p.uuid = c.gpu.uuid;
    const s = this.slot(groupKey(this.by, p));
    if (c.firstOfGpu) this.counted.length = 0;
    const newInGroup = !this.counted.includes(s);
    if (newInGroup) this.counted.push(s);
    const v = this.figures;
    v.fill(0);
    let covered = 0;
    if (c.row >= 0) {
      const t = c.table.values;
      const at = c.row * WIDTH;
      const busy = t[at + col.BUSY] as number;
      const idle = t[at + col.IDLE] as number;
      const held = t[at + col.HELD] as number;
      const unknown = t[at + col.UNKNOWN] as number;
      v[BUSY] = busy;
      v[IDLE] = idle;
      v[HELD] = held;
      v[UNKNOWN_REPORTED] = unknown;
      v[ENERGY_WH] = (t[at + col.ENERGY] as number) / CWMS_PER_WH;
      v[ENERGY_IDLE_WH] = (t[at + col.ENERGY_IDLE] as number) / CWMS_PER_WH;
      v[UTIL_SUM] = t[at + col.UTIL_SUM] as number;
      v[UTIL_COUNT] = t[at + col.UTIL_COUNT] as number;
      covered = busy + idle + held + unknown;
    }
    // As usageRow: what no sample covers of the GPU's time in the fleet.
    v[NO_DATA] = Math.max(0, c.periodMs - covered);
    this.add(s, newInGroup, c.firstOfGpu, v);
  }

  /** Each group's totals, sorted by key. */
  groups(): [string, GroupTotals][] {
    return this.keys
      .map((k, s): [string, GroupTotals] => [k, totalsAt(this.sums, s * COLS)])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  total(): GroupTotals {
    return totalsAt(this.all, 0);
  }
}

function totalsAt(v: Float64Array, at: number): GroupTotals {
  const x = (i: number) => v[at + i] as number;
  return {
    gpus: x(GPUS),
    busyMs: x(BUSY),
    idleMs: x(IDLE),
    idleHeldMs: x(HELD),
    unknownReportedMs: x(UNKNOWN_REPORTED),
    noDataMs: x(NO_DATA),
    energyWh: x(ENERGY_WH),
    energyIdleWh: x(ENERGY_IDLE_WH),
    utilSum: x(UTIL_SUM),
    utilCount: x(UTIL_COUNT),
  };
}
