// The flags a lease line carries (issue 15): its count of the GPU's episodes of any kind that
// began during the lease, and its down time from the kinds that count as down (down-time.ts) on
// the GPU and on its host. A tenant's statement reads its GPUs' flags only, the whole-fleet lease
// report every flag; both must give each line what a brute force over every flag in the history
// gives, whatever the kind (idle and idle-held count but are never down; an xid is down only when
// the hardware is at fault; a host's offline episode holds its GPUs down but is no GPU's flag).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Flag, FlagKind, NewFlag } from "../../../collector/flags/types.js";
import type { Lease } from "../../../collector/leases/model.js";
import { isDown } from "../../../collector/reports/down-time.js";
import { leaseWindow } from "../../../collector/reports/lease-lines.js";
import { leaseParts } from "../../../collector/reports/lease-reports.js";
import type { FlagStore } from "../../../collector/store/flag-store.js";
import type { Store } from "../../../collector/store/store.js";
import { leaseRecord } from "../leases/store-helpers.js";
import type { TempStore } from "../store/synth.js";
import { HOUR, MIN, T0, tempStore } from "./helpers.js";

const DAY = 24 * HOUR;
const RANGE = { fromMs: T0, toMs: T0 + 31 * DAY };
const NOW = T0 + 20 * DAY + 13_001;
const HOSTS = { h1: ["GPU-f-a", "GPU-f-b"], h2: ["GPU-f-c"] } as const;
const [A, B] = HOSTS.h1;
const [C] = HOSTS.h2;
const SWITCH = T0 + 6 * DAY + 7 * HOUR + 12_345;

function lease(id: string, gpu: string, tenant: string, startMs: number, endMs: number | null): Lease {
  return leaseRecord({ id, gpu, tenant, startMs, endMs, availabilityMilli: 99_500 });
}

const LEASES = [
  lease("L-1", A, "acme", T0 - DAY, null),
  lease("L-2", B, "acme", T0 + 2 * HOUR + 7, SWITCH),
  lease("L-3", B, "globex", SWITCH, null),
  lease("L-4", C, "globex", T0 + DAY, T0 + 15 * DAY + 999),
];

/** Episodes of every sort, [startMs, endMs | null), on GPUs and on a host. */
function episodes(): (NewFlag & { endMs: number | null })[] {
  const host = (uuid: string) => (HOSTS.h2.some((u) => u === uuid) ? "h2" : "h1");
  type Episode = NewFlag & { endMs: number | null };
  const gpu = (
    kind: FlagKind,
    uuid: string,
    startMs: number,
    endMs: number | null,
    fault?: string,
  ): Episode => ({
    kind,
    severity: "warning",
    host: host(uuid),
    gpuUuid: uuid,
    gpuIndex: 0,
    site: "fra1",
    labels: {},
    startMs,
    endMs,
    reason: `${kind} on ${uuid}`,
    values: fault !== undefined ? { fault } : {},
  });
  return [
    gpu("idle", A, T0 - 2 * HOUR, T0 + HOUR), // began before the range: overlaps, not counted
    gpu("idle", A, T0 + 3 * DAY, T0 + 3 * DAY + 40 * MIN),
    gpu("idle-held", A, T0 + 4 * DAY, null),
    gpu("xid", A, T0 + 5 * DAY, T0 + 5 * DAY + 5 * MIN, "workload"), // counted, never down
    gpu("lost", A, T0 + 8 * DAY, T0 + 8 * DAY + 20 * MIN),
    gpu("idle", B, SWITCH - HOUR, SWITCH + HOUR), // acme's: began in its lease
    gpu("error", B, SWITCH - 10 * MIN, SWITCH + 25 * MIN), // down for both tenants
    gpu("lost", B, T0 + 12 * DAY, null), // open: down up to now
    // As a flag written now: its last Xid that takes the GPU down (fault_last_ms) at its end.
    {
      ...gpu("xid", C, T0 + 2 * DAY, T0 + 2 * DAY + HOUR, "hardware"),
      values: { fault: "hardware", action: "investigate", fault_last_ms: T0 + 2 * DAY + HOUR },
    },
    gpu("overheat", C, T0 + 16 * DAY, T0 + 16 * DAY + HOUR), // after L-4 ended
    gpu("idle", C, NOW + HOUR, null), // after now
    { ...gpu("offline", A, T0 + 9 * DAY, T0 + 9 * DAY + 2 * HOUR), gpuUuid: null, gpuIndex: null },
    { ...gpu("stale", C, T0 + 3 * DAY, T0 + 3 * DAY + HOUR), gpuUuid: null, gpuIndex: null },
  ];
}

