// One GPU's series and health asked by a host:index the asking collector does not know (it holds
// none of that host's frames and, as without the inventories' subscription, none of its
// inventories), while its peers place GPUs differently: GPU OLD sat at host-x:0 for the first hour
// (frames on the first peer), then moved to host-y:0 and GPU NEW took its place at host-x:0 (both
// hosts' frames on the second peer). The first peer still knows OLD at host-x:0, the second knows
// OLD at host-y:0 and NEW at host-x:0. The reference must name the same GPU on every collector,
// the one `gpus/:id` answers (the copy with the newest sample), and its whole range must come,
// as from a collector holding every frame.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { GpuState } from "../../shared/proto.js";
import {
  expectSame,
  feedFrames,
  getJson,
  hostFrame,
  openParts,
  type ServedCollector,
  serveParts,
  stopAll,
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

/** A collector with the frames of `wheres`, each instant's in one batch. */
async function collector(name: string, wheres: readonly Where[], peers: string[]) {
  const parts = openParts(join(dir, `${name}.db`), NOW);
  const mine = ALL.filter((f) => wheres.includes(f.where)).map((f) => f.frame);
  for (let k = 0; k < FRAMES; k++) {
    const now = mine.filter((f) => f.timestamp_ms === T0 + k * STEP);
    feedFrames(parts, now, now.length);
  }
  const c = await serveParts(parts, { nowMs: NOW, token: TOKEN, peers });
  started.push(c);
  return c;
}

let front: ServedCollector;
let whole: ServedCollector;

beforeAll(async () => {
  const first = await collector("first", ["first"], []);
  const second = await collector("second", ["second"], []);
  front = await collector("front", ["front"], [first.url, second.url]);
  whole = await collector("whole", ["front", "first", "second"], []);
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
