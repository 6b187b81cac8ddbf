// A lease report by host or site bills a GPU that moved during a lease to each host for its own
// time (issue 15: "a GPU moved from Acme to Globex is billed to Globex for last month too"), on
// a real store: a GPU leased for most of a month moves from one host to another (inventories say
// when), and each host group's figures equal a brute-force sum over the samples written while
// the GPU was there; the groups add up to the line exactly, which the per-lease view keeps whole.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import type { Lease } from "../../../collector/leases/model.js";
import { costMicros } from "../../../collector/reports/lease-lines.js";
import type { LeaseGroup } from "../../../collector/reports/lease-report.js";
import { leaseReport, monthRange, statement } from "../../../collector/reports/lease-reports.js";
import { MAX_COVER_MS } from "../../../collector/store/rollup-acc.js";
import type { Store } from "../../../collector/store/store.js";
import { classifySample, DEFAULT_IDLE_THRESHOLDS } from "../../../collector/usage/classify.js";
import type { IGpuSample, IInventory } from "../../../shared/proto.js";
import type { TempStore } from "../store/synth.js";
import { busy, expectGroupsAddUp, HOUR, idle, lost, MIN, T0, tempStore } from "./helpers.js";

const DAY = 24 * HOUR;
const UUID = "GPU-moving-0";
const OTHER = "GPU-staying-0";
const STEP = 2 * MIN;
const HOSTS = { a: { name: "acme-node", site: "fra1" }, b: { name: "globex-node", site: "ams2" } };
/** The move, at a whole minute (where the stretches are cut), and the lease, at odd milliseconds. */
const MOVE = T0 + 12 * DAY + 7 * HOUR + 24 * MIN;
const LEASE = { startMs: T0 + 2 * HOUR + 17_003, endMs: T0 + 29 * DAY + 5 * HOUR + 41_777 };
/** No frames from the new host for three hours after the move: no-data time on its side. */
const GAP = { fromMs: MOVE, toMs: MOVE + 3 * HOUR };
const PRICE = 2_345_678;
const NOW = T0 + 40 * DAY;

interface Written {
  ts: number;
  host: "a" | "b";
  gpu: IGpuSample;
}

/** The moving GPU's sample at ts: busy, idle, idle-held or lost by a fixed pattern. */
function sampleAt(ts: number, index: number): IGpuSample {
  const k = Math.floor(ts / STEP);
  const util = (k * 37) % 101;
  if (k % 97 === 0) return lost(UUID, index);
  if (k % 5 === 0) return idle(UUID, index, 60 + (k % 13), k % 2 === 0);
  return busy(UUID, index, util, 200 + (k % 300) + 0.37);
}

function inventory(host: "a" | "b", ts: number, gpus: { index: number; uuid: string }[]): IInventory {
  return {
    host: HOSTS[host].name,
    site: HOSTS[host].site,
    labels: {},
    timestamp_ms: ts,
    gpus: gpus.map((g) => ({ ...g, name: "NVIDIA H100 80GB HBM3" })),
  };
}

let tmp: TempStore;
let store: Store;
const written: Written[] = [];

beforeAll(() => {
  tmp = tempStore();
  store = tmp.open({ retention: ["48h:raw", "30d:1m", "2y:1h"] });
  store.writeInventory(inventory("a", T0, [{ index: 0, uuid: UUID }]), T0);
  store.writeInventory(inventory("b", T0, [{ index: 0, uuid: OTHER }]), T0);
  const frames: ValidFrame[] = [];
  let seq = 1;
  for (let t = T0; t < T0 + 31 * DAY; t += STEP) {
    const ts = t + 30_000;
    const host = ts < MOVE ? "a" : "b";
    if (host === "b" && ts < GAP.toMs) continue;
    const gpu = sampleAt(ts, host === "a" ? 0 : 1);
    written.push({ ts, host, gpu });
    const base = { boot_id: "boot-1", seq: seq++, timestamp_ms: ts, interval_ms: STEP, labels: {} };
    frames.push({ ...base, host: HOSTS[host].name, site: HOSTS[host].site, gpus: [gpu] });
    if (t === MOVE - STEP) {
      // The inventories that move it: the old host's without it, the new host's with it.
      store.writeFrames(frames.splice(0), ts);
      store.writeInventory(inventory("a", MOVE, []), MOVE);
      store.writeInventory(
        inventory("b", MOVE, [
          { index: 0, uuid: OTHER },
          { index: 1, uuid: UUID },
        ]),
        MOVE,
      );
    }
    if (frames.length === 1000) store.writeFrames(frames.splice(0), ts);
  }
  store.writeFrames(frames.splice(0), NOW);
  const lease: Lease = {
    id: "acme-month",
    device: UUID,
    gpu: UUID,
    tenant: "acme",
    ...LEASE,
    contract: null,
    priceMicros: PRICE,
    currency: "EUR",
    availabilityMilli: null,
    labels: {},
    source: "api",
  };
  store.leases.insert(lease, T0);
}, 120_000);