let tmp: TempStore;
let store: Store;
let flags: FlagStore;
let all: Flag[];

beforeAll(() => {
  tmp = tempStore();
  store = tmp.open({ retention: ["48h:raw", "30d:1m", "2y:1h"] });
  for (const [host, uuids] of Object.entries(HOSTS))
    store.writeInventory(
      {
        host,
        site: "fra1",
        labels: {},
        timestamp_ms: T0 - 2 * DAY,
        gpus: uuids.map((uuid, index) => ({ index, uuid, name: "NVIDIA H100 80GB HBM3" })),
      },
      T0 - 2 * DAY,
    );
  for (const l of LEASES) store.leases.insert(l, T0 - 2 * DAY);
  flags = store.flagStore();
  all = episodes().map((e) => {
    const f = flags.insert(e, e.startMs);
    if (e.endMs === null) return f;
    const closed = { ...f, endMs: e.endMs };
    flags.close(closed);
    return closed;
  });
});

afterAll(() => tmp.cleanup());

/** By brute force over every flag: the line's count and its down time. */
function expected(l: Lease): { flags: number; downMs: number } {
  const w = leaseWindow(l, RANGE.fromMs, RANGE.toMs, NOW);
  const hostOf = HOSTS.h2.some((u) => u === l.gpu) ? "h2" : "h1";
  const count = all.filter((f) => f.gpuUuid === l.gpu && f.startMs >= w.fromMs && f.startMs < w.toMs).length;
  let downMs = 0;
  for (let t = w.fromMs; t < w.toMs; t++) {
    // Millisecond by millisecond would be slow over days: step to the next edge instead.
    const edges = all.flatMap((f) => [f.startMs, f.endMs ?? NOW]).filter((e) => e > t);
    const next = Math.min(w.toMs, ...edges);
    const down = all.some(
      (f) =>
        isDown(f) &&
        (f.gpuUuid === l.gpu || (f.gpuUuid === null && f.host === hostOf)) &&
        f.startMs <= t &&
        t < (f.endMs ?? NOW),
    );
    if (down) downMs += next - t;
    t = next - 1;
  }
  return { flags: count, downMs };
}

describe("lease line flags", () => {
  it("counts every kind that began in the lease and takes down time from the down kinds only", () => {
    const fleet = leaseParts({ store, flags, now: () => NOW }, RANGE);
    expect(fleet.parts.map((p) => p.lease).sort()).toEqual(LEASES.map((l) => l.id));
    for (const l of LEASES) {
      const part = fleet.parts.find((p) => p.lease === l.id);
      expect({ lease: l.id, flags: part?.flags, downMs: part?.downMs }).toEqual({
        lease: l.id,
        ...expected(l),
      });
    }
    // Something of each sort was there to count: the brute force is not all zeros.
    expect(fleet.parts.every((p) => p.flags > 0 && p.downMs > 0)).toBe(true);
  });

  it("gives a tenant's lines, read through its own GPUs' flags, the same as the fleet's", () => {
    const fleet = leaseParts({ store, flags, now: () => NOW }, RANGE);
    for (const tenant of ["acme", "globex"]) {
      const own = leaseParts({ store, flags, now: () => NOW }, RANGE, tenant);
      expect(own.parts).toEqual(fleet.parts.filter((p) => p.tenant === tenant));
    }
  });
});
