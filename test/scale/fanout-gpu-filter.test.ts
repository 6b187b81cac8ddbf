// A GPU-filtered list over peers (http.peers): a peer that never saw the GPU holds no share of it,
// so it answers an empty list (the fan-out's own request, x-gputel-fanout) and is not named in
// `peers.missing`; a peer that is down still is. A direct request for a GPU a collector does not
// know is still a 404, and a tenant learns nothing through the fan-out about a GPU it never leased:
// a peer answers it as it answers a GPU it does not know. A collector asked for a GPU only a peer
// knows answers the peer's flags: a 404 only when no collector holds the GPU (in the tenant's
// leases, for a tenant), and with a peer down, the partial answer that names it. So does one GPU's
// own route (gpus/:id): the peer's view of it, a 404 only when no collector holds it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FlagKind } from "../../collector/flags/types.js";
import { LeaseService } from "../../collector/leases/service.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { frameFor } from "../collector/leases/store-helpers.js";
import {
  type CollectorParts,
  callAs,
  deadPort,
  openParts,
  type ServedCollector,
  serveParts,
  stopAll,
  tenantToken,
} from "./fanout-helpers.js";

const TOKEN = "fanout-gpu-filter-token-0123456789";
const H = 3_600_000;
const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const G1 = "GPU-11111111-2222-3333-4444-555555555555";
const G2 = "GPU-22222222-2222-3333-4444-555555555555";
const G9 = "GPU-99999999-2222-3333-4444-555555555555";
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-gpu-filter-"));

type Flags = {
  total?: number;
  flags: { kind: FlagKind; gpuUuid: string | null }[];
  peers?: { asked: number; missing: string[] };
};

/** A collector that knows `host`'s one GPU `uuid`, with an open xid flag on it. */
function collector(name: string, host: string, uuid: string): CollectorParts {
  const parts = openParts(join(dir, `${name}.db`), NOW);
  parts.store.writeFrames([frameFor(host, [uuid], NOW - 2 * H)], NOW - 2 * H);
  new FlagStore(parts.store.db).insert(
    {
      kind: "xid",
      severity: "critical",
      host,
      gpuUuid: uuid,
      gpuIndex: 0,
      site: "",
      labels: {},
      startMs: NOW - H,
      reason: `Xid 79 on ${uuid}`,
      values: { code: 79 },
    },
    NOW - H,
  );
  return parts;
}

let first: ServedCollector;
let second: ServedCollector;
let partial: ServedCollector;
let dead = "";
let acme = "";
let initech = "";
const started: ServedCollector[] = [];

const call = (c: ServedCollector, path: string, token = TOKEN, peer = false) => callAs(c, path, token, peer);

async function get(c: ServedCollector, path: string, token = TOKEN, peer = false): Promise<Flags> {
  const r = await call(c, path, token, peer);
  expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
  return (await r.json()) as Flags;
}

