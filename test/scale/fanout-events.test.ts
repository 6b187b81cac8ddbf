// Kernel-log events over several collectors: paging through a list merged from two collectors'
// real Stores (`gputel query events --url a,b` merges each page with mergeEventAnswers, each
// collector asked the same `before`) lists every event exactly once, in the fleet's order, also
// with more events in one millisecond than a page holds: in a share group (each holds all, under
// its own row ids) and split (each holds some, some both). The first collector's API, with the
// second as its peer, answers every page as that merge does (JSON and CSV), names a peer that is
// down, and scopes a tenant's pages as one collector holding every event and lease would: in the
// share group each collector scopes by its own leases (acme's lease of node-a's GPU is on the
// first, of node-b's on the second only), the scope sent to the peer as `tenant=`.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../cli/query/cli.js";
import { LeaseService } from "../../collector/leases/service.js";
import { mergeEventAnswers } from "../../collector/merge/merge-health.js";
import { compareEvents } from "../../collector/reports/event-cursor.js";
import type { EventsAnswer, EventView } from "../../collector/reports/health-types.js";
import { runCaptured } from "../helpers/cli.js";
import {
  type CollectorParts,
  callAs,
  deadPort,
  feedInventories,
  feedXid,
  openParts,
  queryJson,
  type ServedCollector,
  serveParts,
  stopAll,
  tenantToken,
  withoutIds,
} from "./fanout-helpers.js";

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

type LeaseOf = [id: string, host: string, startMs: number, endMs: number];
// acme's leases: node-a's GPU over the millisecond T and 3.5 s before it, node-b's from 10 s before.
const ACME_A: LeaseOf = ["acme-a", "node-a", T - 3500, T + 1];
const ACME_B: LeaseOf = ["acme-b", "node-b", T - 10_000, NOW];

async function serve(
  name: string,
  xids: readonly Xid[],
  peers: string[] = [],
  leases: readonly LeaseOf[] = [],
): Promise<ServedCollector> {
  const parts: CollectorParts = openParts(join(dir, `${name}.db`), NOW, { sharedFrames: true });
  feedInventories(
    parts,
    HOSTS.map((h) => [h, uuidOf(h)] as const),
    T - 600_000,
  );
  for (const x of xids) feedXid(parts, x, NOW);
  const service = new LeaseService(parts.store.leases, () => NOW);
  for (const [id, host, start, end] of leases)
    service.create({ id, device: uuidOf(host), tenant: "acme", start, end }, "test");
  const c = await serveParts(parts, { nowMs: NOW, token: TOKEN, peers, leases: true });
  started.push(c);
  return c;
}

let share: ServedCollector[] = [];
let split: ServedCollector[] = [];
let reference: ServedCollector; // every event and lease
let lonely: ServedCollector; // asks share-2 and a port nothing listens on
let dead: string;

beforeAll(async () => {
  // A share group: each holds every event, stored in another order (other row ids).
  const share2 = await serve("share-2", [...XIDS].reverse(), [], [ACME_B]);
  share = [await serve("share-1", XIDS, [share2.url], [ACME_A]), share2];
  // Split: the first holds two thirds, the second the others and half of the first's.
  const split2 = await serve("split-2", XIDS.filter((_, i) => i % 3 !== 0).reverse());
  split = [
    await serve(
      "split-1",
      XIDS.filter((_, i) => i % 3 !== 2),
      [split2.url],
    ),
    split2,
  ];
  reference = await serve("reference", XIDS, [], [ACME_A, ACME_B]);
  dead = `http://127.0.0.1:${await deadPort()}`;
  lonely = await serve("lonely", XIDS, [share2.url, dead]);
});

afterAll(() => stopAll(started, dir));

