// One GPU's series and health timeline over several collectors (http.peers), on real parts: each
// collector a real SQLite Store, its flag engine and its HTTP API on loopback. host-a's frames reach
// the first collector, host-b's the second; GPU GM sat on host-m1 (the first's frames) for the
// first hour and then moved to host-m2 (the second's), so each holds part of its range. A third
// collector holds every frame. The first collector, with the second as its peer, must answer GM's
// series and timeline as the third does, GB's (held by the second only) as the second does, and a
// GPU none holds with a 404 naming any peer that did not answer. GM's inventories reach every
// collector (as in production), host-a's and host-b's only their own. A tenant sees only what its leases
// cover, on every collector, and the same 404 for a GPU it never leased as for one none knows.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../cli/query/cli.js";
import { checkMessage } from "../../collector/ingest/check.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { LeaseService } from "../../collector/leases/service.js";
import { GpuState } from "../../shared/proto.js";
import { eventPayload, eventTopic, xidEvent } from "../collector/health/events.js";
import { runCaptured } from "../helpers/cli.js";
import {
  type CollectorParts,
  callAs,
  deadPort,
  expectSame,
  feedFrames,
  openParts,
  queryJson,
  type ServedCollector,
  serveParts,
  stopAll,
  tenantToken,
} from "./fanout-helpers.js";

const TOKEN = "fanout-gpu-detail-token-0123456789";
const MIN = 60_000;
const H = 60 * MIN;
const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const T0 = NOW - 2 * H;
const STEP = 30_000;
const FRAMES = (2 * H) / STEP;
const MOVE = FRAMES / 2; // the frame at which GM moves: T0 + 1 h, a bucket boundary
const gpu = (n: number) => `GPU-${String(n).repeat(8)}-2222-3333-4444-555555555555`;
const GA = gpu(1);
const GB = gpu(2);
const GM = gpu(3);
const G9 = gpu(9);
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-gpu-detail-"));
const started: ServedCollector[] = [];

/** host's frame `k`: its GPUs with readings that change with k; GM lost then erroring for a while. */
function frame(host: string, uuids: readonly string[], k: number): ValidFrame {
  return {
    host,
    boot_id: `boot-${host}`,
    seq: k + 1,
    timestamp_ms: T0 + k * STEP,
    interval_ms: STEP,
    site: "lab",
    labels: {},
    gpus: uuids.map((uuid, index) => {
      const lost = uuid === GM && k >= 20 && k < 26;
      const error = uuid === GM && k >= 150 && k < 156;
      return {
        index,
        uuid,
        state: lost ? GpuState.GPU_STATE_LOST : error ? GpuState.GPU_STATE_ERROR : GpuState.GPU_STATE_OK,
        utilization_gpu_pct: lost || error ? null : (k * 7 + index * 13) % 100,
        temperature_gpu_celsius: 40 + (k % 30),
        power_draw_watts: 100 + k,
      };
    }),
  } as ValidFrame;
}

type Side = "first" | "second";
/** Every frame in time order, with the collector its host's frames reach. */
const FRAMES_ALL: { side: Side; frame: ValidFrame }[] = [];
for (let k = 0; k < FRAMES; k++) {
  FRAMES_ALL.push({ side: "first", frame: frame("host-a", [GA], k) });
  FRAMES_ALL.push({ side: "second", frame: frame("host-b", [GB], k) });
  if (k < MOVE) FRAMES_ALL.push({ side: "first", frame: frame("host-m1", [GM], k) });
  else FRAMES_ALL.push({ side: "second", frame: frame("host-m2", [GM], k) });
}

const AT_XID = T0 + MOVE * STEP + 30 * MIN;

/**
 * An Xid 79 on GM on host-m2, 30 min after the move, sent by the agent of its frames: kernel-log
 * events reach every collector.
 */
function xid(parts: CollectorParts): void {
  const event = xidEvent(1, 79, { gpu_uuid: GM, time_ms: AT_XID, pid: null, process_name: "" });
  const checked = checkMessage(
    eventTopic("host-m2"),
    eventPayload("host-m2", [event], { bootId: "boot-host-m2" }),
    {
      username: undefined,
      nowMs: NOW,
    },
  );
  if (checked.rejections.length > 0) throw new Error(JSON.stringify(checked.rejections));
  const { fresh } = parts.store.writeEvents(checked.events, AT_XID);
  parts.flags.onEvents(fresh, AT_XID);
}

