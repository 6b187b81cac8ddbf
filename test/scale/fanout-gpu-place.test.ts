// One GPU asked by a host:index the asking collector does not know (it holds none of that host's
// frames and, as without the inventories' subscription, none of its inventories), while its peers
// place GPUs differently: GPU OLD sat at host-x:0 for the first hour (frames, an Xid 79 and a
// process on the first peer), then moved to host-y:0 and GPU NEW took its place at host-x:0 (both
// hosts' frames, Xids and processes on the second peer). The first peer still knows OLD at
// host-x:0, the second knows OLD at host-y:0 and NEW at host-x:0. The reference must name the same
// GPU on every collector, the one `gpus/:id` answers (the copy with the newest sample), and its
// whole range must come, as from a collector holding every frame: its series and health, and its
// flags, events and processes (never another GPU's), also where the asking collector knows the
// host:index from the inventories, and as `gputel query --url a,b` gives them.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkMessage } from "../../collector/ingest/check.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { LeaseService } from "../../collector/leases/service.js";
import { GpuState, type IProcessRecord, ProcessSet, SCHEMA_VERSION } from "../../shared/proto.js";
import { topicFor } from "../../shared/topics.js";
import {
  type CollectorParts,
  callAs,
  expectSame,
  feedFrames,
  feedInventories,
  feedXid,
  getJson,
  hostFrame,
  openParts,
  queryJson,
  type ServedCollector,
  serveParts,
  stopAll,
  tenantToken,
} from "./fanout-helpers.js";

const TOKEN = "fanout-gpu-place-token-0123456789";
const MIN = 60_000;
const NOW = Date.UTC(2025, 4, 2, 12, 0, 0);
const T0 = NOW - 2 * 60 * MIN;
const STEP = 30_000;
const FRAMES = (2 * 60 * MIN) / STEP;
const MOVE = FRAMES / 2;
const OLD = "GPU-0ld00000-2222-3333-4444-555555555555";
const NEW = "GPU-0e000000-2222-3333-4444-555555555555";
const HERE = "GPU-0f000000-2222-3333-4444-555555555555";
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-gpu-place-"));
const started: ServedCollector[] = [];

/** `host`'s frame `k`: its one GPU, `uuid`, with readings that change with k. */
function frame(host: string, uuid: string, k: number): ValidFrame {
  return hostFrame(host, k, { t0: T0, stepMs: STEP }, [
    {
      index: 0,
      uuid,
      state: GpuState.GPU_STATE_OK,
      utilization_gpu_pct: (k * 7) % 100,
      temperature_gpu_celsius: 40 + (k % 30),
      power_draw_watts: 100 + k,
    },
  ]);
}

type Where = "front" | "first" | "second";
const ALL: { where: Where; frame: ValidFrame }[] = [];
for (let k = 0; k < FRAMES; k++) {
  ALL.push({ where: "front", frame: frame("host-f", HERE, k) });
  if (k < MOVE) ALL.push({ where: "first", frame: frame("host-x", OLD, k) });
  else {
    ALL.push({ where: "second", frame: frame("host-x", NEW, k) });
    ALL.push({ where: "second", frame: frame("host-y", OLD, k) });
  }
}

// Xid 79 (fallen off the bus) flags its GPU; Xid 13 is the workload's.
const XIDS = [
  { where: "first", host: "host-x", uuid: OLD, seq: 1, timeMs: T0 + 10 * MIN, code: 79 },
  { where: "second", host: "host-x", uuid: NEW, seq: 2, timeMs: T0 + 90 * MIN, code: 79 },
  { where: "second", host: "host-y", uuid: OLD, seq: 1, timeMs: T0 + 100 * MIN, code: 13 },
] as const;
const PID = { OLD_THEN: 100, NEW_NOW: 200, OLD_NOW: 300 };
const SETS = [
  { where: "first", host: "host-x", seq: 1, at: T0 + 5 * MIN, uuid: OLD, pid: PID.OLD_THEN },
  { where: "first", host: "host-x", seq: 2, at: T0 + 50 * MIN, uuid: OLD, pid: PID.OLD_THEN },
  { where: "second", host: "host-x", seq: 3, at: T0 + 70 * MIN, uuid: NEW, pid: PID.NEW_NOW },
  { where: "second", host: "host-x", seq: 4, at: T0 + 110 * MIN, uuid: NEW, pid: PID.NEW_NOW },
  { where: "second", host: "host-y", seq: 1, at: T0 + 70 * MIN, uuid: OLD, pid: PID.OLD_NOW },
  { where: "second", host: "host-y", seq: 2, at: T0 + 110 * MIN, uuid: OLD, pid: PID.OLD_NOW },
] as const;