describe("a GPU-filtered list fans out to peers that do not know the GPU", () => {
  beforeAll(async () => {
    const secondParts = collector("second", "host-b", G2);
    // initech's lease of G2 is held by the second collector only (leases are not copied).
    new LeaseService(secondParts.store.leases, () => NOW).create(
      { id: "initech-b", device: G2, tenant: "initech", start: NOW - 3 * H },
      "test",
    );
    second = await serveParts(secondParts, { nowMs: NOW, token: TOKEN, peers: [], leases: true });
    const firstParts = collector("first", "host-a", G1);
    new LeaseService(firstParts.store.leases, () => NOW).create(
      { id: "acme-a", device: G1, tenant: "acme", start: NOW - 3 * H },
      "test",
    );
    first = await serveParts(firstParts, { nowMs: NOW, token: TOKEN, peers: [second.url], leases: true });
    dead = `http://127.0.0.1:${await deadPort()}`;
    partial = await serveParts(firstParts, { nowMs: NOW, token: TOKEN, peers: [second.url, dead] });
    started.push(second, first);
    acme = tenantToken(firstParts, "acme", NOW);
    initech = tenantToken(firstParts, "initech", NOW);
  }, 60_000);

  afterAll(async () => {
    await partial?.server.stop(); // it shares the first collector's store, which stopAll closes
    await stopAll(started, dir);
  });

  it("flags?gpu= of a GPU one collector knows: the other answers empty, no peer missing", async () => {
    const merged = await get(first, `/api/v1/flags?gpu=${G1}&state=all`);
    expect(merged.peers).toEqual(expect.objectContaining({ asked: 1, missing: [] }));
    expect(merged.flags.map((f) => [f.kind, f.gpuUuid])).toEqual([["xid", G1]]);
    const open = await get(first, `/api/v1/flags?gpu=${G1}`);
    expect(open.peers).toEqual(expect.objectContaining({ asked: 1, missing: [] }));
    expect(open.flags).toHaveLength(1);
  });

  it("a peer that is down is still named in peers.missing", async () => {
    const merged = await get(partial, `/api/v1/flags?gpu=${G1}`);
    expect(merged.peers).toEqual(expect.objectContaining({ asked: 2, missing: [dead] }));
    expect(merged.flags.map((f) => f.gpuUuid)).toEqual([G1]);
  });

  it("the fan-out's own request for an unknown GPU gets an empty list; a direct one a 404", async () => {
    const asPeer = await get(second, `/api/v1/flags?gpu=${G1}`, TOKEN, true);
    expect(asPeer.flags).toEqual([]);
    expect(asPeer.peers).toBeUndefined();
    for (const path of [`/api/v1/flags?gpu=${G1}`, `/api/v1/flags?gpu=${G9}`])
      expect((await call(second, path)).status, path).toBe(404);
    expect((await call(first, `/api/v1/flags?gpu=${G9}`)).status).toBe(404);
  });

  it("a tenant: its GPU's flags with no peer missing; a GPU it never leased is a 404, here and on the peer", async () => {
    const mine = await get(first, `/api/v1/flags?gpu=${G1}`, acme);
    expect(mine.peers).toEqual(expect.objectContaining({ asked: 1, missing: [] }));
    expect(mine.flags.map((f) => f.gpuUuid)).toEqual([G1]);
    // G2 is known to the peer only, G9 to none: the same 404 either way.
    for (const gpu of [G2, G9]) {
      const r = await call(first, `/api/v1/flags?gpu=${gpu}`, acme);
      expect(r.status, gpu).toBe(404);
    }
    // The peer asked for acme's view of a GPU it knows but acme never leased there answers as
    // for a GPU it does not know: an empty list with the same totals, nothing to tell them apart.
    const known = await get(second, `/api/v1/flags?gpu=${G2}&tenant=acme`, TOKEN, true);
    const unknown = await get(second, `/api/v1/flags?gpu=${G9}&tenant=acme`, TOKEN, true);
    expect(known.flags).toEqual([]);
    const { generatedMs: _k, ...k } = known as Flags & { generatedMs: number };
    const { generatedMs: _u, ...u } = unknown as Flags & { generatedMs: number };
    expect(k).toEqual(u);
    // A direct request for it still says 404.
    expect((await call(second, `/api/v1/flags?gpu=${G2}&tenant=acme`)).status).toBe(404);
  });

  it("flags?gpu= of a GPU only the peer knows: the peer's flags, no peer missing", async () => {
    const merged = await get(first, `/api/v1/flags?gpu=${G2}&state=all`);
    expect(merged.peers).toEqual(expect.objectContaining({ asked: 1, missing: [] }));
    expect(merged.flags.map((f) => [f.kind, f.gpuUuid])).toEqual([["xid", G2]]);
    const byHost = await get(first, "/api/v1/flags?gpu=host-b:0");
    expect(byHost.flags.map((f) => f.gpuUuid)).toEqual([G2]);
  });

  it("a GPU no collector knows is a 404; with a peer down, a partial answer naming it", async () => {
    const none = await call(first, `/api/v1/flags?gpu=${G9}`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: "not_found", parameter: "id" });
    // The peer that is down may hold it: not a 404, but no flags and the peer named.
    const down = await get(partial, `/api/v1/flags?gpu=${G9}`);
    expect(down.peers).toEqual(expect.objectContaining({ asked: 2, missing: [dead] }));
    expect(down.flags).toEqual([]);
    const held = await get(partial, `/api/v1/flags?gpu=${G2}`);
    expect(held.peers).toEqual(expect.objectContaining({ asked: 2, missing: [dead] }));
    expect(held.flags.map((f) => f.gpuUuid)).toEqual([G2]);
  });

  it("a tenant whose lease only the peer holds sees that GPU's flags; any other GPU is the same 404", async () => {
    const mine = await get(first, `/api/v1/flags?gpu=${G2}&state=all`, initech);
    expect(mine.peers).toEqual(expect.objectContaining({ asked: 1, missing: [] }));
    expect(mine.flags.map((f) => f.gpuUuid)).toEqual([G2]);
    // G1 is known to the front collector, G9 to none: neither was leased by initech.
    const refused = [];
    for (const gpu of [G1, G9]) {
      const r = await call(first, `/api/v1/flags?gpu=${gpu}`, initech);
      expect(r.status, gpu).toBe(404);
      refused.push(((await r.json()) as { message: string }).message.replace(gpu, "GPU"));
    }
    expect(refused[0]).toBe(refused[1]);
  });

  it("gpus/:id of a GPU only the peer knows: the peer's view of it; a GPU none knows is a 404", async () => {
    const direct = (await (await call(second, `/api/v1/gpus/${G2}`)).json()) as Record<string, unknown>;
    for (const ref of [G2, "host-b:0"]) {
      const r = await call(first, `/api/v1/gpus/${ref}`);
      expect(r.status, ref).toBe(200);
      const { peers, ...view } = (await r.json()) as Record<string, unknown>;
      expect(peers).toEqual(expect.objectContaining({ asked: 1, missing: [] }));
      expect(view).toEqual(direct);
    }
    const none = await call(first, `/api/v1/gpus/${G9}`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: "not_found", parameter: "id" });
    // The fan-out's own request for a GPU the peer does not know, and a collector without peers.
    expect(await (await call(second, `/api/v1/gpus/${G9}`, TOKEN, true)).json()).toEqual({ gpuHeld: false });
    expect((await call(second, `/api/v1/gpus/${G9}`)).status).toBe(404);
  });

  it("gpus/:id with a peer down: the view from a peer that holds it, else a 404 naming the peer", async () => {
    const held = await call(partial, `/api/v1/gpus/${G2}`);
    expect(held.status).toBe(200);
    expect(await held.json()).toMatchObject({ uuid: G2, peers: { asked: 2, missing: [dead] } });
    const none = await call(partial, `/api/v1/gpus/${G9}`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: "not_found", peers: { asked: 2, missing: [dead] } });
  });

  it("gpus/:id for a tenant: a GPU it holds on the peer only; any other is the same 404", async () => {
    const r = await call(first, `/api/v1/gpus/${G2}`, initech);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ uuid: G2, host: "host-b", labels: {} });
    const refused = [];
    for (const [gpu, token] of [
      [G2, acme],
      [G1, initech],
      [G9, initech],
    ] as const) {
      const denied = await call(first, `/api/v1/gpus/${gpu}`, token);
      expect(denied.status, gpu).toBe(404);
      refused.push(JSON.stringify(await denied.json()).replace(gpu, "GPU"));
    }
    expect(new Set(refused).size).toBe(1);
  });
});