/**
 * host-m1's and host-m2's inventories at `ms`: GM on the first until the move, then on the second.
 * Every collector receives them (a plain subscription), so every collector knows GM where it is.
 */
function inventories(parts: CollectorParts, ms: number): void {
  const moved = ms >= T0 + MOVE * STEP;
  const gm = [{ index: 0, uuid: GM, name: "NVIDIA H100 80GB HBM3" }];
  for (const [host, gpus] of [
    ["host-m1", moved ? [] : gm],
    ["host-m2", moved ? gm : []],
  ] as const) {
    const inventory = { host, site: "lab", labels: {}, timestamp_ms: ms, gpus: [...gpus] };
    parts.store.writeInventory(inventory, ms);
    parts.flags.onInventory(inventory, ms);
  }
}

/**
 * A collector with the frames of `sides` (each instant's frames in one batch at that instant, so
 * every collector's flag engine sees a frame at the same time), GM's inventories, the Xid, and the
 * leases given to it as the operator imported them. host-a's and host-b's inventories are left out:
 * GA and GB are each known to one collector only, as without the inventories' subscription.
 */
function collector(
  name: string,
  sides: readonly Side[],
  leases: readonly [string, string, string, number][],
) {
  const parts = openParts(join(dir, `${name}.db`), NOW);
  const mine = FRAMES_ALL.filter((f) => sides.includes(f.side)).map((f) => f.frame);
  for (let k = 0; k < FRAMES; k++) {
    const ms = T0 + k * STEP;
    if (k === 0 || k === MOVE) inventories(parts, ms);
    if (ms === AT_XID) xid(parts);
    const now = mine.filter((f) => f.timestamp_ms === ms);
    feedFrames(parts, now, now.length);
  }
  for (const [id, device, tenant, start] of leases)
    new LeaseService(parts.store.leases, () => NOW).create({ id, device, tenant, start }, "test");
  return parts;
}

// acme leased GM from half an hour in, imported into every collector; initech leased GB, on the
// second collector only (leases are not copied between collectors).
const ACME: [string, string, string, number] = ["acme-m", GM, "acme", T0 + 30 * MIN];
const INITECH: [string, string, string, number] = ["initech-b", GB, "initech", T0];

let first: ServedCollector;
let second: ServedCollector;
let third: ServedCollector;
let partial: ServedCollector;
let dead = "";
let acme = "";
let initech = "";

const call = (c: ServedCollector, path: string, token = TOKEN, peer = false) => callAs(c, path, token, peer);

async function get<T = Record<string, unknown>>(c: ServedCollector, path: string, token = TOKEN): Promise<T> {
  const r = await call(c, path, token);
  expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
  return (await r.json()) as T;
}

/** A series answer's temperatures (read on every frame, the lost and erroring ones too). */
type Temperatures = { metrics: { temperature_gpu_celsius: { avg: (number | null)[] } } };

const RANGE = `from=${T0}&to=${NOW}`;
const SERIES = `series?metrics=utilization_gpu_pct,temperature_gpu_celsius,power_draw_watts&${RANGE}&step=1m`;