function writeSet(parts: CollectorParts, s: (typeof SETS)[number]): void {
  const proc: IProcessRecord = {
    gpu_uuid: s.uuid,
    pid: s.pid,
    start_ms: T0 + (s.pid === PID.OLD_THEN ? 0 : 60 * MIN),
    name: "python3",
    used_memory_mib: 1000,
    user: "u",
  };
  const payload = ProcessSet.encode({
    schema_version: SCHEMA_VERSION,
    host: s.host,
    boot_id: `boot-${s.host}`,
    seq: s.seq,
    timestamp_ms: s.at,
    processes: [proc],
  }).finish();
  const checked = checkMessage(topicFor(s.host, "processes"), payload, { username: undefined, nowMs: NOW });
  if (!checked.processes) throw new Error(JSON.stringify(checked.rejections));
  parts.store.writeProcesses(checked.processes, s.at);
}

/**
 * A collector with the frames, Xids and process sets of `wheres`; `inventories`: it knows the
 * GPUs where they are now (host-x:0 NEW, host-y:0 OLD) from the retained inventories.
 */
async function collector(name: string, wheres: readonly Where[], peers: string[], inventories = false) {
  const parts = openParts(join(dir, `${name}.db`), NOW);
  if (inventories)
    feedInventories(
      parts,
      [
        ["host-x", NEW],
        ["host-y", OLD],
      ],
      T0,
    );
  const mine = ALL.filter((f) => wheres.includes(f.where)).map((f) => f.frame);
  for (let k = 0; k < FRAMES; k++) {
    const now = mine.filter((f) => f.timestamp_ms === T0 + k * STEP);
    feedFrames(parts, now, now.length);
    for (const x of XIDS)
      if (wheres.includes(x.where) && x.timeMs === T0 + k * STEP) feedXid(parts, x, x.timeMs);
    for (const s of SETS) if (wheres.includes(s.where) && s.at === T0 + k * STEP) writeSet(parts, s);
  }
  // The tenant leases NEW alone, since it came, on every collector that knows it.
  if (parts.store.fleetGpus().some((g) => g.uuid === NEW))
    new LeaseService(parts.store.leases, () => NOW).create(
      { id: "acme-new", device: NEW, tenant: "acme", start: T0 + MOVE * STEP },
      "test",
    );
  const c = await serveParts(parts, { nowMs: NOW, token: TOKEN, peers, leases: true });
  started.push(c);
  return c;
}

let first: ServedCollector;
let second: ServedCollector;
let front: ServedCollector;
let knowing: ServedCollector;
let whole: ServedCollector;
let acme: string;

beforeAll(async () => {
  first = await collector("first", ["first"], []);
  second = await collector("second", ["second"], []);
  front = await collector("front", ["front"], [first.url, second.url]);
  knowing = await collector("knowing", ["front"], [first.url, second.url], true);
  whole = await collector("whole", ["front", "first", "second"], []);
  acme = tenantToken(front, "acme", NOW);
}, 60_000);

afterAll(() => stopAll(started, dir));

const SERIES = `series?metrics=utilization_gpu_pct,temperature_gpu_celsius&from=${T0}&to=${NOW}&step=1m`;

describe("a host:index the asking collector does not know", () => {
  it("names the GPU the view names, on every collector", async () => {
    for (const [ref, uuid] of [
      ["host-x:0", NEW],
      ["host-y:0", OLD],
    ] as const) {
      expect(await getJson(front, `/api/v1/gpus/${ref}`, TOKEN), ref).toMatchObject({ uuid });
      expect(await getJson(whole, `/api/v1/gpus/${ref}`, TOKEN), ref).toMatchObject({ uuid });
    }
  });

  it("series: the GPU there now, its whole range from every collector holding a share", async () => {
    for (const ref of ["host-x:0", "host-y:0"]) {
      const merged = await getJson(front, `/api/v1/gpus/${ref}/${SERIES}`, TOKEN);
      expect(merged.peers, ref).toEqual(expect.objectContaining({ asked: 2, missing: [] }));
      expectSame(merged, await getJson(whole, `/api/v1/gpus/${ref}/${SERIES}`, TOKEN), ref);
    }
  });

  it("health: the GPU there now, with every collector's share", async () => {
    const merged = await getJson(front, `/api/v1/gpus/host-x:0/health?from=${T0}&to=${NOW}`, TOKEN);
    expect(merged).toMatchObject({ uuid: NEW, host: "host-x", index: 0 });
    const moved = await getJson(front, `/api/v1/gpus/host-y:0/health?from=${T0}&to=${NOW}`, TOKEN);
    // Placed where the view that named it places it (the timelines have no episode to say more).
    expect(moved).toMatchObject({ uuid: OLD, host: "host-y", index: 0, peers: { asked: 2, missing: [] } });
  });
});

const RANGE = `from=${T0}&to=${NOW}`;
type Flags = { flags: { gpuUuid: string | null; startMs: number }[] };
type Events = { events: { gpuUuid: string | null; timeMs: number }[] };
type Processes = { gpu?: { uuid: string; host: string }; processes: { gpuUuid: string; pid: number }[] };
/** The GPUs a flag list names and when their flags began (an Xid 79 raises more than one kind). */
const gpuFlags = (a: Flags) => {
  const gpus = a.flags.flatMap((f) => (f.gpuUuid === null ? [] : [f]));
  return {
    gpus: [...new Set(gpus.map((f) => f.gpuUuid))],
    starts: [...new Set(gpus.map((f) => f.startMs))].sort(),
  };
};
const events = (a: Events) => a.events.map((e) => [e.gpuUuid, e.timeMs]).sort();
const pids = (a: Processes) => a.processes.map((p) => [p.gpuUuid, p.pid]).sort();

