// The remote_write queue's bound on a real SQLite file: past max rows the oldest are skipped
// (cursor moved, rows deleted) and counted; under it nothing moves.
import { afterEach, describe, expect, it } from "vitest";
import { CaptureLog } from "../../collector/store/capture-log.js";
import { type TempStore, tempStore } from "../collector/store/synth.js";

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

describe("CaptureLog.trim", () => {
  it("drops only the oldest rows past the bound, and nothing under it", () => {
    tmp = tempStore();
    const store = tmp.open();
    const log = new CaptureLog(store.db);
    const insert = store.db.prepare("INSERT INTO remote_write_log (data) VALUES (?)");
    for (let i = 0; i < 10; i++) insert.run(Buffer.from([i]));

    expect(log.trim(0, 10, 1_000)).toEqual({ rows: 0, toId: 0 });
    expect(log.pending(0)).toBe(10);

    expect(log.trim(0, 4, 2_000)).toEqual({ rows: 6, toId: 6 });
    expect(log.cursor().lastId).toBe(6);
    expect(log.read(6, 100).map((r) => r.data[0])).toEqual([6, 7, 8, 9]);
    expect(log.pending(0)).toBe(4);

    log.advance(8, 2, 0, 3_000);
    // Ids start at 1: ids 9 and 10 are left.
    expect(log.trim(8, 2, 4_000)).toEqual({ rows: 0, toId: 8 });
    expect(log.trim(8, 1, 5_000)).toEqual({ rows: 1, toId: 9 });
    expect(log.pending(9)).toBe(1);
    expect(log.cursor()).toEqual({ lastId: 9, samplesSent: 2, samplesDropped: 0 });
  });
});
