// One GPU's health timeline from several collectors (merge/merge-health.ts): the same kernel-log
// event from every collector once, the episodes of a GPU that moved from each, the copies of one
// episode joined with its acknowledgement under the joined id, down time as the union of spans,
// and a tenant's stays joined.
import { describe, expect, test } from "vitest";
import type { Flag, FlagAck, FlagKind } from "../../../collector/flags/types.js";
import { mergeEventAnswers, mergeHealthTimelines } from "../../../collector/merge/merge-health.js";
import type { EventsAnswer, EventView, HealthTimeline } from "../../../collector/reports/health-types.js";

const M = 60_000;
const UUID = "GPU-1";

function event(id: number, host: string, seq: number, timeMs: number): EventView {
  return {
    id,
    host,
    kind: "xid",
    code: 79,
    pciBusId: "0000:01:00",
    gpuUuid: UUID,
    gpuIndex: 0,
    pid: null,
    processName: null,
    message: "NVRM: Xid 79",
    timeMs,
    receivedMs: timeMs,
    source: "kmsg",
    kernelBootId: "boot",
    kernelSeq: seq,
    action: "reboot",
    applicationLevel: false,
    mnemonic: "GPU_FALLEN",
    description: null,
  };
}

function flag(id: number, kind: FlagKind, host: string, startMs: number, endMs: number | null): Flag {
  return {
    id,
    kind,
    severity: "critical",
    host,
    gpuUuid: UUID,
    gpuIndex: 0,
    site: "",
    labels: {},
    startMs,
    endMs,
    reason: `${kind} on ${host}`,
    values: {},
    updatedMs: endMs ?? startMs,
  };
}

function ack(id: number, flagId: number, atMs: number, note: string): FlagAck {
  return { id, flagId, host: "h", gpuUuid: UUID, kind: "reset-required", note, atMs, actor: "http.token" };
}

function timeline(host: string, over: Partial<HealthTimeline>): HealthTimeline {
  return {
    generatedMs: 100 * M,
    uuid: UUID,
    host,
    index: 0,
    fromMs: 0,
    toMs: 100 * M,
    events: [],
    flags: [],
    acknowledgements: [],
    downtime: [],
    downtimeMs: 0,
    truncated: false,
    ...over,
  };
}

