// An operator's acknowledgement in a share group under round robin (Mosquitto's shared
// subscriptions): the first collector gets host-x's even frames, the second its odd ones, and
// both receive GX's Xid 79 (a plain subscription), so each holds its own copy of GX's xid and
// reset-required, open (the Xid was 10 minutes ago and the recovery action never came back to
// none). A third collector holds every frame. The operator acknowledges once, on the first (with
// the second as its peer), and on the whole collector at the same instant: the first forwards the
// acknowledgement to its peer, which closes its own copy of the same episode with the same time
// and note, so the merged flag lists, summary, health timeline and statement equal the whole's.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run as flagCli } from "../../cli/flag/cli.js";
import { newToken } from "../../collector/api/tokens.js";
import {
  callAs,
  deadPort,
  expectSame,
  getJson,
  type ServedCollector,
  serveParts,
  stopAll,
  tenantToken,
  withoutIds,
} from "./fanout-helpers.js";
import { GX, gxCollector, type RoundRobinGx, serveRoundRobinGx } from "./round-robin-gx.js";

const TOKEN = "fanout-ack-token-0123456789abcdefghijk";
const MIN = 60_000;
const H = 60 * MIN;
const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const T0 = NOW - H;
const MONTH = new Date(T0).toISOString().slice(0, 7);
/** Ten minutes before now: GX's xid is still open (15 quiet minutes close it), its reset-required too. */
const AT_XID = NOW - 10 * MIN;
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-ack-"));
const scenario: RoundRobinGx = { dir, token: TOKEN, nowMs: NOW, t0Ms: T0, xidMs: AT_XID };

type FlagRow = { id: number; kind: string; startMs: number; endMs: number | null };
type Ack = { flagId: number; atMs: number; note: string };
type AckAnswer = {
  flag: FlagRow;
  ack: Ack;
  peers?: { asked: number; missing: string[]; errors: { peer: string; error: string }[] };
};

/**
 * POST the acknowledgement of `flag` (as a flag list showed it) on `c` with `token`: its id and
 * the episode it is, as a collector with peers needs (flag ids are each collector's own).
 */
function ack(c: { url: string }, flag: FlagRow, note: string, token = TOKEN): Promise<Response> {
  const { kind, host, gpuUuid, startMs, endMs, values } = flag as FlagRow & Record<string, unknown>;
  return fetch(`${c.url}/api/v1/flags/${flag.id}/ack`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ note, kind, host, gpuUuid, startMs, endMs, values }),
  });
}

/** `gputel flag ack`'s output, captured, and its io with the API token. */
function cliIo() {
  const out = { stdout: "", stderr: "" };
  const io = {
    stdout: (t: string) => {
      out.stdout += t;
    },
    stderr: (t: string) => {
      out.stderr += t;
    },
    env: { GPUTEL_API_TOKEN: TOKEN },
  };
  return { out, io };
}

/** `c`'s own flag of `kind` on GX (asked as a peer: its store alone). */
async function ownFlag(c: ServedCollector, kind: string): Promise<FlagRow> {
  const r = await callAs(c, `/api/v1/flags?state=all&gpu=${GX}&kind=${kind}`, TOKEN, true);
  const { flags } = (await r.json()) as { flags: FlagRow[] };
  expect(flags, `${c.url} ${kind}`).toHaveLength(1);
  return flags[0] as FlagRow;
}

/**
 * `value` without row ids, and without each flag's `updatedMs`: a member updates its copy at its
 * own first frame after the Xid (round robin), a sample after one collector holding every frame,
 * whatever the acknowledgement does.
 */
function shape(value: unknown): unknown {
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(strip)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>)
              .filter(([k]) => k !== "updatedMs")
              .map(([k, x]) => [k, strip(x)]),
          )
        : v;
  return strip(withoutIds(value));
}

/**
 * A timeline with each acknowledgement's flag named by its kind rather than its row id (each
 * store numbers its own rows), and no ids.
 */
function timelineShape(t: { flags: FlagRow[]; acknowledgements: Ack[] }): unknown {
  const kindOf = new Map(t.flags.map((f) => [f.id, f.kind]));
  return shape({
    ...t,
    acknowledgements: t.acknowledgements.map(({ flagId, ...a }) => ({ ...a, flag: kindOf.get(flagId) })),
  });
}

