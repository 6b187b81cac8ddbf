// Kernel-log events over several collectors: paging through a list merged from two collectors'
// real Stores (`gputel query events --url a,b` merges each page with mergeEventAnswers, each
// collector asked the same `before`) lists every event exactly once, in the fleet's order, also
// with more events in one millisecond than a page holds: in a share group (each holds all, under
// its own row ids) and split (each holds some, some both).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeEventAnswers } from "../../collector/merge/merge-health.js";
import { compareEvents } from "../../collector/reports/event-cursor.js";
import type { EventsAnswer, EventView } from "../../collector/reports/health-types.js";
import { callAs, feedXid, openParts, type ServedCollector, serveParts, stopAll } from "./fanout-helpers.js";

const TOKEN = "fanout-events-token-0123456789abcdef";
const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const T = NOW - 3_600_000;
const RANGE = `from=${T - 600_000}&to=${NOW}`;
const LIMIT = 50;
const HOSTS = ["node-a", "node-b", "node-c"];
const uuidOf = (host: string) => `GPU-${host}-0000-1111-2222-333333333333`;
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-events-"));
const started: ServedCollector[] = [];

type Xid = { host: string; uuid: string; seq: number; timeMs: number };
// 130 events in one millisecond (more than two pages), 40 over the minutes before.
const XIDS: Xid[] = [
  ...[...Array(130).keys()].map((i) => xid(i, T)),
  ...[...Array(40).keys()].map((i) => xid(200 + i, T - 1 - (i % 7) * 1000)),
];

function xid(i: number, timeMs: number): Xid {
  const host = HOSTS[i % HOSTS.length] as string;
  return { host, uuid: uuidOf(host), seq: i, timeMs };
}

const key = (e: Pick<EventView, "host" | "kernelSeq" | "timeMs">) => `${e.timeMs}/${e.host}/${e.kernelSeq}`;
const EXPECTED = XIDS.map((x) => ({ ...x, kernelSeq: x.seq, kernelBootId: "k" }))
  .sort(compareEvents)
  .map(key);

async function serve(name: string, xids: readonly Xid[]): Promise<ServedCollector> {
  const parts = openParts(join(dir, `${name}.db`), NOW, { sharedFrames: true });
  for (const x of xids) feedXid(parts, x, NOW);
  const c = await serveParts(parts, { nowMs: NOW, token: TOKEN, peers: [] });
  started.push(c);
  return c;
}

let share: ServedCollector[] = [];
let split: ServedCollector[] = [];

beforeAll(async () => {
  // A share group: each holds every event, stored in another order (other row ids).
  share = [await serve("share-1", XIDS), await serve("share-2", [...XIDS].reverse())];
  // Split: the first holds two thirds, the second the others and half of the first's.
  split = [
    await serve(
      "split-1",
      XIDS.filter((_, i) => i % 3 !== 2),
    ),
    await serve("split-2", XIDS.filter((_, i) => i % 3 !== 0).reverse()),
  ];
});

afterAll(() => stopAll(started, dir));

/** One page from `c` for its own data (as `--url a,b` asks), after `before`. */
async function pageOf(c: ServedCollector, query: string, before: string | null): Promise<EventsAnswer> {
  const cursor = before === null ? "" : `&before=${encodeURIComponent(before)}`;
  const r = await callAs(c, `/api/v1/events?${query}${cursor}`, TOKEN, true);
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as EventsAnswer;
}

/** Every page, each asked after the last one's `next`, until none (bounded: a cursor that does not advance fails). */
async function pages(next: (before: string | null) => Promise<EventsAnswer>): Promise<EventView[][]> {
  const out: EventView[][] = [];
  let before: string | null = null;
  for (let round = 0; round < 20; round++) {
    const answer = await next(before);
    out.push(answer.events);
    if (answer.next === null) return out;
    before = answer.next;
  }
  throw new Error(`no last page after 20: ${before}`);
}

describe("events merged from two collectors (gputel query events --url a,b)", () => {
  it.each([
    ["a share group (each holds all)", () => share],
    ["split (each holds some)", () => split],
  ])("pages through every event once, in order: %s", async (_, collectors) => {
    const [a, b] = collectors() as [ServedCollector, ServedCollector];
    const merged = await pages(async (before) =>
      mergeEventAnswers([
        await pageOf(a, `${RANGE}&limit=${LIMIT}`, before),
        await pageOf(b, `${RANGE}&limit=${LIMIT}`, before),
      ]),
    );
    expect(merged.map((p) => p.length)).toEqual([50, 50, 50, 20]);
    expect(merged.flat().map(key)).toEqual(EXPECTED);
  });
});
