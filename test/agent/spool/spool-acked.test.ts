// Acknowledged frames leave the spool at once but the file with the next append (one write
// transaction per frame), and live frames are served from memory: what stays true about that.
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Spool } from "../../../agent/spool/spool.js";
import { SpoolStore } from "../../../agent/spool/spool-store.js";
import { silentLogger } from "../../../shared/logger.js";
import { frame, seqOf, type TempDir, tempSpoolDir } from "./helpers.js";

let temp: TempDir;
const open = (extra: Partial<Parameters<typeof Spool.open>[0]> = {}) =>
  Spool.open({ path: temp.path, logger: silentLogger(), now: () => 1_000_000, ...extra });

/** Rows in the file, read through a second connection as another process would. */
function rowsInFile(): number[] {
  const db = new Database(temp.path, { readonly: true });
  try {
    return (db.prepare("SELECT seq FROM frames ORDER BY id").all() as { seq: number }[]).map((r) => r.seq);
  } finally {
    db.close();
  }
}

beforeEach(() => {
  temp = tempSpoolDir();
});
afterEach(() => {
  vi.restoreAllMocks();
  temp.remove();
});

describe("Spool reads and deletes", () => {
  it("serves live frames from the bytes appended, without reading the file, also after a nack", () => {
    const spool = open();
    spool.reconnected();
    const scans = vi.spyOn(SpoolStore.prototype, "scan");
    const appended = frame(1);
    const id = spool.append(appended);
    const [live] = spool.nextLive();
    expect(live).toMatchObject({ id, seq: 1, bootId: "boot-a" });
    expect(live?.payload).toEqual(appended.payload);
    expect(spool.nextLive()).toEqual([]);
    expect(spool.nack([id])).toBe(1);
    expect(spool.nextLive().map((e) => e.id)).toEqual([id]);
    expect(spool.nextBacklog()).toEqual({ kind: "empty" });
    expect(spool.nextBacklog()).toEqual({ kind: "empty" });
    // One scan of the (empty) backlog below the live frames; none for the live frames.
    expect(scans).toHaveBeenCalledTimes(1);
    spool.close();
  });

  it("keeps acknowledged frames out of counts and hand-outs, and deletes them with the next append", () => {
    const spool = open();
    spool.reconnected();
    for (let seq = 1; seq <= 3; seq += 1) spool.append(frame(seq));
    const live = spool.nextLive(3);
    expect(spool.ack(live.map((e) => e.id))).toBe(3);
    expect(spool.stats()).toMatchObject({ pendingFrames: 0, pendingBytes: 0, inFlightFrames: 0 });
    expect(rowsInFile()).toEqual([1, 2, 3]);
    // A reconnect makes everything pending backlog: the acknowledged frames are not.
    spool.reconnected();
    expect(spool.nextBacklog()).toEqual({ kind: "empty" });
    expect(spool.nextLive()).toEqual([]);
    spool.append(frame(4));
    expect(rowsInFile()).toEqual([4]);
    expect(spool.stats()).toMatchObject({ pendingFrames: 1, pendingBytes: 600 });
    const [fourth] = spool.nextLive();
    spool.ack([fourth?.id ?? 0]);
    expect(spool.flushAcked()).toBe(1);
    expect(rowsInFile()).toEqual([]);
    spool.close();
  });

  it("sends a frame acknowledged but not yet deleted again after a crash", () => {
    const crashed = open();
    crashed.reconnected();
    crashed.append(frame(1));
    crashed.append(frame(2));
    crashed.ack(crashed.nextLive(2).map((e) => e.id));
    // No close: the process died with the acknowledgement only in memory.
    const restarted = open();
    expect(restarted.stats().pendingFrames).toBe(2);
    restarted.reconnected();
    const poll = restarted.nextBacklog();
    expect(poll.kind === "batch" ? poll.entries.map((e) => seqOf(e.payload)) : poll).toEqual([1, 2]);
    restarted.close();
    crashed.close();
  });

  it("deletes acknowledged frames at close", () => {
    const spool = open();
    spool.reconnected();
    spool.append(frame(1));
    spool.ack(spool.nextLive().map((e) => e.id));
    spool.close();
    expect(rowsInFile()).toEqual([]);
  });

  it("never counts acknowledged frames as dropped by the bound", () => {
    const spool = open({ maxBytes: 6_000 });
    spool.reconnected();
    for (let seq = 1; seq <= 10; seq += 1) spool.append(frame(seq));
    spool.ack(spool.nextLive(5).map((e) => e.id));
    for (let seq = 11; seq <= 16; seq += 1) spool.append(frame(seq));
    // 5 acknowledged (gone), 11 pending after the appends: one over the bound of 10 frames.
    expect(spool.stats()).toMatchObject({ pendingFrames: 10, pendingBytes: 6_000, droppedTotal: 1 });
    expect(rowsInFile()).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    spool.close();
  });
});