describe("an acknowledgement in a share group under round robin", () => {
  let first: ServedCollector;
  let second: ServedCollector;
  let whole: ServedCollector;
  const started: ServedCollector[] = [];
  const get = <T>(c: ServedCollector, path: string) => getJson<T>(c, path, TOKEN);

  beforeAll(async () => {
    ({ first, second, whole } = await serveRoundRobinGx(scenario, started));
  }, 60_000);

  afterAll(async () => {
    await stopAll(started, dir);
  });

  /** The merged answers on the first equal the whole collector's. */
  async function expectFleetAsWhole(): Promise<void> {
    for (const path of [
      `/api/v1/flags?state=all&gpu=${GX}`,
      "/api/v1/flags?state=open",
      `/api/v1/summary?from=${T0}&to=${NOW}`,
      `/api/v1/reports/statement?tenant=acme&month=${MONTH}`,
    ])
      expectSame(shape(await get(first, path)), shape(await get(whole, path)), path);
    // Up to a minute past now: the acknowledgements made at now are in [from, to).
    const health = `/api/v1/gpus/${GX}/health?from=${T0}&to=${NOW + MIN}`;
    type Timeline = { flags: FlagRow[]; acknowledgements: Ack[] };
    expectSame(
      timelineShape(await get<Timeline>(first, health)),
      timelineShape(await get<Timeline>(whole, health)),
      health,
    );
  }

  it("holds an open copy of GX's xid and reset-required on each member", async () => {
    for (const c of [first, second, whole])
      for (const kind of ["xid", "reset-required"]) expect((await ownFlag(c, kind)).endMs).toBeNull();
  });

  it("closes every member's copy of the xid acknowledged on one of them", async () => {
    const note = "GPU reset by the operator";
    const r = await ack(first, await ownFlag(first, "xid"), note);
    expect(r.status, await r.clone().text()).toBe(200);
    const done = (await r.json()) as AckAnswer;
    expect(done.flag.endMs).toBe(NOW);
    expect(done.peers).toEqual({ asked: 1, missing: [], errors: [] });
    expect((await ack(whole, await ownFlag(whole, "xid"), note)).status).toBe(200);
    expect((await ownFlag(second, "xid")).endMs).toBe(NOW);
    await expectFleetAsWhole();
  });

  it("closes every member's copy of the reset-required acknowledged on one of them, by the same actor", async () => {
    // An operator's own admin token (its actor "token:ID"), known to the first and the whole.
    const operator = newToken();
    for (const c of [first, whole]) c.store.tokens.insert(operator.id, "admin", operator.digest, "", NOW);
    const note = "replaced the board";
    const reset = await ownFlag(first, "reset-required");
    expect((await ack(first, reset, note, operator.token)).status).toBe(200);
    expect((await ack(whole, await ownFlag(whole, "reset-required"), note, operator.token)).status).toBe(200);
    expect((await ownFlag(second, "reset-required")).endMs).toBe(NOW);
    // The second recorded the operator as who acknowledged its copy, not the fleet token it was asked with.
    const own = await callAs(second, `/api/v1/gpus/${GX}/health?from=${T0}&to=${NOW + MIN}`, TOKEN, true);
    const acks = ((await own.json()) as { acknowledgements: (Ack & { kind: string; actor: string })[] })
      .acknowledgements;
    expect(acks.map((a) => [a.kind, a.actor])).toEqual([
      ["xid", "http.token"],
      ["reset-required", `token:${operator.id}`],
    ]);
    const summary = await get<{ flags: { open: number } }>(first, `/api/v1/summary?from=${T0}&to=${NOW}`);
    expect(summary.flags.open).toBe(0);
    await expectFleetAsWhole();
  });

  it("records the acknowledgement and names a peer that does not answer", async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const lonely = await serveParts(
      gxCollector(scenario, "lonely", (k) => k % 2 === 0, true),
      { nowMs: NOW, token: TOKEN, peers: [dead] },
    );
    started.push(lonely);
    const xid = await ownFlag(lonely, "xid");
    const r = await ack(lonely, xid, "reset");
    expect(r.status, await r.clone().text()).toBe(200);
    const done = (await r.json()) as AckAnswer;
    expect(done.flag.endMs).toBe(NOW);
    expect(done.peers?.missing).toEqual([dead]);
    expect(done.peers?.errors.map((e) => e.peer)).toEqual([dead]);
    expect((await ownFlag(lonely, "xid")).endMs).toBe(NOW);
    // `gputel flag ack` says so too: the acknowledgement stands (0), the peer is named.
    const { out, io } = cliIo();
    const reset = await ownFlag(lonely, "reset-required");
    expect(await flagCli(["ack", String(reset.id), "--note", "reset", "--url", lonely.url], io)).toBe(0);
    expect(out.stdout).toBe(`Flag ${reset.id} (reset-required) acknowledged and closed.\n`);
    expect(out.stderr).toContain(`not acknowledged on ${dead} (`);
  });

  it("lets only the admin role acknowledge a peer's copy", async () => {
    const viewer = newToken();
    second.store.tokens.insert(viewer.id, "viewer", viewer.digest, "", NOW);
    const body = JSON.stringify({
      kind: "xid",
      host: "host-x",
      gpuUuid: GX,
      startMs: AT_XID,
      endMs: NOW,
      values: {},
      note: "x",
      atMs: NOW,
      actor: "test",
    });
    const post = (token: string | undefined, payload = body) =>
      fetch(`${second.url}/api/v1/fanout/ack`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-gputel-fanout": "1",
          ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
        },
        body: payload,
      });
    expect((await post(undefined)).status).toBe(401);
    expect((await post(viewer.token)).status).toBe(403);
    expect((await post(tenantToken(second, "acme", NOW))).status).toBe(403);
    const long = JSON.stringify({ ...JSON.parse(body), note: "n".repeat(1001) });
    expect((await post(TOKEN, long)).status).toBe(400);
    expect((await post(TOKEN, "x".repeat(64 * 1024))).status).toBe(413);
  });
});

