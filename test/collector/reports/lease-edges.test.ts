// Edge cases of a lease line (docs/leases.md, "Reports and the statement", "Availability"): a GPU
// down for the whole lease is 0 % available and misses its SLA; a lease with no sample at all is
// all unknown time, not idle; an open lease runs up to now; a range wholly in the future is empty.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { leaseReport, statement } from "../../../collector/reports/lease-reports.js";
import type { Store } from "../../../collector/store/store.js";
import { leaseRecord } from "../leases/store-helpers.js";
import type { TempStore } from "../store/synth.js";
import { busy, HOUR, MIN, T0, tempStore, writeSpan } from "./helpers.js";

const G = "GPU-edge-a";
const H = { name: "edge-h1", site: "fra1", labels: {} };
const NOW = T0 + 10 * HOUR + 123;
let tmp: TempStore;
let store: Store;

beforeAll(() => {
  tmp = tempStore();
  store = tmp.open({ retention: ["48h:raw", "30d:1m", "2y:1h"] });
  store.writeInventory(
    {
      host: H.name,
      site: H.site,
      labels: {},
      timestamp_ms: T0 - HOUR,
      gpus: [{ index: 0, uuid: G, name: "NVIDIA H100 80GB HBM3" }],
    },
    T0 - HOUR,
  );
  // Busy for the first two hours, then nothing at all.
  writeSpan(store, H, T0, T0 + 2 * HOUR, () => [busy(G, 0, 80, 300)]);
  const flags = store.flagStore();
  // Lost from 3 h to 5 h.
  const f = flags.insert(
    {
      kind: "lost",
      severity: "critical",
      host: H.name,
      gpuUuid: G,
      gpuIndex: 0,
      site: "fra1",
      labels: {},
      startMs: T0 + 3 * HOUR,
      reason: "lost",
      values: {},
    },
    T0 + 3 * HOUR,
  );
  flags.close({ ...f, endMs: T0 + 5 * HOUR });
  const lease = (id: string, startMs: number, endMs: number | null) =>
    store.leases.insert(
      leaseRecord({ id, gpu: G, tenant: "acme", startMs, endMs, availabilityMilli: 99_000 }),
      T0 - HOUR,
    );
  lease("busy", T0 + 30 * MIN + 500, T0 + HOUR + 30_000);
  lease("down", T0 + 3 * HOUR + 17, T0 + 4 * HOUR);
  lease("nodata", T0 + 6 * HOUR, T0 + 7 * HOUR);
  lease("open", T0 + 8 * HOUR, null);
});
afterAll(() => tmp.cleanup());

const sources = () => ({ store, flags: store.flagStore(), now: () => NOW });

describe("lease line edges", () => {
  test("figures of each lease", () => {
    const month = new Date(T0).toISOString().slice(0, 7);
    const s = statement(sources(), { tenant: "acme", month });
    const by = new Map(s.lines.map((l) => [l.lease, l]));
    expect(by.get("down")).toMatchObject({
      leasedMs: HOUR - 17,
      downMs: HOUR - 17,
      availabilityRate: 0,
      sla: "missed",
    });
    expect(by.get("nodata")).toMatchObject({
      leasedMs: HOUR,
      unknownMs: HOUR,
      idleMs: 0,
      idleHeldMs: 0,
      busyMs: 0,
      utilizationRate: null,
      downMs: 0,
    });
    expect(by.get("open")).toMatchObject({
      leasedMs: NOW - (T0 + 8 * HOUR),
      toMs: NOW,
      unknownMs: NOW - (T0 + 8 * HOUR),
    });
    const b = by.get("busy");
    expect(b).toMatchObject({
      leasedMs: 30 * MIN - 500 + 30_000,
      idleMs: 0,
      utilizationRate: 1,
      downMs: 0,
      sla: "met",
    });
    expect((b?.busyMs ?? 0) + (b?.unknownMs ?? 0)).toBeGreaterThanOrEqual(b?.leasedMs ?? 0);
    expect(s.total.leasedMs).toBe(s.lines.reduce((n, l) => n + l.leasedMs, 0));
    expect(s.total.unknownMs).toBe(s.lines.reduce((n, l) => n + l.unknownMs, 0));
    expect(s.total.slaMissed).toBe(1);
  });

  test("a range wholly in the future is empty", () => {
    const r = leaseReport(sources(), { fromMs: NOW + HOUR, toMs: NOW + 2 * HOUR, by: "tenant" });
    expect(r.total).toMatchObject({ leasedMs: 0, unknownMs: 0, downMs: 0 });
  });
});
