// The thermal, capacity, downtime and lease reports over several collectors (http.peers), on real
// parts: each collector a real SQLite Store, its flag engine and its HTTP API. Two collectors
// split a synthesized fleet by host (as EMQX's hash_clientid splits agents) and both receive
// every inventory and status (plain subscriptions); a third holds every frame. One GPU moves
// from a host of the first collector to a host of the second half way through. Overheat,
// throttling, a lost GPU, an erroring GPU and an offline host happen on both sides. Leases are
// held unevenly: some by every collector, some by one only (as when they were imported into one
// collector, or made from labels where the frames arrive). The first collector's merged answers
// must equal the third's; a peer that is down is named, in JSON and in CSV headers.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SynthFleet, type SynthFrame } from "../../bench/synth-fleet.js";
import { newToken } from "../../collector/api/tokens.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import type { Lease } from "../../collector/leases/model.js";
import { CLOCK_EVENT } from "../../shared/metrics.js";
import {
  AgentState,
  type AgentStateValue,
  GpuState,
  type IInventory,
  type IStatus,
} from "../../shared/proto.js";
import {
  deadPort,
  expectSame,
  openParts,
  queryJson,
  type ServedCollector,
  serveParts,
  stopAll,
} from "./fanout-helpers.js";

const TOKEN = "fanout-reports-fleet-token";
const HOSTS = 6;
const GPUS = 4;
const FRAMES = 720; // 2 h at 10 s
const MOVE = 360; // the frame at which the GPU moves
const MIN = 60_000;
const fleet = new SynthFleet({ hosts: HOSTS, gpusPerHost: GPUS, intervalMs: 10_000, seed: 23 });
const T0 = fleet.startMs;
const nowMs = T0 + FRAMES * 10_000 + 30_000;
const at = (k: number) => T0 + k * 10_000;
const MONTH = new Date(T0).toISOString().slice(0, 7);
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-reports-"));

// What happens, by host and frame.
const MOVED = { from: 0, to: 1, index: 3, newIndex: GPUS }; // node-0000 (first) → node-0001 (second)
const OFFLINE = { host: 4, from: 600, to: 660 }; // node-0004 (first): agent down an hour and 40 minutes in
const hot = (h: number, i: number, k: number) =>
  (h === 2 && i === 0 && k >= 100 && k < 200) ||
  (h === MOVED.from && i === MOVED.index && k >= 300 && k < 340) ||
  (h === MOVED.to && i === MOVED.newIndex && k >= 400 && k < 450);
const capped = (h: number, i: number, k: number) => h === 3 && i === 1 && k >= 150 && k < 260;
// The moved GPU is lost on its old host (the first collector's frames) and errors on its new
// host (the second's): its lease's down time is in two collectors' parts, and only their union is right.
const lost = (h: number, i: number, k: number) =>
  (h === 5 && i === 2 && k >= 500 && k < 560) ||
  (h === MOVED.from && i === MOVED.index && k >= 200 && k < 230);
const erroring = (h: number, i: number, k: number) =>
  h === MOVED.to && i === MOVED.newIndex && k >= 480 && k < 500;

/**
 * Every frame, made once in time order (the synthetic fleet draws its noise from one sequence),
 * as each agent sends it: the moved GPU where it is at that time, and what happens to it.
 */
