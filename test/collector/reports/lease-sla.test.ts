// A lease's SLA (docs/leases.md, "Availability"): met when availability is at least the lease's
// committed availability, so availability exactly at the commitment is met, whatever the numbers.
import { describe, expect, test } from "vitest";
import { addUses, type LeaseLinePart } from "../../../collector/reports/lease-lines.js";
import { leaseLine } from "../../../collector/reports/lease-report.js";

const HOUR = 3_600_000;
const FROM = 1_800_000_000_000;

function part(leasedMs: number, downMs: number, availabilityMilli: number): LeaseLinePart {
  return {
    lease: "L-1",
    tenant: "acme",
    device: "GPU-1",
    gpu: "GPU-1",
    host: "h1",
    site: "fra1",
    model: "NVIDIA H100 80GB HBM3",
    contract: null,
    currency: null,
    priceMicros: null,
    availabilityMilli,
    labels: {},
    fromMs: FROM,
    toMs: FROM + leasedMs,
    leasedMs,
    ...addUses([]),
    downMs,
    down: [],
    places: [],
    usageMeasured: true,
    usageAbsent: null,
  };
}

describe("SLA against the committed availability", () => {
  test("an hour's lease committing 90.04 % and down exactly 9.96 % of it met its SLA", () => {
    // 358,560 ms is 9.96 % of an hour: availability is 90.04 % to the millisecond.
    expect(leaseLine(part(HOUR, 358_560, 90_040)).sla).toBe("met");
  });

  test("at every commitment of 90 % and more, down exactly the allowance is met and a millisecond more missed", () => {
    const missed: number[] = [];
    for (let milli = 90_000; milli <= 100_000; milli += 10) {
      const allowance = (HOUR * (100_000 - milli)) / 100_000;
      if (!Number.isInteger(allowance)) continue;
      if (leaseLine(part(HOUR, allowance, milli)).sla !== "met") missed.push(milli);
      expect(leaseLine(part(HOUR, allowance + 1, milli)).sla).toBe("missed");
    }
    expect(missed).toEqual([]);
  });

  test("a lease of several years is judged exactly too", () => {
    const leased = 3 * 365 * 24 * HOUR;
    const allowance = (leased * (100_000 - 99_990)) / 100_000;
    expect(leaseLine(part(leased, allowance, 99_990)).sla).toBe("met");
    expect(leaseLine(part(leased, allowance + 1, 99_990)).sla).toBe("missed");
  });
});
