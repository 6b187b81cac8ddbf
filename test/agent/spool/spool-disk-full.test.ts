import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Spool } from "../../../agent/spool/spool.js";
import { GputelError } from "../../../shared/errors.js";
import { silentLogger } from "../../../shared/logger.js";
import { frame, type TempDir, tempSpoolDir } from "./helpers.js";

let temp: TempDir;
beforeEach(() => {
  temp = tempSpoolDir();
});
afterEach(() => temp.remove());

describe("Spool on a full disk", () => {
  it("throws GPUTEL_E_SPOOL on append, keeps what it had, and works again once acks free space", () => {
    // 64 pages of 4 KiB: a database size limit standing in for a full file system.
    const spool = Spool.open({ path: temp.path, logger: silentLogger(), maxPageCount: 64 });
    spool.reconnected();
    let appended = 0;
    let failure: unknown;
    for (let seq = 1; seq <= 10_000 && failure === undefined; seq += 1) {
      try {
        spool.append(frame(seq));
        appended += 1;
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toBeInstanceOf(GputelError);
    expect(failure).toMatchObject({ code: "GPUTEL_E_SPOOL", message: "Spool disk is full" });
    expect((failure as GputelError).detail).toMatchObject({ path: temp.path });
    expect(appended).toBeGreaterThan(100);
    // The failed append changed nothing: the counters still match the file.
    expect(spool.stats()).toMatchObject({ pendingFrames: appended, pendingBytes: appended * 600 });
    expect(() => spool.append(frame(appended + 2))).toThrow("Spool disk is full");

    const live = spool.nextLive(50);
    expect(live).toHaveLength(50);
    expect(spool.ack(live.map((e) => e.id))).toBe(50);
    const id = spool.append(frame(appended + 3));
    expect(spool.nextLive(1_000).at(-1)?.id).toBe(id);
    expect(spool.stats().pendingFrames).toBe(appended - 50 + 1);
    spool.close();

    const reopened = Spool.open({ path: temp.path, logger: silentLogger() });
    expect(reopened.stats().pendingFrames).toBe(appended - 50 + 1);
    reopened.close();
  });
});