const FRAMES_BY_K: ValidFrame[][] = [];
for (let k = 0; k < FRAMES; k++) {
  const frames = Array.from({ length: HOSTS }, (_, h) => fleet.frame(h, k));
  const moved = frames[MOVED.from]?.gpus.find((g) => g.index === MOVED.index);
  if (k >= MOVE && moved) {
    const to = frames[MOVED.to] as SynthFrame;
    to.gpus.push({ ...moved, index: MOVED.newIndex });
    const from = frames[MOVED.from] as SynthFrame;
    from.gpus = from.gpus.filter((g) => g.index !== MOVED.index);
  }
  frames.forEach((f, h) => {
    for (const g of f.gpus) {
      const i = g.index ?? 0;
      if (hot(h, i, k)) Object.assign(g, { temperature_gpu_celsius: 88, temperature_gpu_tlimit_celsius: 1 });
      if (capped(h, i, k)) g.clock_event_reasons = CLOCK_EVENT.SW_POWER_CAP;
      if (lost(h, i, k)) Object.assign(g, { state: GpuState.GPU_STATE_LOST, utilization_gpu_pct: null });
      if (erroring(h, i, k)) Object.assign(g, { state: GpuState.GPU_STATE_ERROR, utilization_gpu_pct: null });
    }
  });
  FRAMES_BY_K.push(frames as ValidFrame[]);
}
const uuidOf = (h: number, i: number) => FRAMES_BY_K[0]?.[h]?.gpus?.[i]?.uuid as string;

function inventory(h: number, k: number): IInventory {
  const gpus = (FRAMES_BY_K[0]?.[h]?.gpus ?? []).map((g) => ({
    index: g.index ?? 0,
    uuid: g.uuid ?? "",
    name: modelOf(h),
  }));
  const moved = { index: MOVED.newIndex, uuid: uuidOf(MOVED.from, MOVED.index), name: modelOf(MOVED.from) };
  return {
    host: fleet.hostName(h),
    site: h % 2 === 0 ? "fra1" : "ams2",
    labels: { customer: `c${h % 3}`, rack: `r${Math.floor(h / 4)}` },
    timestamp_ms: at(k),
    gpus:
      k < MOVE
        ? gpus
        : h === MOVED.from
          ? gpus.filter((g) => g.index !== MOVED.index)
          : h === MOVED.to
            ? [...gpus, moved]
            : gpus,
  };
}

function modelOf(h: number): string {
  return ["NVIDIA H100 80GB HBM3", "NVIDIA L40S", "NVIDIA GeForce RTX 4080 SUPER"][h % 3] as string;
}

function status(h: number, k: number, state: AgentStateValue): IStatus {
  return {
    host: fleet.hostName(h),
    state,
    timestamp_ms: at(k),
    boot_id: `boot-${h}`,
    agent_version: "0.1.0",
    interval_ms: 10_000,
  };
}

function lease(id: string, tenant: string, gpu: string, startMs: number, endMs: number | null): Lease {
  return {
    id,
    device: gpu,
    gpu,
    tenant,
    startMs,
    endMs,
    contract: `K-${id}`,
    priceMicros: 2_150_000,
    currency: "EUR",
    availabilityMilli: 99_500,
    labels: { team: tenant },
    source: "api",
  };
}

const MOVED_UUID = uuidOf(MOVED.from, MOVED.index);
/** Which collectors hold each lease: "a" the first, "b" the second (the whole holds them all). */
const LEASES: { lease: Lease; on: ("a" | "b")[] }[] = [
  { lease: lease("acme-moved", "acme", MOVED_UUID, T0 + 10 * MIN, T0 + 90 * MIN), on: ["a"] },
  { lease: lease("globex-moved", "globex", MOVED_UUID, T0 + 90 * MIN, null), on: ["b"] },
  { lease: lease("acme-hot", "acme", uuidOf(2, 0), T0, T0 + 60 * MIN), on: ["a", "b"] },
  { lease: lease("globex-capped", "globex", uuidOf(3, 1), T0 + 30 * MIN, null), on: ["a", "b"] },
  { lease: lease("acme-lost", "acme", uuidOf(5, 2), T0, null), on: ["b"] },
  { lease: lease("globex-offline", "globex", uuidOf(4, 0), T0, null), on: ["a"] },
];

type Collector = ServedCollector;
const started: Collector[] = [];

