// A merged summary over collectors each holding more GPUs than one GPU list answers
// (LIMITS.maxGpuRows, 100,000: lowered here to 5, so a handful of GPUs stands for a fleet past it).
// The merged summary, the fleet's and a tenant's, must count what one collector holding every
// frame counts, and `gputel query summary --url a,b` likewise: a list cut at the limit
// (`truncated`) must not make the counts low with nothing saying so.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SynthFleet } from "../../bench/synth-fleet.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { LeaseService } from "../../collector/leases/service.js";
import {
  expectSame,
  feedFrames,
  getJson,
  openParts,
  queryJson,
  type ServedCollector,
  serveParts,
  stopAll,
  tenantToken,
} from "./fanout-helpers.js";

/** The GPU list's largest `limit`, for every module of this test (the API's schema included). */
const MAX_GPU_ROWS = 5;
vi.mock("../../collector/api/params.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../collector/api/params.js")>();
  return { ...actual, LIMITS: { ...actual.LIMITS, maxGpuRows: 5 } };
});

const TOKEN = "fanout-summary-cap-token-0123456789";
const HOSTS = 6;
const GPUS = 4;
const FRAMES = 90; // 15 min at 10 s
const fleet = new SynthFleet({ hosts: HOSTS, gpusPerHost: GPUS, intervalMs: 10_000, seed: 11 });
const nowMs = fleet.startMs + FRAMES * 10_000 + 5_000;
const range = `from=${fleet.startMs}&to=${nowMs}`;
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-summary-cap-"));
const started: ServedCollector[] = [];

/** Every host's inventory: each collector receives all of them (a plain subscription). */
function inventories(frames: readonly ValidFrame[]) {
  const byHost = new Map(frames.map((f) => [f.host, f]));
  return [...byHost.values()].map((f) => ({
    host: f.host,
    site: f.site,
    labels: {},
    timestamp_ms: fleet.startMs,
    gpus: (f.gpus ?? []).map((g) => ({
      index: g.index ?? 0,
      uuid: g.uuid ?? "",
      name: "NVIDIA H100 80GB HBM3",
    })),
  }));
}

/**
 * A collector with every inventory, `frames`, and acme's lease of every GPU (one file imported
 * into each).
 */
async function collector(name: string, frames: readonly ValidFrame[], peers: string[], all: ValidFrame[]) {
  const parts = openParts(join(dir, `${name}.db`), nowMs);
  for (const inventory of inventories(all)) parts.store.writeInventory(inventory, fleet.startMs);
  feedFrames(parts, frames, 100);
  const uuids = [...new Set(all.flatMap((f) => (f.gpus ?? []).map((g) => g.uuid ?? "")))];
  const leases = new LeaseService(parts.store.leases, () => nowMs);
  for (const uuid of uuids)
    leases.create({ id: `acme-${uuid}`, device: uuid, tenant: "acme", start: fleet.startMs }, "test");
  const c = await serveParts(parts, { nowMs, token: TOKEN, peers, leases: true });
  started.push(c);
  return c;
}

type Summary = { gpus: { total: number }; peers?: { missing: string[] } };

let first: ServedCollector;
let second: ServedCollector;
let whole: ServedCollector;

beforeAll(async () => {
  const frames = [...fleet.frames(0, FRAMES)] as ValidFrame[];
  // Hosts split between two collectors (hash_clientid): each knows all 24 GPUs and
  // holds the frames of 12, more than a list gives.
  const even = frames.filter((f) => Number(f.host.slice(5)) % 2 === 0);
  second = await collector(
    "second",
    frames.filter((f) => !even.includes(f)),
    [],
    frames,
  );
  first = await collector("first", even, [second.url], frames);
  whole = await collector("whole", frames, [], frames);
}, 60_000);

afterAll(() => stopAll(started, dir));

