// What every collector knows counts once in a merged answer. Behind a broker that splits frames
// by agent (EMQX hash_clientid) every collector still receives every inventory and status (plain
// subscriptions), and an operator imports the same lease file into each (docs/scaling.md): so a
// host's offline episode, every GPU and a lease are on both collectors here, while each GPU's
// frames reach one. The first collector's merged answers must equal those of one collector
// holding every frame (and, for a tenant, every lease).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SynthFleet } from "../../bench/synth-fleet.js";
import { newToken } from "../../collector/api/tokens.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import type { Lease } from "../../collector/leases/model.js";
import { AgentState, type IInventory, type IStatus } from "../../shared/proto.js";
import { expectSame, openParts, type ServedCollector, serveParts, stopAll } from "./fanout-helpers.js";

const TOKEN = "fanout-known-everywhere-token";
const HOSTS = 4;
const GPUS = 2;
const FRAMES = 60; // 10 min at 10 s
const fleet = new SynthFleet({ hosts: HOSTS, gpusPerHost: GPUS, intervalMs: 10_000, seed: 3 });
const T0 = fleet.startMs;
const nowMs = T0 + FRAMES * 10_000 + 5_000;
const OFFLINE_HOST = 3; // its agent went down a little before now: an open offline episode
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-known-"));
const frames = [...fleet.frames(0, FRAMES)] as ValidFrame[];
const uuidOf = (h: number, i: number) =>
  frames.find((f) => f.host === fleet.hostName(h))?.gpus?.[i]?.uuid as string;
/** Acme's leases: one imported into every collector, one made on the first only. */
const LEASES: { lease: Lease; everywhere: boolean }[] = [
  { lease: lease("acme-1", uuidOf(1, 0), T0), everywhere: true },
  { lease: lease("acme-2", uuidOf(2, 1), T0 + 60_000), everywhere: false },
];

function lease(id: string, gpu: string, startMs: number): Lease {
  return {
    id,
    device: gpu,
    gpu,
    tenant: "acme",
    startMs,
    endMs: null,
    contract: null,
    priceMicros: null,
    currency: null,
    availabilityMilli: null,
    labels: {},
    source: "api",
  };
}
const started: ServedCollector[] = [];

function inventory(h: number): IInventory {
  const first = frames.find((f) => f.host === fleet.hostName(h)) as ValidFrame;
  return {
    host: first.host,
    site: first.site,
    timestamp_ms: T0,
    gpus: (first.gpus ?? []).map((g) => ({ index: g.index ?? 0, uuid: g.uuid ?? "", name: "NVIDIA L40S" })),
  };
}

const offline: IStatus = {
  host: fleet.hostName(OFFLINE_HOST),
  state: AgentState.AGENT_STATE_OFFLINE,
  timestamp_ms: nowMs - 2_000,
  boot_id: "boot-3",
  agent_version: "0.1.0",
  interval_ms: 10_000,
};

/** A collector receiving the frames of `hosts` and every inventory and status. */
async function collector(name: string, hosts: readonly number[], peers: string[], first = false) {
  const parts = openParts(join(dir, `${name}.db`), nowMs);
  for (let h = 0; h < HOSTS; h++) {
    parts.store.writeInventory(inventory(h), T0);
    parts.flags.onInventory(inventory(h), T0);
  }
  const mine = frames.filter((f) => hosts.some((h) => f.host === fleet.hostName(h)));
  parts.store.writeFrames(mine, nowMs - 5_000);
  parts.flags.onFrames(mine, nowMs - 5_000);
  parts.store.writeStatus(offline, nowMs - 2_000);
  parts.flags.onStatus(offline, nowMs - 2_000);
  for (const l of LEASES) if (l.everywhere || first) parts.store.leases.insert(l.lease, T0);
  const c = await serveParts(parts, { nowMs, token: TOKEN, peers, leases: true });
  started.push(c);
  return c;
}

function tenantToken(c: ServedCollector): string {
  const t = newToken();
  c.store.tokens.insert(t.id, "tenant:acme", t.digest, "", nowMs);
  return t.token;
}

async function get<T>(c: ServedCollector, path: string, token = TOKEN): Promise<T> {
  const response = await fetch(`${c.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
}

type Flags = {
  total: number;
  totalsByKind: Record<string, number>;
  flags: { kind: string; host: string }[];
  peers?: { missing: string[] };
};

type Summary = {
  gpus: { total: number };
  hosts: { total: number };
  utilization: { range: { busyHours: number; idleHours: number } };
  peers?: unknown;
};

let first: ServedCollector;
let whole: ServedCollector;

describe("fan-out over what every collector knows", () => {
  beforeAll(async () => {
    const second = await collector("second", [1, 3], []);
    first = await collector("first", [0, 2], [second.url], true);
    whole = await collector("whole", [0, 1, 2, 3], [], true);
  }, 60_000);

  afterAll(() => stopAll(started, dir));

  it("counts a host's offline episode, which both collectors hold, once in the flags' totals", async () => {
    for (const query of ["", "?kind=offline", "?state=all"]) {
      const merged = await get<Flags>(first, `/api/v1/flags${query}`);
      const one = await get<Flags>(whole, `/api/v1/flags${query}`);
      expect(merged.peers?.missing, query).toEqual([]);
      expect(
        merged.flags.filter((f) => f.kind === "offline"),
        query,
      ).toHaveLength(1);
      expect(one.totalsByKind.offline, query).toBe(1);
      expect(merged.totalsByKind, query).toEqual(one.totalsByKind);
      expect(merged.total, query).toBe(one.total);
      expect(merged.total, query).toBe(merged.flags.length);
    }
  });

  it("counts a tenant's GPU that both collectors know, and its host, once in its summary", async () => {
    const range = `from=${T0}&to=${nowMs}`;
    const merged = await get<Summary>(first, `/api/v1/summary?${range}`, tenantToken(first));
    const one = await get<Summary>(whole, `/api/v1/summary?${range}`, tenantToken(whole));
    expect(merged.peers).toEqual({ asked: 1, missing: [], errors: [] });
    expect(one.gpus.total).toBe(LEASES.length);
    expect(one.hosts.total).toBe(2);
    expect(one.utilization.range.busyHours + one.utilization.range.idleHours).toBeGreaterThan(0);
    expectSame(merged, one, "tenant summary");
  });

  it("filters GPUs by state and flag on the merged list, not on a collector's inventory-only copy", async () => {
    type Gpus = { total: number; gpus: { uuid: string; host: string; state: string }[] };
    const essence = (a: Gpus) => ({
      total: a.total,
      gpus: a.gpus.map((g) => `${g.host} ${g.uuid} ${g.state}`),
    });
    for (const query of [
      "state=unknown",
      "state=ok",
      "state=ok&limit=3",
      "flag=offline",
      "flag=offline&limit=1",
    ]) {
      const merged = await get<Gpus>(first, `/api/v1/gpus?${query}`);
      const one = await get<Gpus>(whole, `/api/v1/gpus?${query}`);
      expect(essence(merged), query).toEqual(essence(one));
    }
    // Each GPU's frames reach one collector only: the other knows it as "unknown".
    expect((await get<Gpus>(whole, "/api/v1/gpus?state=ok")).total).toBe(HOSTS * GPUS);
  });
});
