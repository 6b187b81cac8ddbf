// The fleet health report from several collectors' parts (merge/merge-health-report.ts): an event
// several collectors hold counts once by its kernel key, a group a part carries without keys (cut
// at its bound) counts the largest one collector holds and the answer says so, a lease several
// hold counts once, and a GPU's down episode and lease on different collectors still meet.
import { describe, expect, test } from "vitest";
import type { HealthPart, HealthPartGroup } from "../../../collector/contract/api-contract.js";
import type { Flag } from "../../../collector/flags/types.js";
import { mergeHealthParts } from "../../../collector/merge/merge-health-report.js";

const M = 60_000;
const H = 60 * M;
const GX = "GPU-X";

function group(seqs: number[] | null, count = seqs?.length ?? 0): HealthPartGroup {
  return {
    host: "host-x",
    gpuUuid: GX,
    code: 79,
    action: "reboot",
    applicationLevel: false,
    count,
    firstMs: 10 * M,
    lastMs: 20 * M,
    keys: seqs && [{ boot: "boot-1", seqs }],
  };
}

function lost(startMs: number, endMs: number): Flag {
  return {
    id: 1,
    kind: "lost",
    host: "host-x",
    gpuUuid: GX,
    gpuIndex: 0,
    severity: "critical",
    startMs,
    endMs,
    updatedMs: endMs,
    reason: "lost",
    values: {},
  } as Flag;
}

function part(over: Partial<HealthPart>): HealthPart {
  return { fromMs: 0, toMs: 2 * H, nowMs: 2 * H, groups: [], flags: [], models: {}, leases: [], ...over };
}

const acme = { id: "acme-x", gpu: GX, tenant: "acme", startMs: 0, endMs: null };

describe("mergeHealthParts", () => {
  test("counts an event several collectors hold once: the union, not the sum or the larger", () => {
    const r = mergeHealthParts([part({ groups: [group([1, 3])] }), part({ groups: [group([1, 2])] })], 2 * H);
    expect(r.xid.total).toBe(3);
    expect(r.xid.byHost).toEqual([{ host: "host-x", count: 3, hardware: 3 }]);
    expect(r.rmaCandidates.map((c) => c.reasons)).toEqual([
      ["repeated hardware Xids (3)", "fell off the bus 3 times (Xid 79)"],
    ]);
    expect(r.cut).toBeUndefined();
  });

  test("a group cut at its bound counts the largest one collector holds, and the answer says so", () => {
    const r = mergeHealthParts(
      [part({ groups: [group(null, 5)] }), part({ groups: [group([1, 2])] })],
      2 * H,
    );
    expect(r.xid.total).toBe(5);
    expect(r.cut).toEqual(["xid-counts"]);
  });

  test("a lease on one collector meets the GPU's down episode on another; one lease held twice counts once", () => {
    const r = mergeHealthParts(
      [
        part({ leases: [acme], leasesCut: true }),
        part({ flags: [lost(H, H + 30 * M)], leases: [acme], models: { [GX]: "H100" } }),
      ],
      2 * H,
    );
    expect(r.hardwareDowntime).toEqual({
      gpuHours: 0.5,
      gpus: 1,
      byHost: [{ host: "host-x", gpuHours: 0.5 }],
    });
    expect(r.tenantDowntime.byTenant).toEqual([
      { tenant: "acme", hours: 0.5, downtimeMs: 30 * M, gpus: 1, leases: ["acme-x"] },
    ]);
    expect(r.cut).toEqual(["leases"]);
  });
});
