// A flag a tenant sees within its lease keeps its sentence and values only when they were written
// during the lease: an idle-held flag updated after the lease ended names the next holder.
import { describe, expect, it } from "vitest";
import { clipToPeriod, WITHHELD_REASON } from "../../collector/api/tenant-scope.js";
import type { Flag } from "../../collector/flags/types.js";

const H = 3_600_000;
const NOW = Date.UTC(2026, 11, 1, 12);
const lease = { startMs: NOW - 6 * H, endMs: NOW - 2 * H };

function flag(startMs: number, updatedMs: number, reason: string): Flag {
  return {
    id: 1,
    kind: "idle-held",
    severity: "warning",
    host: "node-1",
    gpuUuid: "GPU-1",
    gpuIndex: 0,
    site: "fra1",
    labels: {},
    startMs,
    endMs: null,
    reason,
    values: { pid: 4121, user: "bob" },
    updatedMs,
  };
}

describe("a flag's details as its tenant sees them", () => {
  it("keep the sentence and values written during the lease", () => {
    const seen = clipToPeriod(flag(NOW - 5 * H, NOW - 3 * H, "held by alice"), lease, NOW);
    expect([seen.reason, seen.values]).toEqual(["held by alice", { pid: 4121, user: "bob" }]);
    expect(seen.endMs).toBe(lease.endMs);
  });

  it.each([
    ["after the lease ended", NOW - 5 * H, NOW - H],
    ["before the lease began", NOW - 8 * H, NOW - 7 * H],
  ])("leave out the sentence and values written %s", (_when, startMs, updatedMs) => {
    const seen = clipToPeriod(flag(startMs, updatedMs, "held by pid 4121 (user bob)"), lease, NOW);
    expect([seen.reason, seen.values]).toEqual([WITHHELD_REASON, {}]);
    expect(seen.startMs).toBe(Math.max(startMs, lease.startMs));
  });
});
