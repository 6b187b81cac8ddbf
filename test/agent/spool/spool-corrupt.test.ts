import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Spool } from "../../../agent/spool/spool.js";
import { silentLogger } from "../../../shared/logger.js";
import { capturingLogger, frame, type TempDir, tempSpoolDir } from "./helpers.js";

let temp: TempDir;
beforeEach(() => {
  temp = tempSpoolDir();
});
afterEach(() => temp.remove());

const NOW = Date.UTC(2026, 4, 1, 10, 20, 30, 123);
const movedAside = () => readdirSync(temp.dir).filter((name) => name.includes(".corrupt-"));

function fillAndClose(frames: number): void {
  const spool = Spool.open({ path: temp.path, logger: silentLogger() });
  for (let seq = 1; seq <= frames; seq += 1) spool.append(frame(seq));
  spool.close();
}

/** The fresh spool works: appends, hands out and acknowledges. */
function expectWorking(spool: Spool): void {
  spool.reconnected();
  const id = spool.append(frame(1_000));
  const live = spool.nextLive(10);
  expect(live.map((e) => e.id)).toEqual([id]);
  expect(spool.ack([id])).toBe(1);
}

describe("Spool corruption", () => {
  it("moves a garbage file aside at open, logs it, and starts fresh", () => {
    writeFileSync(temp.path, Buffer.alloc(64 * 1024, 0x5a));
    const { logger, lines } = capturingLogger();
    const spool = Spool.open({ path: temp.path, logger, now: () => NOW });
    expect(movedAside()).toEqual(["spool.db.corrupt-2026-05-01T10-20-30-123Z"]);
    expect(statSync(join(temp.dir, movedAside()[0]!)).size).toBe(64 * 1024);
    const line = lines.find((l) => l.code === "GPUTEL_E_SPOOL_CORRUPT");
    expect(line).toMatchObject({
      level: "error",
      component: "agent.spool",
      path: temp.path,
      movedTo: `${temp.path}.corrupt-2026-05-01T10-20-30-123Z`,
      during: "open",
    });
    expect(spool.stats().pendingFrames).toBe(0);
    expectWorking(spool);
    spool.close();
  });

  it("moves a file truncated mid-page aside at open", () => {
    fillAndClose(3_000);
    const size = statSync(temp.path).size;
    truncateSync(temp.path, Math.floor(size / 2) + 100);
    const { logger, lines } = capturingLogger();
    const spool = Spool.open({ path: temp.path, logger, now: () => NOW });
    expect(movedAside()).toHaveLength(1);
    expect(lines.some((l) => l.code === "GPUTEL_E_SPOOL_CORRUPT")).toBe(true);
    expectWorking(spool);
    spool.close();
  });

  it("recovers from corruption found during use, keeping ids and drop counts going", () => {
    const { logger, lines } = capturingLogger();
    const spool = Spool.open({ path: temp.path, maxBytes: 6_000_000, logger, now: () => NOW });
    // Well past the 2 MiB page cache, so the oldest pages are read from the file again.
    for (let seq = 1; seq <= 12_000; seq += 1) spool.append(frame(seq));
    const droppedBefore = spool.droppedTotal;
    expect(droppedBefore).toBeGreaterThan(0);
    const checkpoint = new Database(temp.path);
    checkpoint.pragma("wal_checkpoint(TRUNCATE)");
    checkpoint.close();
    const fd = openSync(temp.path, "r+");
    writeSync(fd, Buffer.alloc(statSync(temp.path).size - 8192, 0xa5), 0, undefined, 8192);
    closeSync(fd);

    spool.reconnected();
    expect(spool.nextBacklog()).toEqual({ kind: "empty" });
    const line = lines.find((l) => l.code === "GPUTEL_E_SPOOL_CORRUPT");
    expect(line).toMatchObject({ during: "read", framesLost: 12_000 - droppedBefore });
    expect(movedAside()[0]).toMatch(/^spool\.db\.corrupt-/);
    expect(spool.stats()).toMatchObject({
      corruptRecoveries: 1,
      pendingFrames: 0,
      droppedTotal: droppedBefore,
    });
    const id = spool.append(frame(12_001));
    expect(id).toBe(12_001);
    spool.close();

    const reopened = Spool.open({ path: temp.path, logger: silentLogger() });
    expect(reopened.droppedTotal).toBe(droppedBefore);
    expect(reopened.stats().pendingFrames).toBe(1);
    reopened.close();
  });

  it("refuses a database that is not a spool, without moving it", () => {
    const other = new Database(temp.path);
    other.exec("CREATE TABLE samples (x INTEGER)");
    other.close();
    expect(() => Spool.open({ path: temp.path, logger: silentLogger() })).toThrow(
      expect.objectContaining({ code: "GPUTEL_E_SPOOL" }),
    );
    expect(existsSync(temp.path)).toBe(true);
    expect(movedAside()).toEqual([]);
  });

  it("reports an unopenable path as GPUTEL_E_SPOOL", () => {
    writeFileSync(join(temp.dir, "file"), "x");
    expect(() => Spool.open({ path: join(temp.dir, "file", "spool.db"), logger: silentLogger() })).toThrow(
      expect.objectContaining({ code: "GPUTEL_E_SPOOL" }),
    );
  });
});
