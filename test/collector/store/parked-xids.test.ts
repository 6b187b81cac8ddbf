// The parked Xids' table (parked-xids.ts, migration 099) in a real SQLite file: what is parked
// comes back after the file is closed and opened again, whole and in order, until it is unparked
// or lapses.
import { afterEach, describe, expect, it } from "vitest";
import type { ValidEvent } from "../../../collector/ingest/validate-event.js";
import { type TempStore, tempStore } from "./synth.js";

const T0 = Date.UTC(2026, 11, 8, 0, 0, 0);
const MIN = 60_000;

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

function xid(host: string, seq: number, over: Partial<ValidEvent> = {}): ValidEvent {
  return {
    host,
    agentBootId: "agent-boot-1",
    kind: "xid",
    code: 79,
    pciBusId: "0000:01:00",
    gpuUuid: `GPU-${host}-0`,
    gpuIndex: 0,
    pid: null,
    processName: null,
    message: "NVRM: Xid (PCI:0000:01:00): 79, pid=<unknown>, name=<unknown>, GPU has fallen off the bus.",
    timeMs: T0 + seq * 1000,
    kernelBootId: "kernel-boot-1",
    kernelSeq: seq,
    source: "kmsg",
    action: "reset-gpu",
    applicationLevel: false,
    ...over,
  };
}

describe("parked Xids", () => {
  it("come back after a reopen with their events, in the order parked, less the unparked and lapsed", () => {
    tmp = tempStore();
    const store = tmp.open();
    const events = [xid("b", 1, { pid: 7, processName: "python3" }), xid("a", 2), xid("a", 3), xid("c", 4)];
    store.writeEvents(events, T0);
    const parked = store.parkedXids();
    store.db.transaction(() => {
      parked.park(events[0] as ValidEvent, T0 + MIN);
      parked.park(events[1] as ValidEvent, T0 + 2 * MIN);
      parked.park(events[2] as ValidEvent, T0 + 3 * MIN);
      parked.park(events[3] as ValidEvent, T0);
      // Parked again (an Xid re-sent): one row, its first time.
      parked.park(events[1] as ValidEvent, T0 + 5 * MIN);
      parked.unpark([events[2] as ValidEvent]);
    })();
    store.close();

    const again = tmp.open().parkedXids();
    // Parked before T0 + 1 min: lapsed, and gone for good.
    expect(again.load(T0 + MIN)).toEqual([
      { event: events[0], atMs: T0 + MIN },
      { event: events[1], atMs: T0 + 2 * MIN },
    ]);
    expect(again.load(T0)).toHaveLength(2);
  });

  it("forgets a parked Xid whose event retention pruned", () => {
    tmp = tempStore();
    const store = tmp.open();
    const event = xid("a", 1);
    store.writeEvents([event], T0);
    store.parkedXids().park(event, T0);
    store.db.exec("DELETE FROM events");
    expect(store.parkedXids().load(T0)).toEqual([]);
    store.writeEvents([event], T0);
    expect(store.parkedXids().load(T0)).toEqual([]);
  });
});