describe("one GPU's series and health timeline across collectors", () => {
  beforeAll(async () => {
    second = await serveParts(collector("second", ["second"], [ACME, INITECH]), {
      nowMs: NOW,
      token: TOKEN,
      peers: [],
      leases: true,
    });
    const firstParts = collector("first", ["first"], [ACME]);
    first = await serveParts(firstParts, { nowMs: NOW, token: TOKEN, peers: [second.url], leases: true });
    third = await serveParts(collector("third", ["first", "second"], [ACME, INITECH]), {
      nowMs: NOW,
      token: TOKEN,
      peers: [],
      leases: true,
    });
    dead = `http://127.0.0.1:${await deadPort()}`;
    partial = await serveParts(firstParts, { nowMs: NOW, token: TOKEN, peers: [second.url, dead] });
    started.push(second, first, third);
    acme = tenantToken(firstParts, "acme", NOW);
    initech = tenantToken(firstParts, "initech", NOW);
  }, 60_000);

  afterAll(async () => {
    await partial?.server.stop(); // it shares the first collector's store, which stopAll closes
    await stopAll(started, dir);
  });

  it("series of a GPU that moved: both collectors' buckets, as one collector holding every frame", async () => {
    const merged = await get(first, `/api/v1/gpus/${GM}/${SERIES}`);
    expect(merged.peers).toEqual(expect.objectContaining({ asked: 1, missing: [] }));
    expectSame(merged, await get(third, `/api/v1/gpus/${GM}/${SERIES}`), "series");
    // Each collector alone holds half of it.
    const own = await get<Temperatures>(second, `/api/v1/gpus/${GM}/${SERIES}`);
    const held = own.metrics.temperature_gpu_celsius.avg.map((v) => v !== null);
    expect(held.slice(0, 60).some(Boolean)).toBe(false);
    expect(held.slice(60).every(Boolean)).toBe(true);
    expect(merged).toMatchObject({ uuid: GM, host: "host-m2", index: 0, tier: "1m" });
  });

  it("series of a GPU only the peer holds: the peer's, by UUID and host:index", async () => {
    const direct = await get(second, `/api/v1/gpus/${GB}/${SERIES}`);
    for (const ref of [GB, "host-b:0"]) {
      const merged = await get(first, `/api/v1/gpus/${ref}/${SERIES}`);
      expect(merged.peers, ref).toEqual(expect.objectContaining({ asked: 1, missing: [] }));
      expectSame(merged, direct, ref);
    }
    // The dashboard's request: a duration and a step in words, resolved by the first collector.
    const words = await get(first, `/api/v1/gpus/${GB}/series?from=1h&step=10s`);
    expect(words).toMatchObject({ uuid: GB, stepMs: 10_000, fromMs: NOW - H, toMs: NOW });
  });

  it("series of a GPU none holds: 404 with peers; a peer down is named; peers and direct asks", async () => {
    const none = await call(first, `/api/v1/gpus/${G9}/${SERIES}`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: "not_found", peers: { asked: 1, missing: [] } });
    const down = await call(partial, `/api/v1/gpus/${G9}/${SERIES}`);
    expect(down.status).toBe(404);
    expect(await down.json()).toMatchObject({ error: "not_found", peers: { asked: 2, missing: [dead] } });
    const held = await get(partial, `/api/v1/gpus/${GB}/${SERIES}`);
    expect(held).toMatchObject({ uuid: GB, peers: { asked: 2, missing: [dead] } });
    // The fan-out's own request for a GPU the peer does not know; a direct one is still a 404.
    expect(await (await call(second, `/api/v1/gpus/${G9}/${SERIES}`, TOKEN, true)).json()).toEqual({
      gpuHeld: false,
    });
    expect((await call(second, `/api/v1/gpus/${G9}/${SERIES}`)).status).toBe(404);
  });

  it("series for a tenant: its lease's buckets from every collector; anything else one 404", async () => {
    const mine = await get<Temperatures>(first, `/api/v1/gpus/${GM}/${SERIES}`, acme);
    expectSame(mine, await get(third, `/api/v1/gpus/${GM}/${SERIES}&tenant=acme`), "acme");
    // Nothing before its lease began (half an hour in), both collectors' buckets after.
    const avg = mine.metrics.temperature_gpu_celsius.avg;
    expect(avg.slice(0, 30).every((v) => v === null)).toBe(true);
    expect(avg.slice(31, 60).every((v) => v !== null)).toBe(true);
    expect(avg.slice(60).every((v) => v !== null)).toBe(true);
    // initech's lease is on the peer only: its GPU's series from there.
    expectSame(
      await get(first, `/api/v1/gpus/${GB}/${SERIES}`, initech),
      await get(second, `/api/v1/gpus/${GB}/${SERIES}&tenant=initech`),
      "initech",
    );
    // A GPU it never leased (known here, known on the peer only, known nowhere) and a range before
    // its lease: one 404, the same body.
    expect(await refusedBodies("series")).toEqual(new Set([NOT_LEASED]));
  });

  it("health of a GPU that moved: each collector's episodes, every event once, as one collector holding all", async () => {
    const merged = await get<Timeline>(first, `/api/v1/gpus/${GM}/health?${RANGE}`);
    expect(merged.peers).toEqual(expect.objectContaining({ asked: 1, missing: [] }));
    expectSame(
      withoutIds(merged),
      withoutIds(await get<Timeline>(third, `/api/v1/gpus/${GM}/health?${RANGE}`)),
      "health",
    );
    // Lost on its first host (the first collector's), erroring and reset-required on its second
    // (the peer's); the Xid reached both collectors and is listed once.
    expect(merged.flags.map((f) => [f.kind, f.host])).toEqual(
      expect.arrayContaining([
        ["lost", "host-m1"],
        ["error", "host-m2"],
        ["reset-required", "host-m2"],
      ]),
    );
    expect(merged.events.map((e) => [e.host, e.code])).toEqual([["host-m2", 79]]);
    expect(merged.downtime.map((d) => d.kinds)).toEqual(
      expect.arrayContaining([["lost"], ["reset-required"]]),
    );
    expect(merged).toMatchObject({ uuid: GM, host: "host-m2" });
  });

  it("health of a GPU only the peer holds: the peer's; none holds it: 404 with peers", async () => {
    const direct = await get<Timeline>(second, `/api/v1/gpus/${GB}/health?${RANGE}`);
    for (const ref of [GB, "host-b:0"]) {
      const merged = await get<Timeline>(first, `/api/v1/gpus/${ref}/health?${RANGE}`);
      expect(merged.peers, ref).toEqual(expect.objectContaining({ asked: 1, missing: [] }));
      expectSame(merged, direct, ref);
    }
    const none = await call(first, `/api/v1/gpus/${G9}/health`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: "not_found", peers: { asked: 1, missing: [] } });
    const down = await call(partial, `/api/v1/gpus/${G9}/health`);
    expect(down.status).toBe(404);
    expect(await down.json()).toMatchObject({ error: "not_found", peers: { asked: 2, missing: [dead] } });
    expect(await get(partial, `/api/v1/gpus/${GB}/health`)).toMatchObject({
      uuid: GB,
      peers: { asked: 2, missing: [dead] },
    });
    expect(await (await call(second, `/api/v1/gpus/${G9}/health`, TOKEN, true)).json()).toEqual({
      gpuHeld: false,
    });
    expect((await call(second, `/api/v1/gpus/${G9}/health`)).status).toBe(404);
  });

  it("health for a tenant: its stays' timeline from every collector; anything else one 404", async () => {
    const mine = await get<Timeline>(first, `/api/v1/gpus/${GM}/health?${RANGE}`, acme);
    const reference = await get<Timeline>(third, `/api/v1/gpus/${GM}/health?${RANGE}&tenant=acme`);
    expectSame(withoutIds(mine), withoutIds(reference), "acme");
    // Its lease began after GM was lost on its first host: that episode is not in its stay.
    expect(mine.stays).toEqual([{ fromMs: T0 + 30 * MIN, toMs: NOW }]);
    expect(mine.flags.map((f) => f.kind)).not.toContain("lost");
    expect(mine.flags.length).toBeGreaterThan(0);
    expectSame(
      await get(first, `/api/v1/gpus/${GB}/health?${RANGE}`, initech),
      await get(second, `/api/v1/gpus/${GB}/health?${RANGE}&tenant=initech`),
      "initech",
    );
    expect(await refusedBodies("health")).toEqual(new Set([NOT_LEASED]));
  });
  it("gputel query health GPU --url a,b: the timeline merged as the fan-out merges it; none holds it: 65", async () => {
    // Each collector is asked for its own data; the first does not know GB, the second not G9.
    const urls = ["--url", `${first.url},${second.url}`];
    const since = ["--since", String(T0), "--until", String(NOW)];
    for (const ref of [GM, GB, "host-b:0"]) {
      const merged = await queryJson<Timeline>(["health", ref, ...urls, ...since], TOKEN);
      expectSame(merged, await get(first, `/api/v1/gpus/${ref}/health?${RANGE}`), ref);
      expect(merged).not.toHaveProperty("gpuHeld");
    }
    const none = await runCaptured(run, ["health", G9, ...urls], { GPUTEL_API_TOKEN: TOKEN });
    expect(none.code, none.err).toBe(65);
    expect(none.err).toContain(`no GPU "${G9}" on any of`);
    // A collector that does not answer may hold it: its failure is the answer then.
    const down = await runCaptured(run, ["health", G9, "--url", `${second.url},${dead}`], {
      GPUTEL_API_TOKEN: TOKEN,
    });
    expect(down.code, down.err).toBe(69);
    // One that answers for a GPU another holds leaves the answer whole.
    const partly = await queryJson<Timeline>(
      ["health", GB, "--url", `${second.url},${dead}`, ...since],
      TOKEN,
    );
    expectSame(partly, await get(second, `/api/v1/gpus/${GB}/health?${RANGE}`), "partly");
  });

  it("gpus/:id of a GPU this collector knows: the copy with the newest sample, its holder's", async () => {
    type View = { uuid: string; host: string; timestampMs: number | null; state: string; peers?: unknown };
    const last = T0 + (FRAMES - 1) * STEP;
    // The first collector's own copy of GM is its last frame on host-m1, an hour old.
    const own = (await (await call(first, `/api/v1/gpus/${GM}`, TOKEN, true)).json()) as View;
    expect(own.timestampMs).toBe(T0 + (MOVE - 1) * STEP);
    const merged = await get<View>(first, `/api/v1/gpus/${GM}`);
    expect(merged.peers).toEqual({ asked: 1, missing: [], errors: [] });
    // The second's copy (its flags numbered by its store), which the third's shows too.
    expectSame(merged, await get(second, `/api/v1/gpus/${GM}`), "GM");
    expect((await get<View>(third, `/api/v1/gpus/${GM}`)).timestampMs).toBe(last);
    expect([merged.host, merged.timestampMs]).toEqual(["host-m2", last]);
    // A peer down: this collector's copy stands, naming the peer; its own GPUs answer as before.
    const alone = await get<View & { peers: { missing: string[] } }>(partial, `/api/v1/gpus/${GA}`);
    expectSame(alone, await (await call(first, `/api/v1/gpus/${GA}`, TOKEN, true)).json(), "GA");
    expect(alone.peers.missing).toEqual([dead]);
    // A tenant: each collector's copy in its scope (tenant= to the peer); the same 404 outside it.
    const mine = await get<View>(first, `/api/v1/gpus/${GM}`, acme);
    expectSame(mine, await get(second, `/api/v1/gpus/${GM}?tenant=acme`), "acme's GM");
    expect(mine.timestampMs).toBe(last);
    const other = await call(first, `/api/v1/gpus/${GM}`, initech);
    expect(other.status).toBe(404);
    expect(JSON.stringify(await other.json()).replace(GM, "GPU")).toBe(NOT_LEASED);
  });
});

