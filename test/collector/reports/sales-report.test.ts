// The sales figures' leased time (collector/reports/sales-report.ts, docs/leases.md "Sales
// figures"): time a GPU was under a lease, so never more than its installed time, however many of
// its MIG devices were leased at once.
import { describe, expect, test } from "vitest";
import { addUses, type LeaseLinePart } from "../../../collector/reports/lease-lines.js";
import { buildSalesReport, type SalesGpu } from "../../../collector/reports/sales-report.js";
import { MIG_NO_UTILIZATION } from "../../../shared/gpu-id.js";

const MIN = 60_000;
const FROM = 1_800_000_000_000;
const TO = FROM + 60 * MIN;
const G1 = "GPU-00000001-2222-3333-4444-555555555555";
const MODEL = "NVIDIA H100 80GB HBM3";

const gpu: SalesGpu = {
  uuid: G1,
  model: MODEL,
  host: "h1",
  site: "fra1",
  firstSeenMs: FROM,
  leasedNow: true,
};

/** A MIG device's lease line on G1 over [fromMs, toMs): leased time, no usage (lease-lines.ts). */
function migPart(lease: string, device: string, fromMs: number, toMs: number): LeaseLinePart {
  return {
    lease,
    tenant: "acme",
    device,
    gpu: G1,
    host: "h1",
    site: "fra1",
    model: MODEL,
    contract: null,
    currency: null,
    priceMicros: null,
    availabilityMilli: null,
    labels: {},
    fromMs,
    toMs,
    leasedMs: toMs - fromMs,
    ...addUses([]),
    downMs: 0,
    down: [],
    places: [],
    usageMeasured: false,
    usageAbsent: MIG_NO_UTILIZATION,
  };
}

describe("sales figures with MIG leases", () => {
  test("a GPU leased as two MIG devices at once counts its leased time once: sold out, not 150 %", () => {
    const parts = [
      migPart("m0", "MIG-00000000-0000-0000-0000-000000000000", FROM, TO),
      migPart("m1", "MIG-11111111-1111-1111-1111-111111111111", FROM + 30 * MIN, TO),
    ];
    const r = buildSalesReport({ fromMs: FROM, toMs: TO, nowMs: TO }, "model", [gpu], parts);
    for (const row of [...r.groups, r.total]) {
      expect(row).toMatchObject({ installedMs: 60 * MIN, leasedMs: 60 * MIN, soldRate: 1 });
    }
  });

  test("MIG leases of one GPU with a gap between them count the leased stretches, not the gap", () => {
    const parts = [
      migPart("m0", "MIG-00000000-0000-0000-0000-000000000000", FROM, FROM + 20 * MIN),
      migPart("m1", "MIG-11111111-1111-1111-1111-111111111111", FROM + 10 * MIN, FROM + 30 * MIN),
      migPart("m2", "MIG-00000000-0000-0000-0000-000000000000", FROM + 40 * MIN, FROM + 50 * MIN),
    ];
    const r = buildSalesReport({ fromMs: FROM, toMs: TO, nowMs: TO }, "model", [gpu], parts);
    expect(r.total).toMatchObject({ installedMs: 60 * MIN, leasedMs: 40 * MIN });
  });
});