/** A collector holding the frames of `hosts` (every inventory and status reach it) and `leases`. */
async function collector(name: string, hosts: readonly number[], holds: "a" | "b" | "all", peers: string[]) {
  const parts = openParts(join(dir, `${name}.db`), nowMs);
  const { store, flags } = parts;
  const inventories = (k: number) => {
    for (let h = 0; h < HOSTS; h++) {
      store.writeInventory(inventory(h, k), at(k));
      flags.onInventory(inventory(h, k), at(k));
    }
  };
  const statusAll = (s: IStatus) => {
    store.writeStatus(s, Number(s.timestamp_ms));
    flags.onStatus(s, Number(s.timestamp_ms));
  };
  inventories(0);
  for (let k = 0; k < FRAMES; k += 30) {
    if (k === MOVE) inventories(MOVE);
    if (k === OFFLINE.from) statusAll(status(OFFLINE.host, k, AgentState.AGENT_STATE_OFFLINE));
    if (k === OFFLINE.to) statusAll(status(OFFLINE.host, k, AgentState.AGENT_STATE_ONLINE));
    const batch: ValidFrame[] = [];
    for (let j = k; j < k + 30; j++)
      for (const h of hosts) {
        if (h === OFFLINE.host && j >= OFFLINE.from && j < OFFLINE.to) continue;
        batch.push(FRAMES_BY_K[j]?.[h] as ValidFrame);
      }
    if (batch.length === 0) continue;
    const last = at(k + 30);
    store.writeFrames(batch, last);
    flags.onFrames(batch, last);
  }
  for (const { lease: l, on } of LEASES)
    if (holds === "all" || on.includes(holds)) store.leases.insert(l, T0);
  const c = await serveParts(parts, { nowMs, token: TOKEN, peers, leases: true });
  started.push(c);
  return c;
}

async function fetchOk(
  c: Collector,
  path: string,
  token = TOKEN,
  accept = "application/json",
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${c.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept, ...headers },
  });
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
  return response;
}
async function get<T>(c: Collector, path: string, token = TOKEN): Promise<T> {
  return (await (await fetchOk(c, path, token)).json()) as T;
}

type Peers = { asked: number; missing: string[] };
type Thermal = {
  total: {
    gpus: number;
    overheatEpisodes: number;
    throttledEpisodes: number;
    throttleGpuMinutesLost: number;
  };
  hottest: { uuid: string; host: string }[];
  peers?: Peers;
};
type Downtime = {
  total: { downGpus: number; lostGpuHours: number; errorGpuHours: number; unreachableGpuHours: number };
  down: { uuid: string; host: string; intervals: { kinds: string[] }[] }[];
  peers?: Peers;
};
type Statement = {
  lines: {
    lease: string;
    busyMs: number;
    leasedMs: number;
    coveredMs: number;
    costMicros: number;
    downMs: number;
    down: { kinds: string[] }[] | null;
  }[];
  total: { busyMs: number; costMicros: Record<string, { cost: number }> };
  peers?: Peers;
};

let first: Collector; // even hosts, the first collector, asked
let second: Collector; // odd hosts
let whole: Collector; // every frame
const range = `from=${T0}&to=${nowMs}`;

