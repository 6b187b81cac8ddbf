// Keys of stamped plain kernel-log lines: a burst in one microsecond keeps apart; a reread keeps its keys.
import { describe, expect, it } from "vitest";
import { KEYS_PER_STAMP, StampedLineKeys } from "../../../agent/sources/kernel-log/stamped-line-keys.js";

const burst = [0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb].map(
  (bus) =>
    `[ 5016.452339] NVRM: Xid (PCI:0000:${bus.toString(16)}:00): 79, pid=0, GPU has fallen off the bus.`,
);

describe("stamped line keys", () => {
  it("gives eight Xids of one microsecond eight keys, all above the stamp's own", () => {
    const keys = new StampedLineKeys();
    const seqs = burst.map((line) => keys.seq(5_016_452_339, line));
    expect(new Set(seqs).size).toBe(8);
    for (const seq of seqs) expect(Math.floor(seq / KEYS_PER_STAMP)).toBe(5_016_452_339);
  });

  it("gives a reader run that reads the same lines again the same keys", () => {
    const first = new StampedLineKeys();
    const again = new StampedLineKeys();
    const read = (keys: StampedLineKeys) => [
      keys.seq(5_016_452_339, burst[0] as string),
      keys.seq(5_016_452_339, burst[1] as string),
      keys.seq(5_016_452_339, burst[0] as string),
      keys.seq(5_016_452_340, burst[2] as string),
    ];
    const seqs = read(first);
    expect(seqs[2]).toBe(seqs[0]);
    expect(read(again)).toEqual(seqs);
  });
});