describe("flags, events and processes of a host:index collectors place differently", () => {
  for (const [name, asking] of [
    ["not known to the asking collector", () => front],
    ["known to the asking collector", () => knowing],
  ] as const) {
    it(`flags?gpu= (${name}): the GPU there now, every collector's flags of it`, async () => {
      const x = await getJson<Flags>(asking(), `/api/v1/flags?gpu=host-x:0&state=all`, TOKEN);
      expect(gpuFlags(x)).toEqual({ gpus: [NEW], starts: [XIDS[1].timeMs] });
      const y = await getJson<Flags>(asking(), `/api/v1/flags?gpu=host-y:0&state=all`, TOKEN);
      expect(gpuFlags(y)).toEqual({ gpus: [OLD], starts: [XIDS[0].timeMs, XIDS[2].timeMs] });
    });

    it(`events?gpu= (${name}): the GPU there now, every collector's events of it`, async () => {
      const x = await getJson<Events>(asking(), `/api/v1/events?gpu=host-x:0&${RANGE}`, TOKEN);
      expect(events(x)).toEqual([[NEW, XIDS[1].timeMs]]);
      const y = await getJson<Events>(asking(), `/api/v1/events?gpu=host-y:0&${RANGE}`, TOKEN);
      expect(events(y)).toEqual([
        [OLD, XIDS[0].timeMs],
        [OLD, XIDS[2].timeMs],
      ]);
    });

    it(`processes?gpu= and gpus/:id/processes (${name}): the GPU there now, its sessions`, async () => {
      for (const path of ["/api/v1/processes?gpu=host-x:0&", "/api/v1/gpus/host-x:0/processes?"]) {
        const x = await getJson<Processes>(asking(), `${path}${RANGE}`, TOKEN);
        expect(pids(x), path).toEqual([[NEW, PID.NEW_NOW]]);
      }
      for (const path of ["/api/v1/processes?gpu=host-y:0&", "/api/v1/gpus/host-y:0/processes?"]) {
        const y = await getJson<Processes>(asking(), `${path}${RANGE}`, TOKEN);
        expect(pids(y), path).toEqual([
          [OLD, PID.OLD_THEN],
          [OLD, PID.OLD_NOW],
        ]);
      }
      const placed = await getJson<Processes>(asking(), `/api/v1/gpus/host-x:0/processes?${RANGE}`, TOKEN);
      expect(placed.gpu).toMatchObject({ uuid: NEW, host: "host-x" });
    });
  }

  it("a tenant: the GPU there now where it leases it, else the 404 of an unknown GPU", async () => {
    const x = await getJson<Events>(front, `/api/v1/events?gpu=host-x:0&${RANGE}`, acme);
    expect(events(x)).toEqual([[NEW, XIDS[1].timeMs]]);
    for (const path of ["/api/v1/flags?gpu=", "/api/v1/processes?gpu=", "/api/v1/events?gpu="]) {
      const unknown = await callAs(front, `${path}host-z:0`, acme);
      const unleased = await callAs(front, `${path}host-y:0`, acme);
      expect(unleased.status, path).toBe(404);
      expect(await unleased.text(), path).toBe((await unknown.text()).replace("host-z:0", "host-y:0"));
    }
  });
});

describe("gputel query --url a,b", () => {
  it("asks every collector for the GPU the newest view names at a host:index", async () => {
    // The first URL still places OLD at host-x:0.
    const urls = ["--url", `${first.url},${second.url}`];
    const span = ["--since", String(T0), "--until", String(NOW)];
    expect(await queryJson(["gpu", "host-x:0", ...urls], TOKEN)).toMatchObject({ uuid: NEW });
    expect(await queryJson(["health", "host-x:0", ...urls, ...span], TOKEN)).toMatchObject({
      uuid: NEW,
      host: "host-x",
    });
    const gpuEvents = await queryJson<Events>(["events", "--gpu", "host-x:0", ...urls, ...span], TOKEN);
    expect(events(gpuEvents)).toEqual([[NEW, XIDS[1].timeMs]]);
    const flags = await queryJson<Flags>(["flags", "--gpu", "host-y:0", "--state", "all", ...urls], TOKEN);
    expect(gpuFlags(flags)).toEqual({ gpus: [OLD], starts: [XIDS[0].timeMs, XIDS[2].timeMs] });
    const listed = await queryJson<Processes>(["processes", "host-x:0", ...urls, ...span], TOKEN);
    expect(listed.gpu).toMatchObject({ uuid: NEW, host: "host-x" });
    expect(pids(listed)).toEqual([[NEW, PID.NEW_NOW]]);
  });
});
