import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Spool } from "../../../agent/spool/spool.js";
import { silentLogger } from "../../../shared/logger.js";
import { capturingLogger, frame, type TempDir, tempSpoolDir } from "./helpers.js";

let temp: TempDir;
beforeEach(() => {
  temp = tempSpoolDir();
});
afterEach(() => temp.remove());

describe("Spool bound", () => {
  it("drops the oldest frames past the bound, counts them and logs it", () => {
    const { logger, lines } = capturingLogger();
    const spool = Spool.open({ path: temp.path, maxBytes: 6_000, logger });
    for (let seq = 1; seq <= 25; seq += 1) spool.append(frame(seq, 600));
    // 10 frames of 600 bytes fit in 6,000.
    expect(spool.stats()).toMatchObject({ pendingFrames: 10, pendingBytes: 6_000, droppedTotal: 15 });
    expect(spool.takeDroppedSinceReport()).toBe(15);
    expect(spool.takeDroppedSinceReport()).toBe(0);
    spool.reconnected();
    const poll = spool.nextBacklog();
    if (poll.kind !== "batch") throw new Error(`expected a batch, got ${poll.kind}`);
    expect(poll.entries.map((e) => e.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    const warn = lines.find((l) => l.msg === "Spool bound reached; dropping the oldest frames");
    expect(warn).toMatchObject({ component: "agent.spool", level: "warn", maxBytes: 6_000 });
    spool.close();
  });

  it("logs at most once a minute, each line with the frames dropped since the last one", () => {
    const { logger, lines } = capturingLogger();
    let now = 0;
    const spool = Spool.open({ path: temp.path, maxBytes: 6_000, logger, now: () => now });
    for (let seq = 1; seq <= 10; seq += 1) spool.append(frame(seq, 600));
    // Each 1,200-byte frame takes the room of two of the oldest 600-byte ones.
    spool.append(frame(11, 1_200));
    spool.append(frame(12, 1_200));
    now += 60_000;
    spool.append(frame(13, 1_200));
    expect(spool.droppedTotal).toBe(6);
    const warns = lines.filter((l) => l.msg === "Spool bound reached; dropping the oldest frames");
    expect(warns.map((l) => [l.dropped, l.droppedTotal])).toEqual([
      [2, 2],
      [4, 6],
    ]);
    spool.close();
  });

  it("keeps the dropped count, and what was not yet reported, across a reopen", () => {
    const first = Spool.open({ path: temp.path, maxBytes: 3_000, logger: silentLogger() });
    for (let seq = 1; seq <= 8; seq += 1) first.append(frame(seq, 600));
    expect(first.takeDroppedSinceReport()).toBe(3);
    // The report is persisted with the next append (the frame that carries the count).
    first.append(frame(9, 600));
    first.append(frame(10, 600));
    first.close();

    const second = Spool.open({ path: temp.path, maxBytes: 3_000, logger: silentLogger() });
    expect(second.droppedTotal).toBe(5);
    expect(second.stats().droppedSinceOpen).toBe(0);
    expect(second.takeDroppedSinceReport()).toBe(2);
    expect(second.stats().pendingFrames).toBe(5);
    second.close();
  });

  it("spares frames in flight while older pending ones can go", () => {
    const spool = Spool.open({ path: temp.path, maxBytes: 3_000, logger: silentLogger() });
    spool.reconnected();
    for (let seq = 1; seq <= 5; seq += 1) spool.append(frame(seq, 600));
    const inFlight = spool.nextLive(1);
    expect(inFlight.map((e) => e.seq)).toEqual([1]);
    spool.append(frame(6, 600));
    // Frame 2 went, not frame 1 (its PUBACK is probably on its way).
    expect(spool.ack([inFlight[0]!.id])).toBe(1);
    expect(spool.nextLive(10).map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    spool.close();
  });

  it("holds many frames up to a realistic bound with exact byte accounting", () => {
    const spool = Spool.open({ path: temp.path, maxBytes: 1_000_000, logger: silentLogger() });
    for (let seq = 1; seq <= 3_000; seq += 1) spool.append(frame(seq, 500 + (seq % 200)));
    const stats = spool.stats();
    expect(stats.pendingBytes).toBeLessThanOrEqual(1_000_000);
    expect(stats.pendingBytes).toBeGreaterThan(1_000_000 - 700);
    expect(stats.pendingFrames + stats.droppedTotal).toBe(3_000);
    spool.close();
    const reopened = Spool.open({ path: temp.path, maxBytes: 1_000_000, logger: silentLogger() });
    expect(reopened.stats()).toMatchObject({
      pendingBytes: stats.pendingBytes,
      pendingFrames: stats.pendingFrames,
    });
    reopened.close();
  });
});
