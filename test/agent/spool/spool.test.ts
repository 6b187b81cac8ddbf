import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RECENT_MAX_FRAMES } from "../../../agent/spool/recent-frames.js";
import { Spool } from "../../../agent/spool/spool.js";
import { SpoolStore } from "../../../agent/spool/spool-store.js";
import { silentLogger } from "../../../shared/logger.js";
import { frame, seqOf, type TempDir, tempSpoolDir } from "./helpers.js";

let temp: TempDir;
let clock = 0;
const open = (extra: Partial<Parameters<typeof Spool.open>[0]> = {}) =>
  Spool.open({ path: temp.path, logger: silentLogger(), now: () => clock, ...extra });

beforeEach(() => {
  temp = tempSpoolDir();
  clock = 1_000_000;
});
afterEach(() => temp.remove());

describe("Spool", () => {
  it("hands live frames out once, deletes them on ack and hands nacked ones out again", () => {
    const spool = open();
    spool.reconnected();
    const ids = [1, 2, 3].map((seq) => spool.append(frame(seq)));
    expect(ids).toEqual([1, 2, 3]);

    const first = spool.nextLive(2);
    expect(first.map((e) => e.seq)).toEqual([1, 2]);
    expect(first[0]?.bootId).toBe("boot-a");
    expect(first[0]?.timestampMs).toBe(1_700_000_001_000);
    expect(seqOf(first[1]!.payload)).toBe(2);
    expect(spool.nextLive(5).map((e) => e.seq)).toEqual([3]);
    expect(spool.nextLive(5)).toEqual([]);
    expect(spool.stats()).toMatchObject({ pendingFrames: 3, pendingBytes: 1_800, inFlightFrames: 3 });

    expect(spool.ack([1, 3])).toBe(2);
    expect(spool.ack([1])).toBe(0);
    expect(spool.nack([2])).toBe(1);
    expect(spool.nextLive(5).map((e) => e.seq)).toEqual([2]);
    spool.ack([2]);
    expect(spool.stats()).toMatchObject({ pendingFrames: 0, pendingBytes: 0, inFlightFrames: 0 });
    spool.close();
  });

  it("after a reconnect, frames not yet acknowledged are backlog and new ones are live", () => {
    const spool = open({ backlog: { framesPerSecond: 1_000_000, maxFrames: 10 } });
    spool.reconnected();
    for (let seq = 1; seq <= 5; seq += 1) spool.append(frame(seq));
    spool.nextLive(2);
    expect(spool.nackAll()).toBe(2);
    spool.reconnected();
    spool.append(frame(6));
    expect(spool.nextLive(10).map((e) => e.seq)).toEqual([6]);
    const poll = spool.nextBacklog();
    expect(poll.kind).toBe("batch");
    if (poll.kind === "batch") expect(poll.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(spool.nextBacklog()).toEqual({ kind: "empty" });
    spool.close();
  });

  it("resumes the whole backlog in order after a restart, without what was acknowledged", () => {
    const first = open();
    for (let seq = 1; seq <= 250; seq += 1) first.append(frame(seq));
    first.reconnected();
    const handed = first.nextBacklog();
    if (handed.kind !== "batch") throw new Error(`expected a batch, got ${handed.kind}`);
    first.ack(handed.entries.slice(0, 40).map((e) => e.id));
    // Handed out but never acknowledged: pending again after the restart.
    first.close();

    const second = open({ backlog: { framesPerSecond: 1_000_000, maxFrames: 100 } });
    expect(second.stats().pendingFrames).toBe(210);
    second.reconnected();
    const seqs: number[] = [];
    for (let poll = second.nextBacklog(); poll.kind !== "empty"; poll = second.nextBacklog()) {
      if (poll.kind === "wait") {
        clock += poll.waitMs;
        continue;
      }
      seqs.push(...poll.entries.map((e) => e.seq));
      second.ack(poll.entries.map((e) => e.id));
    }
    expect(seqs).toEqual(Array.from({ length: 210 }, (_, i) => i + 41));
    // New ids never reuse old ones, so a late PUBACK cannot delete a newer frame.
    expect(second.append(frame(251))).toBe(251);
    second.close();
  });

  it("hands nacked backlog batches out again, oldest first, without what was acknowledged", () => {
    const spool = open({ backlog: { framesPerSecond: 1_000_000, maxFrames: 10 } });
    for (let seq = 1; seq <= 30; seq += 1) spool.append(frame(seq));
    spool.reconnected();
    const [a, b, c] = [1, 2, 3].map(() => {
      clock += 1_000;
      const poll = spool.nextBacklog();
      return poll.kind === "batch" ? poll.entries : [];
    });
    expect(spool.stats().inFlightFrames).toBe(30);
    spool.ack(b!.map((e) => e.id));
    // Connection lost before the other PUBACKs.
    expect(spool.nackAll()).toBe(20);
    spool.reconnected();
    clock += 1_000;
    const again: number[] = [];
    for (let poll = spool.nextBacklog(); poll.kind !== "empty"; poll = spool.nextBacklog()) {
      if (poll.kind === "wait") clock += poll.waitMs;
      else again.push(...poll.entries.map((e) => e.seq));
    }
    expect(again).toEqual([...a!, ...c!].map((e) => e.seq));
    spool.close();
  });

  it("paces the backlog with the token bucket on the injected clock", () => {
    const spool = open({ backlog: { framesPerSecond: 100, maxFrames: 50 } });
    for (let seq = 1; seq <= 200; seq += 1) spool.append(frame(seq));
    spool.reconnected();
    const sizes: number[] = [];
    const start = clock;
    while (sizes.reduce((a, b) => a + b, 0) < 200) {
      const poll = spool.nextBacklog();
      if (poll.kind === "wait") clock += poll.waitMs;
      else if (poll.kind === "batch") sizes.push(poll.entries.length);
      else throw new Error("backlog ended early");
    }
    expect(sizes).toEqual([50, 50, 50, 50]);
    // The first batch goes at once (full bucket), the next three each wait 0.5 s at 100 frames/s.
    expect(clock - start).toBe(1_500);
    spool.close();
  });

  it("does not re-read the backlog while the rate says wait", () => {
    const spool = open({ backlog: { framesPerSecond: 100, maxFrames: 50 } });
    // More than the recent frames kept in memory: the batches polled here are read from the file.
    for (let seq = 1; seq <= 100 + RECENT_MAX_FRAMES; seq += 1) spool.append(frame(seq));
    spool.reconnected();
    expect(spool.nextBacklog().kind).toBe("batch");
    const scans = vi.spyOn(SpoolStore.prototype, "scan");
    const first = spool.nextBacklog();
    expect(first).toEqual({ kind: "wait", waitMs: 500 });
    clock += 200;
    // Live frames and PUBACKs pump the queue many times in between: none of them reads a batch.
    for (let i = 0; i < 100; i++) expect(spool.nextBacklog()).toEqual({ kind: "wait", waitMs: 300 });
    expect(scans).toHaveBeenCalledTimes(1);
    clock += 300;
    expect(spool.nextBacklog().kind).toBe("batch");
    expect(scans).toHaveBeenCalledTimes(2);
    scans.mockRestore();
    spool.close();
  });

  it("cuts backlog batches at the byte limit, oldest first", () => {
    const spool = open({ backlog: { framesPerSecond: 1_000_000, maxFrames: 1_000, maxBytes: 10_000 } });
    for (let seq = 1; seq <= 40; seq += 1) spool.append(frame(seq, 1_000));
    spool.reconnected();
    const batches: number[][] = [];
    for (let poll = spool.nextBacklog(); poll.kind === "batch"; poll = spool.nextBacklog()) {
      expect(poll.bytes).toBeLessThanOrEqual(10_000);
      batches.push(poll.entries.map((e) => e.seq));
    }
    expect(batches.map((b) => b.length)).toEqual([9, 9, 9, 9, 4]);
    expect(batches.flat()).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    spool.close();
  });

  it("refuses a frame larger than the bound, and use after close", () => {
    const spool = open({ maxBytes: 1_000 });
    expect(() => spool.append(frame(1, 2_000))).toThrow(expect.objectContaining({ code: "GPUTEL_E_SPOOL" }));
    spool.close();
    expect(() => spool.append(frame(2))).toThrow(expect.objectContaining({ code: "GPUTEL_E_SPOOL" }));
  });
});