describe("mergeHealthTimelines", () => {
  // The GPU was on host-a (the first collector's frames) until minute 50, then on host-b.
  const first = timeline("host-a", {
    events: [event(7, "host-a", 2, 20 * M), event(3, "host-b", 1, 60 * M)].reverse(),
    flags: [flag(11, "lost", "host-a", 10 * M, 30 * M), flag(12, "reset-required", "host-b", 60 * M, null)],
    acknowledgements: [ack(1, 11, 25 * M, "reseated")],
    downtime: [{ fromMs: 10 * M, toMs: 30 * M, kinds: ["lost"] }],
    downtimeMs: 20 * M,
  });
  const second = timeline("host-b", {
    index: 2,
    events: [event(40, "host-b", 1, 60 * M), event(41, "host-a", 2, 20 * M)],
    flags: [flag(90, "reset-required", "host-b", 61 * M, null), flag(91, "error", "host-b", 55 * M, 65 * M)],
    acknowledgements: [ack(5, 90, 70 * M, "asked for a reset")],
    downtime: [{ fromMs: 61 * M, toMs: 100 * M, kinds: ["reset-required"] }],
    downtimeMs: 39 * M,
  });

  test("each event once, each episode once, down time the union, placed where the newest episode is", () => {
    const merged = mergeHealthTimelines([first, second], 1000);
    expect(merged.events.map((e) => [e.host, e.kernelSeq, e.timeMs])).toEqual([
      ["host-b", 1, 60 * M],
      ["host-a", 2, 20 * M],
    ]);
    expect(merged.flags.map((f) => [f.kind, f.host, f.startMs, f.endMs])).toEqual([
      ["reset-required", "host-b", 60 * M, null],
      ["error", "host-b", 55 * M, 65 * M],
      ["lost", "host-a", 10 * M, 30 * M],
    ]);
    expect(merged.downtime).toEqual([
      { fromMs: 10 * M, toMs: 30 * M, kinds: ["lost"] },
      { fromMs: 61 * M, toMs: 100 * M, kinds: ["reset-required"] },
    ]);
    expect(merged.downtimeMs).toBe(59 * M);
    expect([merged.host, merged.index, merged.truncated, merged.stays]).toEqual([
      "host-b",
      2,
      false,
      undefined,
    ]);
  });

  test("placed by its newest episode, not by events every collector holds", () => {
    // Both collectors hold the newest event; only the second's frames raised an episode lately.
    const late = event(50, "host-b", 9, 95 * M);
    const a = timeline("host-a", { events: [late], flags: [flag(1, "lost", "host-a", 10 * M, 12 * M)] });
    const b = timeline("host-b", {
      index: 2,
      events: [late],
      flags: [flag(2, "error", "host-b", 50 * M, 52 * M)],
    });
    const merged = mergeHealthTimelines([a, b], 1000);
    expect([merged.host, merged.index, merged.events.length]).toEqual(["host-b", 2, 1]);
  });

  test("an acknowledgement goes under the id of the episode its flag was joined into", () => {
    const merged = mergeHealthTimelines([first, second], 1000);
    const reset = merged.flags.find((f) => f.kind === "reset-required");
    const lost = merged.flags.find((f) => f.kind === "lost");
    expect(merged.acknowledgements.map((a) => [a.flagId, a.note])).toEqual([
      [lost?.id, "reseated"],
      [reset?.id, "asked for a reset"],
    ]);
    // The same acknowledgement from both collectors counts once.
    const again = mergeHealthTimelines([first, { ...first, host: "host-c" }], 1000);
    expect(again.acknowledgements).toHaveLength(1);
  });

  test("copies of a reset-required end where the first one saw the recovery, in flags and down time", () => {
    // Round robin: both collectors raised it from the Xid at minute 60; the frame showing the
    // recovery at minute 80 reached the first, the second's next frame came a sample later.
    const SAMPLE = 30_000;
    const a = timeline("host-b", {
      flags: [flag(12, "reset-required", "host-b", 60 * M, 80 * M)],
      downtime: [{ fromMs: 60 * M, toMs: 80 * M, kinds: ["reset-required"] }],
    });
    const b = timeline("host-b", {
      flags: [flag(90, "reset-required", "host-b", 60 * M, 80 * M + SAMPLE)],
      downtime: [{ fromMs: 60 * M, toMs: 80 * M + SAMPLE, kinds: ["reset-required"] }],
    });
    // Under the id of the first timeline's copy (the asking collector's, which it can acknowledge).
    for (const [merged, id] of [
      [mergeHealthTimelines([a, b], 1000), 12],
      [mergeHealthTimelines([b, a], 1000), 90],
    ] as const) {
      expect(merged.flags.map((f) => [f.id, f.startMs, f.endMs])).toEqual([[id, 60 * M, 80 * M]]);
      expect(merged.downtime).toEqual([{ fromMs: 60 * M, toMs: 80 * M, kinds: ["reset-required"] }]);
    }
    // A copy still open (the second has had no frame since) ends too.
    const open = timeline("host-b", {
      flags: [flag(90, "reset-required", "host-b", 60 * M, null)],
      downtime: [{ fromMs: 60 * M, toMs: 100 * M, kinds: ["reset-required"] }],
    });
    expect(mergeHealthTimelines([a, open], 1000).downtimeMs).toBe(20 * M);
    // Where another kind holds the second's stretch down too, the stretch is kept whole.
    const stale = {
      ...b,
      downtime: [{ fromMs: 60 * M, toMs: 80 * M + SAMPLE, kinds: ["reset-required", "stale"] }],
    };
    expect(mergeHealthTimelines([a, stale as HealthTimeline], 1000).downtimeMs).toBe(20 * M + SAMPLE);
  });

  test("events cut at the bound say truncated; a tenant's stays are joined; one timeline is as it was", () => {
    const cut = mergeHealthTimelines([first, second], 1);
    expect([cut.events.length, cut.truncated]).toEqual([1, true]);
    const stays = mergeHealthTimelines(
      [
        { ...first, stays: [{ fromMs: 0, toMs: 40 * M }] },
        {
          ...second,
          stays: [
            { fromMs: 40 * M, toMs: 50 * M },
            { fromMs: 70 * M, toMs: 90 * M },
          ],
        },
      ],
      1000,
    );
    expect(stays.stays).toEqual([
      { fromMs: 0, toMs: 50 * M },
      { fromMs: 70 * M, toMs: 90 * M },
    ]);
    expect(mergeHealthTimelines([first], 1000)).toBe(first);
    expect(() => mergeHealthTimelines([], 1000)).toThrow();
  });

  test("a MIG tenant's down-only stay stays apart from a whole-GPU stay beside it, and keeps its mark", () => {
    const merged = mergeHealthTimelines(
      [
        { ...first, stays: [{ fromMs: 0, toMs: 40 * M }] },
        {
          ...second,
          stays: [
            { fromMs: 20 * M, toMs: 40 * M },
            { fromMs: 40 * M, toMs: 60 * M, downOnly: true },
            { fromMs: 50 * M, toMs: 70 * M, downOnly: true },
          ],
        },
      ],
      1000,
    );
    expect(merged.stays).toEqual([
      { fromMs: 0, toMs: 40 * M },
      { fromMs: 40 * M, toMs: 70 * M, downOnly: true },
    ]);
  });

  test("event lists: each event once, newest first, cut at the limit; next is the last shown event's key", () => {
    const answer = (events: EventView[], next: string | null, generatedMs = 0): EventsAnswer => ({
      generatedMs,
      limit: 3,
      next,
      events,
    });
    // The same events under each collector's row ids; b has a newer one and a page after these.
    const a = answer([event(2, "h1", 2, 2 * M), event(1, "h1", 1, M)], null, 5);
    const b = answer(
      [event(13, "h2", 9, 3 * M), event(12, "h1", 2, 2 * M), event(11, "h1", 1, M)],
      "60000:11",
      7,
    );
    const merged = mergeEventAnswers([a, b]);
    expect(merged.events.map((e) => [e.host, e.kernelSeq])).toEqual([
      ["h2", 9],
      ["h1", 2],
      ["h1", 1],
    ]);
    // Until 2026-12-08 `${M + 1}:0`: the next page showed the events of M again.
    expect(merged).toMatchObject({ generatedMs: 7, limit: 3, next: `${M}:h1:boot:1` });
    expect(mergeEventAnswers([a, answer([event(9, "h1", 1, M)], null)])).toMatchObject({ next: null });
    expect(mergeEventAnswers([a])).toBe(a);
  });
});