afterAll(() => tmp.cleanup());

/** The usage of the samples in the lease's minutes that fall in [fromMs, toMs) (a minute by its start). */
function brute(fromMs: number, toMs: number) {
  const up = (t: number) => Math.ceil(t / MIN) * MIN;
  const first = Math.max(up(LEASE.startMs), fromMs);
  const end = Math.min(up(LEASE.endMs), toMs);
  const r = { busy: 0, idle: 0, idle_held: 0, unknown: 0, energy: 0, utilSum: 0, utilCount: 0 };
  for (const w of written) {
    const bucket = Math.floor(w.ts / MIN) * MIN;
    if (bucket < first || bucket >= end) continue;
    const cover = Math.min(STEP, MAX_COVER_MS);
    r[classifySample(w.gpu, DEFAULT_IDLE_THRESHOLDS)] += cover;
    if (typeof w.gpu.power_draw_watts === "number")
      r.energy += Math.round(w.gpu.power_draw_watts * 100) * cover;
    if (typeof w.gpu.utilization_gpu_pct === "number") {
      r.utilSum += w.gpu.utilization_gpu_pct;
      r.utilCount++;
    }
  }
  const leasedMs = Math.min(LEASE.endMs, toMs) - Math.max(LEASE.startMs, fromMs);
  const covered = r.busy + r.idle + r.idle_held + r.unknown;
  return {
    leasedMs,
    busyMs: r.busy,
    idleMs: r.idle,
    idleHeldMs: r.idle_held,
    unknownMs: r.unknown + Math.max(0, leasedMs - covered),
    energyCwms: r.energy,
    utilSum: r.utilSum,
    utilCount: r.utilCount,
  };
}

const figuresOf = (g: LeaseGroup | undefined) => ({
  leasedMs: g?.leasedMs,
  busyMs: g?.busyMs,
  idleMs: g?.idleMs,
  idleHeldMs: g?.idleHeldMs,
  unknownMs: g?.unknownMs,
  energyCwms: g?.energyCwms,
  utilSum: g?.utilSum,
  utilCount: g?.utilCount,
});

describe("lease report by host for a GPU that moved mid-lease", () => {
  const range = monthRange("2026-01");
  const report = (by: "host" | "site" | "lease") => leaseReport({ store, now: () => NOW }, { ...range, by });

  it("bills each host for the GPU's time there, as the samples written there say", () => {
    const r = report("host");
    expect(r.groups.map((g) => g.key)).toEqual([HOSTS.a.name, HOSTS.b.name]);
    const [a, b] = r.groups;
    expect(figuresOf(a)).toEqual(brute(Number.NEGATIVE_INFINITY, MOVE));
    expect(figuresOf(b)).toEqual(brute(MOVE, Number.POSITIVE_INFINITY));
    // Both hosts had real use (the split is not all on one side), and the gap is the new host's unknown time.
    expect(a?.busyMs).toBeGreaterThan(0);
    expect(b?.busyMs).toBeGreaterThan(0);
    expect(b?.unknownMs).toBeGreaterThanOrEqual(GAP.toMs - GAP.fromMs);
    // The same by site: each host's site.
    expect(report("site").groups.map((g) => [g.key, g.leasedMs])).toEqual([
      [HOSTS.b.site, b?.leasedMs],
      [HOSTS.a.site, a?.leasedMs],
    ]);
  });

  it("adds up to the lease's line exactly, which the per-lease view and the statement keep whole", () => {
    const r = report("host");
    const [line] = report("lease").groups;
    expectGroupsAddUp(r);
    expect(r.total).toEqual({ ...line, key: "total" });
    expect(r.total.costMicros.EUR?.cost).toBe(costMicros(PRICE, LEASE.endMs - LEASE.startMs));
    expect(figuresOf(line)).toEqual(brute(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY));
    const s = statement({ store, now: () => NOW }, { tenant: "acme", month: "2026-01" });
    expect(s.lines).toHaveLength(1);
    // The line names the host the GPU was on at the lease's end, and its two stretches.
    expect(s.lines[0]?.host).toBe(HOSTS.b.name);
    expect(s.lines[0]?.places.map((p) => [p.host, p.fromMs, p.toMs])).toEqual([
      [HOSTS.a.name, LEASE.startMs, MOVE],
      [HOSTS.b.name, MOVE, LEASE.endMs],
    ]);
  });
});