describe("a merged summary of collectors holding more GPUs than a GPU list gives", () => {
  it("each collector's own GPU list is cut at the (lowered) limit", async () => {
    const own = await callOwn(second, "/api/v1/gpus");
    expect(own).toMatchObject({ total: HOSTS * GPUS, truncated: true });
    expect(own.gpus).toHaveLength(MAX_GPU_ROWS);
  });

  it("counts every GPU, as one collector holding every frame", async () => {
    const merged = await getJson<Summary>(first, `/api/v1/summary?${range}`, TOKEN);
    const one = await getJson<Summary>(whole, `/api/v1/summary?${range}`, TOKEN);
    expect(merged.peers?.missing).toEqual([]);
    expect(one.gpus.total).toBe(HOSTS * GPUS);
    expectSame(merged, one, "summary");
  });

  it("counts every GPU of a tenant's, as one collector holding every frame", async () => {
    const path = `/api/v1/summary?${range}`;
    const merged = await getJson<Summary>(first, path, tenantToken(first, "acme", nowMs));
    const one = await getJson<Summary>(whole, path, tenantToken(whole, "acme", nowMs));
    expect(merged.peers?.missing).toEqual([]);
    expect(one.gpus.total).toBe(HOSTS * GPUS);
    expectSame(merged, one, "tenant summary");
  });

  it("gputel query summary --url a,b counts every GPU", async () => {
    const merged = await queryJson<Summary>(
      [
        "summary",
        "--since",
        String(fleet.startMs),
        "--until",
        String(nowMs),
        "--url",
        `${first.url},${second.url}`,
      ],
      TOKEN,
    );
    const one = await getJson<Summary>(whole, `/api/v1/summary?${range}`, TOKEN);
    expectSame(merged, one, "summary --url a,b");
  });
});

describe("a merged GPU list of collectors holding more GPUs than a GPU list gives", () => {
  type List = { total: number; truncated: boolean; gpus: unknown[]; peers?: { missing: string[] } };

  it("counts every GPU in its total, as one collector holding every frame", async () => {
    // state=ok: the asking collector knows the GPUs whose frames its peer holds as `unknown`.
    for (const path of ["/api/v1/gpus?state=ok", `/api/v1/gpus?state=ok&host=${fleet.hostName(1)}`]) {
      const merged = await getJson<List>(first, path, TOKEN);
      const one = await getJson<List>(whole, path, TOKEN);
      expect(merged.peers?.missing, path).toEqual([]);
      expect(one.total, path).toBeGreaterThan(0);
      expect(merged.gpus, path).toHaveLength(Math.min(one.total, MAX_GPU_ROWS));
      expect({ total: merged.total, truncated: merged.truncated }, path).toEqual({
        total: one.total,
        truncated: one.truncated,
      });
    }
  });
});

describe("merged wall cells of collectors holding more GPUs than a GPU list gives", () => {
  type Cells = { generatedMs: number; peers?: { missing: string[] }; gpus: { state: unknown[] } };
  const same = (merged: Cells, one: Cells, what: string) => {
    expect(merged.peers?.missing).toEqual([]);
    expect(one.gpus.state).toHaveLength(HOSTS * GPUS);
    expectSame({ ...merged, generatedMs: 0 }, { ...one, generatedMs: 0 }, what);
  };

  it("draws every GPU with its newest sample, as one collector holding every frame", async () => {
    const path = "/api/v1/fleet/cells?layout=true";
    same(await getJson<Cells>(first, path, TOKEN), await getJson<Cells>(whole, path, TOKEN), "cells");
  });

  it("draws every GPU of a tenant's, as one collector holding every frame", async () => {
    const path = "/api/v1/fleet/cells?layout=true";
    const merged = await getJson<Cells>(first, path, tenantToken(first, "acme", nowMs));
    const one = await getJson<Cells>(whole, path, tenantToken(whole, "acme", nowMs));
    same(merged, one, "tenant cells");
  });
});

describe("a merged tenants view of collectors holding more GPUs than a GPU list gives", () => {
  it("places every leased GPU and counts its idle-held ones, as one collector holding every frame", async () => {
    const merged = await getJson<{ peers?: { missing: string[] } }>(first, "/api/v1/tenants", TOKEN);
    const one = await getJson<Record<string, unknown>>(whole, "/api/v1/tenants", TOKEN);
    expect(merged.peers?.missing).toEqual([]);
    expectSame(merged, one, "tenants view");
  });
});

/** `path` on `c` as a peer asks it (its own data only). */
async function callOwn(c: ServedCollector, path: string) {
  const r = await fetch(`${c.url}${path}`, {
    headers: { authorization: `Bearer ${TOKEN}`, "x-gputel-fanout": "1" },
  });
  expect(r.status).toBe(200);
  return (await r.json()) as { total: number; truncated: boolean; gpus: unknown[] };
}