describe("an acknowledgement of the id a merged flag list shows", () => {
  const idsDir = mkdtempSync(join(tmpdir(), "gputel-fanout-ack-ids-"));
  const started: ServedCollector[] = [];
  let first: ServedCollector;
  let second: ServedCollector;

  beforeAll(async () => {
    ({ first, second } = await serveRoundRobinGx(
      { ...scenario, dir: idsDir, secondIdsAhead: true },
      started,
    ));
  }, 60_000);

  afterAll(async () => {
    await stopAll(started, idsDir);
  });

  it("shows the asked collector's own id, so acknowledging it there closes the episode fleet-wide", async () => {
    const { flags } = await getJson<{ flags: FlagRow[] }>(first, `/api/v1/flags?state=open&gpu=${GX}`, TOKEN);
    const reset = flags.find((f) => f.kind === "reset-required");
    expect(reset?.id).toBe((await ownFlag(first, "reset-required")).id);
    const r = await ack(first, reset as FlagRow, "reset by hand");
    expect(r.status, await r.clone().text()).toBe(200);
    expect(((await r.json()) as AckAnswer).flag.kind).toBe("reset-required");
    for (const c of [first, second]) expect((await ownFlag(c, "reset-required")).endMs).toBe(NOW);
  });
});

// Under hash_clientid all of a host's messages reach one member: the second holds GX's xid and
// reset-required, the first none of them but the same episodes of host-y's GY, raised in the same
// order, so numbered alike. The merged list on the first shows GX's under the second's ids, the
// ids of the first's own flags on GY: acknowledging what it showed must close GX's, never GY's.
describe("an acknowledgement of an episode only a peer holds, under an id the asked collector uses too", () => {
  const GY = "GPU-99999999-8888-7777-6666-555555555555";
  const hashDir = mkdtempSync(join(tmpdir(), "gputel-fanout-ack-hash-"));
  const started: ServedCollector[] = [];
  let first: ServedCollector;
  let second: ServedCollector;
  type Listed = FlagRow & { host: string; gpuUuid: string | null; values: object; peer?: string };

  beforeAll(async () => {
    const s = { ...scenario, dir: hashDir };
    second = await serveParts(
      gxCollector(s, "second", () => true, false),
      { nowMs: NOW, token: TOKEN, peers: [] },
    );
    started.push(second);
    const gy = { ...s, gpu: { host: "host-y", uuid: GY } };
    first = await serveParts(
      gxCollector(gy, "first", () => true, false),
      {
        nowMs: NOW,
        token: TOKEN,
        peers: [second.url],
      },
    );
    started.push(first);
  }, 60_000);

  afterAll(async () => {
    await stopAll(started, hashDir);
  });

  /** `c`'s own flag of `kind` on `gpu`. */
  async function own(c: ServedCollector, gpu: string, kind: string): Promise<FlagRow> {
    const r = await callAs(c, `/api/v1/flags?state=all&gpu=${gpu}&kind=${kind}`, TOKEN, true);
    const { flags } = (await r.json()) as { flags: FlagRow[] };
    expect(flags, `${c.url} ${gpu} ${kind}`).toHaveLength(1);
    return flags[0] as FlagRow;
  }

  /** The merged open list on the first: GX's `kind` and GY's, under one id. */
  async function listed(kind: string): Promise<{ gx: Listed; gy: Listed }> {
    const { flags } = await getJson<{ flags: Listed[] }>(first, "/api/v1/flags?state=open", TOKEN);
    const gx = flags.find((f) => f.kind === kind && f.gpuUuid === GX);
    const gy = flags.find((f) => f.kind === kind && f.gpuUuid === GY);
    expect(gx && gy, kind).toBeTruthy();
    return { gx: gx as Listed, gy: gy as Listed };
  }

  function post(id: number, body: object): Promise<Response> {
    return fetch(`${first.url}/api/v1/flags/${id}/ack`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  /** Neither GX's copy on the second nor GY's on the first is acknowledged. */
  async function bothOpen(kind: string): Promise<void> {
    expect((await own(second, GX, kind)).endMs).toBeNull();
    expect((await own(first, GY, kind)).endMs).toBeNull();
  }

  it("marks the peer's id in the merged list", async () => {
    const { gx, gy } = await listed("reset-required");
    expect(gx.id).toBe(gy.id);
    expect(gx.id).toBe((await own(second, GX, "reset-required")).id);
    expect(gx.peer).toBe(second.url);
    expect(gy.peer).toBeUndefined();
  });

  it("refuses an id alone, and an episode that is not the flag with that id, acknowledging nothing", async () => {
    const { gx } = await listed("reset-required");
    const alone = await post(gx.id, { note: "reset" });
    expect(alone.status, await alone.clone().text()).toBe(400);
    const { id, kind, host, gpuUuid, startMs } = gx;
    const mismatch = await post(id, { note: "reset", kind, host, gpuUuid, startMs });
    expect(mismatch.status).toBe(409);
    const text = await mismatch.text();
    expect(text).toContain(GX);
    expect(text).toContain(GY);
    await bothOpen("reset-required");
  });

  it("acknowledges the peer's episode named as listed, not the asked collector's flag with its id", async () => {
    const { gx } = await listed("xid");
    const { id, kind, host, gpuUuid, startMs, endMs, values, peer } = gx;
    const r = await post(id, { note: "reset", kind, host, gpuUuid, startMs, endMs, values, peer });
    expect(r.status, await r.clone().text()).toBe(200);
    const done = (await r.json()) as AckAnswer & { acknowledgedOn: string[] };
    expect(done.acknowledgedOn).toEqual([second.url]);
    expect(done.flag.endMs).toBe(NOW);
    expect((await own(second, GX, "xid")).endMs).toBe(NOW);
    expect((await own(first, GY, "xid")).endMs).toBeNull();
  });

  it("gputel flag ack sends the episode it read from the merged list", async () => {
    const { gx } = await listed("reset-required");
    const { out, io } = cliIo();
    const args = ["ack", String(gx.id), "--note", "replaced", "--url", first.url];
    // Two open flags show that id: the CLI asks which GPU rather than guess.
    expect(await flagCli(args, io)).toBe(64);
    expect(out.stderr).toContain(GX);
    expect(out.stderr).toContain(GY);
    await bothOpen("reset-required");
    expect(await flagCli([...args, "--gpu", GX], io)).toBe(0);
    expect(out.stdout).toContain(`acknowledged on ${second.url}`);
    expect((await own(second, GX, "reset-required")).endMs).toBe(NOW);
    expect((await own(first, GY, "reset-required")).endMs).toBeNull();
  });
});
