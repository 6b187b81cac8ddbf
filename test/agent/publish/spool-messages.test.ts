// Acknowledged frames leave the spool file with the next append, or ACK_FLUSH_MS after the
// acknowledgement when no append comes (fake timers; the spool is a real file).
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ACK_FLUSH_MS } from "../../../agent/publish/spool-messages.js";
import { SpoolQueue } from "../../../agent/publish/spool-queue.js";
import { Spool } from "../../../agent/spool/spool.js";
import { silentLogger } from "../../../shared/logger.js";
import { type TempDir, tempSpoolDir } from "../spool/helpers.js";

let temp: TempDir;

function rowsInFile(): number {
  const db = new Database(temp.path, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM frames").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function appendFrame(queue: SpoolQueue, seq: number): void {
  queue.append({ seq, boot_id: "boot-a", timestamp_ms: 1_700_000_000_000 + seq }, new Uint8Array(100));
}

beforeEach(() => {
  temp = tempSpoolDir();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  temp.remove();
});

describe("SpoolMessages acknowledgements", () => {
  it("deletes acknowledged frames ACK_FLUSH_MS after the ack when no append comes", () => {
    const queue = new SpoolQueue(Spool.open({ path: temp.path, logger: silentLogger() }));
    queue.markReconnected();
    appendFrame(queue, 1);
    const [message] = queue.take(1);
    queue.ack(message?.ids ?? []);
    expect(queue.pending()).toBe(0);
    expect(rowsInFile()).toBe(1);
    vi.advanceTimersByTime(ACK_FLUSH_MS - 1);
    expect(rowsInFile()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(rowsInFile()).toBe(0);
    queue.close();
  });

  it("leaves the deletes to the appends while they come, one write per frame", () => {
    const queue = new SpoolQueue(Spool.open({ path: temp.path, logger: silentLogger() }));
    queue.markReconnected();
    for (let seq = 1; seq <= 12; seq += 1) {
      appendFrame(queue, seq);
      // Every earlier frame was acknowledged and is gone from the file with this append.
      expect(rowsInFile()).toBe(1);
      for (const message of queue.take(1)) queue.ack(message.ids);
      vi.advanceTimersByTime(1_000);
    }
    // The timer armed before the last append waits once more for the acks that came after it.
    vi.advanceTimersByTime(2 * ACK_FLUSH_MS);
    expect(rowsInFile()).toBe(0);
    queue.close();
  });
});
