// The event store's pages: every event once, in the fleet's order (time newest first, then host,
// kernel boot, newer sequence first), also with more events in one millisecond than a page holds;
// a page after an event's key reads the same on a store that numbered its rows otherwise; and a
// cursor from before 2026-12-08 (time and this store's row id) still pages.
import { afterEach, describe, expect, it } from "vitest";
import type { ValidEvent } from "../../../collector/ingest/validate-event.js";
import { compareEvents } from "../../../collector/reports/event-cursor.js";
import type { EventPosition, EventRow } from "../../../collector/store/event-store.js";
import type { Store } from "../../../collector/store/store.js";
import { T0, type TempStore, tempStore } from "./synth.js";

let stores: TempStore[] = [];
afterEach(() => {
  for (const s of stores) s.cleanup();
  stores = [];
});

function openStore(): Store {
  const tmp = tempStore();
  stores.push(tmp);
  return tmp.open();
}

function event(host: string, boot: string, seq: number, timeMs: number): ValidEvent {
  return {
    host,
    agentBootId: "agent-1",
    kind: "xid",
    code: 79,
    pciBusId: "0000:01:00",
    gpuUuid: `GPU-${host}`,
    gpuIndex: 0,
    pid: null,
    processName: null,
    message: "NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus.",
    timeMs,
    kernelBootId: boot,
    kernelSeq: seq,
    source: "kmsg",
    action: "reboot",
    applicationLevel: false,
  };
}

const key = (e: Pick<EventRow, "host" | "kernelBootId" | "kernelSeq" | "timeMs">) =>
  `${e.timeMs}/${e.host}/${e.kernelBootId}/${e.kernelSeq}`;

/** Every page of `limit` from `store`, each after the key of the last one's last event. */
function pageAll(store: Store, limit: number, first?: EventPosition): EventRow[][] {
  const pages: EventRow[][] = [];
  let before = first;
  for (;;) {
    const page = store.events().list({ limit, ...(before ? { before } : {}) });
    if (page.length === 0) return pages;
    pages.push(page);
    const last = page[page.length - 1] as EventRow;
    before = {
      timeMs: last.timeMs,
      host: last.host,
      kernelBootId: last.kernelBootId,
      kernelSeq: last.kernelSeq,
    };
  }
}

// 250 events in one millisecond (3 hosts, 2 kernel boots each), 30 a millisecond earlier.
const SAME_MS = [...Array(250).keys()].map((i) => event(`node-${i % 3}`, `boot-${i % 2}`, i, T0 + 5));
const EARLIER = [...Array(30).keys()].map((i) => event("node-9", "boot-0", 1000 + i, T0 + 4));
const ALL = [...SAME_MS, ...EARLIER];

describe("event pages", () => {
  it("pages through more events of one millisecond than a page holds, each once, in the fleet's order", () => {
    const store = openStore();
    store.writeEvents(ALL, T0 + 10);
    const pages = pageAll(store, 100);
    expect(pages.map((p) => p.length)).toEqual([100, 100, 80]);
    const listed = pages.flat();
    expect(listed.map(key)).toEqual([...ALL].sort(compareEvents).map(key));
  });

  it("pages the same on a store whose row ids differ", () => {
    const a = openStore();
    const b = openStore();
    a.writeEvents(ALL, T0 + 10);
    b.writeEvents([...ALL].reverse(), T0 + 10);
    const last = pageAll(a, 100)[0]?.at(-1) as EventRow;
    const after = {
      timeMs: last.timeMs,
      host: last.host,
      kernelBootId: last.kernelBootId,
      kernelSeq: last.kernelSeq,
    };
    expect(b.events().list({ limit: 100, before: after }).map(key)).toEqual(
      a.events().list({ limit: 100, before: after }).map(key),
    );
  });

  it("reads an old TIME:ID cursor as its row's key, and as its time alone where no such row is", () => {
    const store = openStore();
    store.writeEvents(ALL, T0 + 10);
    const first = store.events().list({ limit: 100 });
    const last = first[first.length - 1] as EventRow;
    const pages = pageAll(store, 100, { timeMs: last.timeMs, id: last.id });
    expect(pages.flat().map(key)).toEqual([...ALL].sort(compareEvents).slice(100).map(key));
    // An old merged cursor (the last time shown + 1, row 0): the events before that time.
    expect(
      store
        .events()
        .list({ limit: 100, before: { timeMs: T0 + 5, id: 0 } })
        .map(key),
    ).toEqual([...EARLIER].sort(compareEvents).map(key));
  });
});
