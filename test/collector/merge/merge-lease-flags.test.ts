// A lease line's count of flags opened, merged from collectors' parts that carry their flag
// episodes (merge-leases.ts): copies of one episode (round robin gives every member its own)
// count once, in the place where the joined episode began; an episode begun before the window
// whose copy began inside it counts nowhere; distinct episodes (a hash split) still add up; a part
// without its episodes leaves the parts' counts added. The down time of reset-required copies
// that end a sample apart ends at the first copy's end.
import { describe, expect, it } from "vitest";
import { mergeLeaseParts } from "../../../collector/merge/merge-leases.js";
import type { LeaseFlagEpisode, LeaseLinePart } from "../../../collector/reports/lease-lines.js";
import { addUses } from "../../../collector/reports/lease-lines.js";

const MIN = 60_000;
const FROM = 0;
const MOVED = 60 * MIN;
const TO = 120 * MIN;

/** A part of lease L-1 (GX moved from node-a to node-b at MOVED) with `flags` counted per place and these episodes. */
function part(flags: [number, number], episodes?: LeaseFlagEpisode[] | null): LeaseLinePart {
  const places = [
    { host: "node-a", site: "fra1", fromMs: FROM, toMs: MOVED, downMs: 0, ...addUses([]), flags: flags[0] },
    { host: "node-b", site: "fra1", fromMs: MOVED, toMs: TO, downMs: 0, ...addUses([]), flags: flags[1] },
  ];
  return {
    lease: "L-1",
    tenant: "acme",
    device: "GX",
    gpu: "GX",
    host: "node-b",
    site: "fra1",
    model: "NVIDIA H100 80GB HBM3",
    contract: null,
    currency: null,
    priceMicros: null,
    availabilityMilli: null,
    labels: {},
    fromMs: FROM,
    toMs: TO,
    leasedMs: TO - FROM,
    ...addUses(places),
    downMs: 0,
    down: [],
    places,
    usageMeasured: true,
    usageAbsent: null,
    ...(episodes !== undefined ? { flagEpisodes: episodes } : {}),
  };
}

const xid = (host: string, startMs: number, endMs: number | null, code = 79): LeaseFlagEpisode => ({
  kind: "xid",
  host,
  startMs,
  endMs,
  values: { code, fault: "hardware", action: "reset-gpu" },
});
const reset = (host: string, startMs: number, endMs: number | null): LeaseFlagEpisode => ({
  kind: "reset-required",
  host,
  startMs,
  endMs,
});

describe("merged lease flags", () => {
  it("counts the copies of one episode once, in the place where it began", () => {
    const a = part([0, 2], [xid("node-b", 70 * MIN, 85 * MIN), reset("node-b", 70 * MIN, 90 * MIN)]);
    const b = part([0, 2], [xid("node-b", 70 * MIN, 85 * MIN), reset("node-b", 70 * MIN, 90 * MIN + 30_000)]);
    const [line] = mergeLeaseParts([[a], [b]]);
    expect(line?.flags).toBe(2);
    expect(line?.places.map((p) => p.flags)).toEqual([0, 2]);
  });

  it("counts nothing for a copy of an episode begun before the window", () => {
    // node-a's idle from before the lease, its copy on the other member a sample later, inside it.
    const idle = (startMs: number): LeaseFlagEpisode => ({
      kind: "idle",
      host: "node-a",
      startMs,
      endMs: 20 * MIN,
    });
    const [line] = mergeLeaseParts([
      [part([0, 0], [idle(FROM - MIN)])],
      [part([1, 0], [idle(FROM + 30_000)])],
    ]);
    expect(line?.flags).toBe(0);
  });

  it("adds episodes that are not copies: other kinds, hosts, times or opening Xids", () => {
    const a = part([1, 1], [xid("node-a", 10 * MIN, 30 * MIN), reset("node-b", 70 * MIN, null)]);
    const b = part([1, 1], [xid("node-a", 30 * MIN, 40 * MIN, 48), reset("node-a", 70 * MIN, 80 * MIN)]);
    const [line] = mergeLeaseParts([[a], [b]]);
    expect(line?.flags).toBe(4);
    expect(line?.places.map((p) => p.flags)).toEqual([2, 2]);
  });

  it("adds the parts' counts when a part carries no episodes", () => {
    const a = part([0, 2], [xid("node-b", 70 * MIN, 85 * MIN), reset("node-b", 70 * MIN, 90 * MIN)]);
    for (const b of [part([0, 2]), part([0, 2], null)]) {
      const [line] = mergeLeaseParts([[a], [b]]);
      expect(line?.flags).toBe(4);
      expect(line?.places.map((p) => p.flags)).toEqual([0, 4]);
      expect(line?.flagEpisodes).toBeNull();
    }
  });

  it("ends the down time of reset-required copies where the first one ended", () => {
    const SAMPLE = 30_000;
    const withDown = (end: number): LeaseLinePart => ({
      ...part([0, 1], [reset("node-b", 70 * MIN, end)]),
      down: [{ fromMs: 70 * MIN, toMs: end, kinds: ["reset-required"] }],
      downMs: end - 70 * MIN,
    });
    const [line] = mergeLeaseParts([[withDown(90 * MIN + SAMPLE)], [withDown(90 * MIN)]]);
    expect(line?.down).toEqual([{ fromMs: 70 * MIN, toMs: 90 * MIN, kinds: ["reset-required"] }]);
    expect([line?.downMs, line?.places.map((p) => p.downMs)]).toEqual([20 * MIN, [0, 20 * MIN]]);
  });
});