/** The one 404 body a tenant gets for a GPU or range outside its leases ("GPU" for the reference). */
const NOT_LEASED = JSON.stringify({
  error: "not_found",
  parameter: "id",
  message: 'no GPU "GPU" (give a UUID or host:index)',
  peers: { asked: 1, missing: [], errors: [] },
});

/**
 * What the first collector answers tenants on `route` for a GPU or range outside their leases:
 * GPUs never leased (known here, on the peer only, nowhere), a range before the lease, another
 * tenant's GPU; each a 404, their bodies with the reference replaced.
 */
async function refusedBodies(route: "series" | "health"): Promise<Set<string>> {
  const bodies = new Set<string>();
  for (const [ref, token, range] of [
    [GA, acme, RANGE],
    [GB, acme, RANGE],
    [G9, acme, RANGE],
    [GM, acme, `from=${T0}&to=${T0 + 20 * MIN}`],
    [GM, initech, RANGE],
  ] as const) {
    const r = await call(first, `/api/v1/gpus/${ref}/${route}?${range}`, token);
    expect(r.status, `${route} ${ref}`).toBe(404);
    bodies.add(JSON.stringify(await r.json()).replace(ref, "GPU"));
  }
  return bodies;
}

type Timeline = {
  host: string;
  stays?: { fromMs: number; toMs: number }[];
  events: { id: number; host: string; code: number }[];
  flags: { id: number; kind: string; host: string; startMs: number }[];
  acknowledgements: { id: number; flagId: number }[];
  downtime: { kinds: string[] }[];
  peers?: unknown;
};

/**
 * A timeline without its row ids (each store numbers its own events, flags and acknowledgements),
 * its flags in an order that does not read them.
 */
function withoutIds(t: Timeline): unknown {
  const { peers: _, ...rest } = t;
  return {
    ...rest,
    events: t.events.map(({ id: _id, ...e }) => e),
    flags: t.flags
      .map(({ id: _id, ...f }) => f)
      .sort((a, b) => b.startMs - a.startMs || a.kind.localeCompare(b.kind) || a.host.localeCompare(b.host)),
    acknowledgements: t.acknowledgements.map(({ id: _id, flagId: _f, ...a }) => a),
  };
}