/** One page from `c`, after `before`: for its own data (as `--url a,b` asks), or its peers' too. */
async function pageOf(
  c: ServedCollector,
  query: string,
  before: string | null,
  own = true,
  token = TOKEN,
): Promise<EventsAnswer & { peers?: { missing: string[] } }> {
  const cursor = before === null ? "" : `&before=${encodeURIComponent(before)}`;
  const r = await callAs(c, `/api/v1/events?${query}${cursor}`, token, own);
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

describe("events with http.peers (the API's fan-out)", () => {
  it.each([
    ["a share group (each holds all)", () => share],
    ["split (each holds some)", () => split],
  ])("answers every page as --url a,b merges it: %s", async (_, collectors) => {
    const [a, b] = collectors() as [ServedCollector, ServedCollector];
    const query = `${RANGE}&limit=${LIMIT}`;
    let before: string | null = null;
    const listed: EventView[] = [];
    for (let round = 0; round < 20; round++) {
      const { peers, ...api } = await pageOf(a, query, before, false);
      expect(peers?.missing).toEqual([]);
      const merged = mergeEventAnswers([await pageOf(a, query, before), await pageOf(b, query, before)]);
      expect(api).toEqual(merged);
      listed.push(...api.events);
      if (api.next === null) break;
      before = api.next;
    }
    expect(listed.map(key)).toEqual(EXPECTED);
  });

  it("names a peer that is down, in JSON and in the CSV's headers, with the next page's cursor", async () => {
    const json = await pageOf(lonely, `${RANGE}&limit=${LIMIT}`, null, false);
    expect(json.peers?.missing).toEqual([dead]);
    expect(json.events.map(key)).toEqual(EXPECTED.slice(0, LIMIT));
    const r = await callAs(lonely, `/api/v1/events?${RANGE}&limit=${LIMIT}&format=csv`, TOKEN);
    expect(r.status).toBe(200);
    expect(r.headers.get("x-gputel-peers-missing")).toBe(dead);
    expect(r.headers.get("x-gputel-next")).toBe(json.next);
    expect((await r.text()).trim().split("\n")).toHaveLength(LIMIT + 1);
  });

  it("refuses a TIME:ID cursor (one collector's row) with peers", async () => {
    const r = await callAs(share[0] as ServedCollector, `/api/v1/events?${RANGE}&before=${T}:5`, TOKEN);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { parameter: string }).parameter).toBe("before");
  });

  it("scopes a tenant's pages by every collector's leases, as one holding them all", async () => {
    // Kernel-log events reach every collector; the leases are each collector's own records.
    const [front] = share as [ServedCollector, ServedCollector];
    const asFront = tenantToken(front, "acme", NOW);
    const asReference = tenantToken(reference, "acme", NOW);
    // Every page's events (`next` is an event's key, whatever the row ids).
    const all = (c: ServedCollector, token: string, query: string) =>
      pages((before) => pageOf(c, query, before, false, token));
    const query = `${RANGE}&limit=20`;
    const listed = await all(front, asFront, query);
    const expected = await all(reference, asReference, query);
    expect(withoutIds(listed)).toEqual(withoutIds(expected));
    // Both leases' events: node-a's over its lease, node-b's (whose lease only the peer holds).
    const hosts = new Set(listed.flat().map((e) => e.host));
    expect([...hosts].sort()).toEqual(["node-a", "node-b"]);
    // One GPU whose lease only the peer holds; one acme never leased: the 404 of an unknown GPU.
    const b = `${query}&gpu=${uuidOf("node-b")}`;
    expect(withoutIds(await all(front, asFront, b))).toEqual(
      withoutIds(await all(reference, asReference, b)),
    );
    const never = await callAs(front, `/api/v1/events?${query}&gpu=${uuidOf("node-c")}`, asFront);
    expect(never.status).toBe(404);
    // A tenant token's own scope, whatever tenant= it names.
    const other = await pageOf(front, `${query}&tenant=globex`, null, false, asFront);
    expect(withoutIds(other.events)).toEqual(withoutIds(expected[0]));
  });
});

describe("gputel query events --url a,b", () => {
  it("answers as the API with peers; a GPU no collector shows is refused (65)", async () => {
    const [a, b] = share as [ServedCollector, ServedCollector];
    const urls = [
      "events",
      "--url",
      `${a.url},${b.url}`,
      "--since",
      String(T - 600_000),
      "--until",
      String(NOW),
    ];
    const cli = await queryJson<EventsAnswer>([...urls, "--limit", String(LIMIT)], TOKEN);
    const { peers: _, ...api } = await pageOf(a, `${RANGE}&limit=${LIMIT}`, null, false);
    expect(cli).toEqual({ ...api, generatedMs: cli.generatedMs });
    const next = await queryJson<EventsAnswer>(
      [...urls, "--limit", String(LIMIT), "--before", cli.next ?? ""],
      TOKEN,
    );
    expect(next.events.map(key)).toEqual(EXPECTED.slice(LIMIT, 2 * LIMIT));
    const r = await runCaptured(run, [...urls, "--gpu", "GPU-nowhere", "--json"], {
      GPUTEL_API_TOKEN: TOKEN,
    });
    expect([r.code, r.err]).toEqual([65, expect.stringContaining('no GPU "GPU-nowhere" on any of')]);
  });
});