describe("thermal, capacity, downtime and lease reports over peers", () => {
  beforeAll(async () => {
    const even = [0, 2, 4];
    const odd = [1, 3, 5];
    second = await collector("second", odd, "b", []);
    first = await collector("first", even, "a", [second.url]);
    whole = await collector("whole", [...even, ...odd], "all", []);
  }, 120_000);

  afterAll(() => stopAll(started, dir));

  it("has the moved GPU's samples on both collectors, and the events on both sides", async () => {
    for (const c of [first, second]) {
      const part = await get<{ stretches: { uuid: string; host: string; samples: number }[] }>(
        c,
        `/api/v1/fanout/fleet-part?kind=capacity&${range}`,
      );
      const moved = part.stretches.filter((s) => s.uuid === MOVED_UUID && s.samples > 0);
      expect(moved.map((s) => s.host)).toEqual([fleet.hostName(c === first ? MOVED.from : MOVED.to)]);
    }
    const one = await get<Thermal>(whole, `/api/v1/reports/thermal?${range}`);
    expect(one.total.overheatEpisodes).toBe(3);
    expect(one.total.throttledEpisodes).toBe(1);
    const down = await get<Downtime>(whole, `/api/v1/reports/downtime?${range}`);
    expect(down.total.lostGpuHours).toBeGreaterThan(0);
    expect(down.total.errorGpuHours).toBeGreaterThan(0);
    expect(down.total.unreachableGpuHours).toBeGreaterThan(0);
  });

  it("merges the thermal report: hottest GPUs across all, overheat and throttled hours, minutes lost", async () => {
    for (const by of ["site", "host", "model", "gpu"]) {
      const path = `/api/v1/reports/thermal?${range}&by=${by}`;
      const merged = await get<Thermal>(first, path);
      expect(merged.peers).toEqual({ asked: 1, missing: [], errors: [] });
      expectSame(merged, await get<Thermal>(whole, path), `thermal by ${by}`);
    }
    const merged = await get<Thermal>(first, `/api/v1/reports/thermal?${range}`);
    expect(merged.total.gpus).toBe(HOSTS * GPUS);
    expect(merged.total.throttleGpuMinutesLost).toBeGreaterThan(0);
    // The moved GPU ran hot on both hosts: listed once, where it was hottest first.
    expect(merged.hottest.filter((g) => g.uuid === MOVED_UUID)).toHaveLength(1);
  });

  it("merges the capacity report: GPU counts, installed and used PFLOPS", async () => {
    for (const by of ["model", "site", "host"]) {
      const path = `/api/v1/reports/capacity?${range}&by=${by}`;
      const merged = await get<{ total: { gpus: number } }>(first, path);
      expectSame(merged, await get<unknown>(whole, path), `capacity by ${by}`);
      expect(merged.total.gpus).toBe(HOSTS * GPUS);
    }
  });

  it("merges the downtime report: each GPU's down stretches with their reasons, where it was", async () => {
    for (const by of ["site", "host"]) {
      const path = `/api/v1/reports/downtime?${range}&by=${by}`;
      const merged = await get<Downtime>(first, path);
      expectSame(merged, await get<Downtime>(whole, path), `downtime by ${by}`);
    }
    const merged = await get<Downtime>(first, `/api/v1/reports/downtime?${range}`);
    const kinds = new Set(merged.down.flatMap((g) => g.intervals.flatMap((i) => i.kinds)));
    expect([...kinds].sort()).toEqual(["error", "lost", "offline"]);
    // The moved GPU was down on each host while it was there: lost on the old, erroring on the new.
    const moved = merged.down.filter((g) => g.uuid === MOVED_UUID);
    expect(moved.map((g) => [g.host, g.intervals.flatMap((i) => i.kinds)])).toEqual([
      [fleet.hostName(MOVED.from), ["lost"]],
      [fleet.hostName(MOVED.to), ["error"]],
    ]);
    const csv = async (c: Collector) =>
      (await fetchOk(c, `/api/v1/reports/downtime?${range}&format=csv`)).text();
    expect(await csv(first)).toBe(await csv(whole));
  });

  it("gives the same reports through gputel query --url a,b", async () => {
    for (const kind of ["thermal", "capacity", "downtime"]) {
      const cli = await queryJson<unknown>(
        ["report", kind, "--url", `${first.url},${second.url}`, "--since", `${T0}`, "--until", `${nowMs}`],
        TOKEN,
      );
      const by = kind === "capacity" ? "model" : "site";
      expectSame(
        cli,
        await get<unknown>(whole, `/api/v1/reports/${kind}?${range}&by=${by}`),
        `gputel query ${kind}`,
      );
    }
  });

  it("merges the lease report and the statement exactly, whichever collector holds a lease", async () => {
    for (const by of ["tenant", "lease", "host", "model"]) {
      const path = `/api/v1/reports/leases?${range}&by=${by}`;
      const merged = await get<{ peers?: Peers }>(first, path);
      expect(merged.peers).toEqual({ asked: 1, missing: [], errors: [] });
      expectSame(merged, await get<unknown>(whole, path), `leases by ${by}`);
      const csv = async (c: Collector) => (await fetchOk(c, `${path}&format=csv`)).text();
      expect(await csv(first)).toBe(await csv(whole));
    }
    // By host, the moved GPU's lease is billed to each host for its own time: its old host had
    // nothing else leased, and holds the 50 minutes before the move.
    const byHost = await get<{ groups: { key: string; leasedMs: number; leases: number }[] }>(
      first,
      `/api/v1/reports/leases?${range}&by=host`,
    );
    expect(byHost.groups.find((g) => g.key === fleet.hostName(MOVED.from))).toMatchObject({
      leasedMs: 50 * MIN,
      leases: 1,
    });
    for (const tenant of ["acme", "globex"]) {
      const path = `/api/v1/reports/statement?tenant=${tenant}&month=${MONTH}`;
      const merged = await get<Statement>(first, path);
      const one = await get<Statement>(whole, path);
      expectSame(merged, one, `statement ${tenant}`);
      expect(merged.lines.length).toBe(3);
      // Integers underneath: the total is the sum of the lines.
      expect(merged.total.busyMs).toBe(merged.lines.reduce((n, l) => n + l.busyMs, 0));
      expect(merged.total.costMicros.EUR?.cost).toBe(merged.lines.reduce((n, l) => n + l.costMicros, 0));
      const csv = async (c: Collector) => (await fetchOk(c, path, TOKEN, "text/csv")).text();
      expect(await csv(first)).toBe(await csv(whole));
    }
    // A lease only one collector holds is counted on the other too (its terms were sent there):
    // the GPU moved an hour in, so the first collector alone knows 50 of acme-moved's 80 minutes,
    // and nothing of globex-moved, which only the second holds.
    const statementOf = async (tenant: string, headers: Record<string, string> = {}) =>
      (await (
        await fetchOk(
          first,
          `/api/v1/reports/statement?tenant=${tenant}&month=${MONTH}`,
          TOKEN,
          "application/json",
          headers,
        )
      ).json()) as Statement;
    const line = (s: Statement, lease: string) => s.lines.find((l) => l.lease === lease);
    const alone = { "x-gputel-fanout": "1" }; // as a peer asks: this collector's own answer
    expect(line(await statementOf("acme", alone), "acme-moved")?.coveredMs).toBe(50 * MIN);
    expect(line(await statementOf("acme"), "acme-moved")?.coveredMs).toBe(80 * MIN);
    expect(line(await statementOf("globex", alone), "globex-moved")).toBeUndefined();
    expect(line(await statementOf("globex"), "globex-moved")?.coveredMs).toBe(30 * MIN);
    // Its down time is in both collectors' parts: lost on the old host (the first's frames),
    // erroring on the new (the second's). The merge is their union, as the whole collector's.
    const acmeAlone = line(await statementOf("acme", alone), "acme-moved");
    const acmeAll = line(await statementOf("acme"), "acme-moved");
    expect(acmeAlone?.down?.map((e) => e.kinds)).toEqual([["lost"]]);
    expect(acmeAll?.down?.map((e) => e.kinds)).toEqual([["lost"], ["error"]]);
    expect(acmeAll?.downMs).toBeGreaterThan(acmeAlone?.downMs ?? 0);
  });

  it("carries a tenant's scope to the peers: its own leases only, from every collector", async () => {
    const t = newToken();
    for (const c of [first, second]) c.store.tokens.insert(t.id, "tenant:acme", t.digest, "", nowMs);
    const mine = await get<Statement>(first, `/api/v1/reports/statement?month=${MONTH}`, t.token);
    const one = await get<Statement>(whole, `/api/v1/reports/statement?tenant=acme&month=${MONTH}`);
    expectSame(mine, one, "acme's own statement");
    const leases = await get<{ groups: { key: string }[] }>(
      first,
      `/api/v1/reports/leases?${range}&by=lease`,
      t.token,
    );
    expect(leases.groups.map((g) => g.key)).toEqual(["acme-hot", "acme-lost", "acme-moved"]);
    const other = await fetch(`${first.url}/api/v1/reports/statement?tenant=globex&month=${MONTH}`, {
      headers: { authorization: `Bearer ${t.token}` },
    });
    expect(other.status).toBe(404);
    // The peers' own routes are not a tenant's way round the scope.
    for (const path of [
      `/api/v1/fanout/lease-parts?${range}`,
      `/api/v1/fanout/fleet-part?kind=thermal&${range}`,
    ]) {
      const part = await fetch(`${second.url}${path}`, { headers: { authorization: `Bearer ${t.token}` } });
      expect(part.status, path).toBe(403);
    }
  });

  it("merges the tenants view: every collector's leases, GPUs and lease parts, as one holding all", async () => {
    type View = {
      tenants: {
        tenant: string;
        gpus: { leaseId: string; host: string }[];
        utilizationMonth: number | null;
      }[];
      ended: { leaseId: string; host: string }[];
      peers?: Peers;
    };
    const merged = await get<View>(first, "/api/v1/tenants");
    expect(merged.peers).toEqual({ asked: 1, missing: [], errors: [] });
    expectSame(merged, await get<View>(whole, "/api/v1/tenants"), "tenants view");
    // Leases only the second holds are there (globex-moved in force, acme-lost), the first's ended
    // acme-moved too, at the host its GPU was on when it ended (the second's, after the move).
    const held = merged.tenants.map((t) => [t.tenant, t.gpus.map((g) => g.leaseId)]);
    expect(held).toEqual([
      ["acme", ["acme-lost"]],
      ["globex", ["globex-offline", "globex-capped", "globex-moved"]],
    ]);
    expect(merged.ended.map((e) => [e.leaseId, e.host])).toEqual([
      ["acme-moved", fleet.hostName(MOVED.to)],
      ["acme-hot", fleet.hostName(2)],
    ]);
    expect(merged.tenants.every((t) => t.utilizationMonth !== null)).toBe(true);
    // A tenant's token: its own row and ended leases, from every collector.
    const t = newToken();
    first.store.tokens.insert(t.id, "tenant:acme", t.digest, "", nowMs);
    const mine = await get<View>(first, "/api/v1/tenants?tenant=globex", t.token);
    expectSame(mine, await get<View>(whole, "/api/v1/tenants?tenant=acme"), "acme's tenants view");
    expect(mine.tenants.map((r) => r.tenant)).toEqual(["acme"]);
  });

  it("names a peer that is down, in JSON and in CSV headers, and still answers", async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const partial = await collector("partial", [0, 2, 4], "a", [second.url, dead]);
    for (const kind of ["thermal", "capacity", "downtime"]) {
      // The dead peer held nothing: the answer is the fleet's, and says whom it lacks.
      const path = `/api/v1/reports/${kind}?${range}`;
      const r = await get<{ peers?: Peers }>(partial, path);
      expect(r.peers?.asked, kind).toBe(2);
      expect(r.peers?.missing, kind).toEqual([dead]);
      expectSame(r, await get<unknown>(whole, path), `${kind} without the dead peer`);
      const csv = await fetchOk(partial, `/api/v1/reports/${kind}?${range}&format=csv`);
      expect(csv.headers.get("x-gputel-peers-asked")).toBe("2");
      expect(csv.headers.get("x-gputel-peers-missing")).toBe(dead);
    }
    const s = await get<Statement>(partial, `/api/v1/reports/statement?tenant=acme&month=${MONTH}`);
    expect(s.peers?.missing).toEqual([dead]);
    expectSame(
      s,
      await get<Statement>(first, `/api/v1/reports/statement?tenant=acme&month=${MONTH}`),
      "partial",
    );
    const csv = await fetchOk(partial, `/api/v1/reports/leases?${range}&format=csv`);
    expect(csv.headers.get("x-gputel-peers-missing")).toBe(dead);
    const view = await get<{ peers?: Peers }>(partial, "/api/v1/tenants");
    expect(view.peers?.missing).toEqual([dead]);
    expectSame(view, await get<unknown>(first, "/api/v1/tenants"), "tenants view without the dead peer");
  });
});
