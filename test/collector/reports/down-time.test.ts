// The one definition of down time (down-time.ts) that the downtime report, the statements and
// lease reports, the tenants view and the health report share: a GPU's own down episodes and its
// host's offline and stale ones, on the hosts it was on, merged, clipped, open ones up to now.
import { describe, expect, it } from "vitest";
import type { Flag } from "../../../collector/flags/types.js";
import { DownFlags, stretchMs } from "../../../collector/reports/down-time.js";

let id = 0;
function flag(
  kind: Flag["kind"],
  host: string,
  gpuUuid: string | null,
  startMs: number,
  endMs: number | null,
): Flag {
  return {
    id: ++id,
    kind,
    severity: "warning",
    host,
    gpuUuid,
    gpuIndex: gpuUuid === null ? null : 0,
    site: "s",
    labels: {},
    startMs,
    endMs,
    reason: `${kind} ${startMs}`,
    values: {},
    updatedMs: 0,
  };
}

describe("down stretches", () => {
  it("are the union of the GPU's and its host's down episodes inside the window", () => {
    const down = DownFlags.of([
      flag("lost", "h", "GPU-a", 0, 2000), // 1000..2000 inside the window
      flag("offline", "h", null, 1500, 3000), // overlaps: one stretch to 3000
      flag("error", "h", "GPU-b", 4000, 5000), // another GPU
      flag("stale", "other", null, 4000, 5000), // another host
      flag("idle", "h", "GPU-a", 5000, 6000), // idle is not down
      flag("xid", "h", "GPU-a", 6000, 6500), // a workload's Xid is not the GPU's fault
      flag("error", "h", "GPU-a", 9000, null), // open: up to the window's end
    ]);
    const s = down.stretches("GPU-a", [{ host: "h", fromMs: 1000, toMs: 10_000 }], 20_000);
    expect(s).toEqual([
      { fromMs: 1000, toMs: 3000, kinds: ["lost", "offline"], reasons: ["lost 0", "offline 1500"] },
      { fromMs: 9000, toMs: 10_000, kinds: ["error"], reasons: ["error 9000"] },
    ]);
    expect(stretchMs(s)).toBe(3000);
    // An open episode runs up to now when the window reaches past it.
    expect(stretchMs(down.stretches("GPU-a", [{ host: "h", fromMs: 8000, toMs: 30_000 }], 12_000))).toBe(
      3000,
    );
  });

  it("count a host's episodes only while the GPU was on that host", () => {
    const down = DownFlags.of([
      flag("offline", "old", null, 0, 10_000),
      flag("stale", "new", null, 8000, 9000),
      flag("lost", "old", "GPU-a", 6000, 7000), // raised by the old host after the move: not here
    ]);
    const places = [
      { host: "old", fromMs: 0, toMs: 5000 },
      { host: "new", fromMs: 5000, toMs: 10_000 },
    ];
    expect(down.stretches("GPU-a", places, 10_000).map((s) => [s.fromMs, s.toMs])).toEqual([
      [0, 5000],
      [8000, 9000],
    ]);
  });

  it("narrow to hardware kinds for the health report, on whichever host", () => {
    const down = DownFlags.of(
      [
        flag("lost", "a", "GPU-a", 0, 100),
        flag("reset-required", "b", "GPU-a", 50, 300),
        flag("error", "a", "GPU-a", 0, 1000),
        flag("offline", "a", null, 0, 1000),
      ],
      ["lost", "reset-required"],
    );
    expect(down.gpuStretches("GPU-a", 10, 200, 1000)).toEqual([
      { fromMs: 10, toMs: 200, kinds: ["lost", "reset-required"], reasons: ["lost 0", "reset-required 50"] },
    ]);
    expect(down.mayTouch("GPU-a")).toBe(true);
    expect(down.mayTouch("GPU-b")).toBe(false); // no episode of its own, and no host's counted
    expect(DownFlags.of([flag("idle", "a", "GPU-a", 0, 10)]).mayTouch("GPU-a")).toBe(false);
  });
});

// An xid flag stored before `fault_last_ms` was kept (before 2026-12-07) has neither it nor
// `fault_seen_ms`: its down time ran to the flag's end, its 15-minute quiet spell included (to now
// while open, to the acknowledgement once acknowledged). It now ends at the flag's last Xid
// (`last_ms`, agent time) when that Xid takes a GPU down (its code and line judged as at ingest),
// else at the start: what the flag cannot say is not billed.
describe("an xid flag stored before fault_last_ms", () => {
  const MIN = 60_000;
  /** Opened by Xid 48 at 0; its last Xid `lastCode` at 5 min; closed by its quiet spell at 20 min. */
  function old(lastCode: number | null, endMs: number | null = 20 * MIN): Flag {
    const f = flag("xid", "h", "GPU-a", 0, endMs);
    const last = lastCode ?? 48;
    return {
      ...f,
      values: {
        code: 48,
        action: "investigate",
        fault: "hardware",
        count: lastCode === null ? 1 : 2,
        last_ms: lastCode === null ? 0 : 5 * MIN,
        message: `NVRM: Xid (PCI:0000:01:00): ${last}, pid=4242, name=python3, Ch 00000008`,
        ...(lastCode === null ? {} : { last_code: lastCode }),
      },
    };
  }
  const downOf = (f: Flag, nowMs = 60 * MIN) =>
    DownFlags.of([f])
      .gpuStretches("GPU-a", 0, nowMs, nowMs)
      .map((s) => [s.fromMs, s.toMs]);

  it("is down from its start to its last Xid when that one takes a GPU down", () => {
    expect(downOf(old(48))).toEqual([[0, 5 * MIN]]);
    // Still open (its quiet spell not yet closed by the collector): the same.
    expect(downOf(old(48, null))).toEqual([[0, 5 * MIN]]);
  });

  it("counts none past its start when its last Xid was the workload's or one NVIDIA says to ignore", () => {
    expect(downOf(old(13))).toEqual([]);
    expect(downOf(old(92))).toEqual([]);
    // A single Xid: none of its own, as a flag written now.
    expect(downOf(old(null))).toEqual([]);
  });
});
