// The API's fan-out (http.peers) over real parts: two collectors' Stores split a synthesized
// fleet by host (as EMQX's hash_clientid splits agents), a third Store holds every frame. The
// first collector's API, with the second as its peer, must answer as the third does; a peer
// that is down is named in `peers.missing` and the answer still comes back.
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SynthFleet } from "../../bench/synth-fleet.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import {
  deadPort,
  feedFrames,
  openParts,
  type ServedCollector,
  serveParts,
  stopAll,
} from "./fanout-helpers.js";

const TOKEN = "fleet-token-for-tests";
const HOSTS = 6;
const GPUS = 4;
const FRAMES = 720; // 2 h at 10 s
const fleet = new SynthFleet({ hosts: HOSTS, gpusPerHost: GPUS, intervalMs: 10_000, seed: 5 });
const nowMs = fleet.startMs + FRAMES * 10_000 + 30_000;
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-api-"));

type Collector = ServedCollector;
const started: Collector[] = [];

async function collector(name: string, frames: readonly ValidFrame[], peers: string[]): Promise<Collector> {
  const parts = openParts(join(dir, `${name}.db`), nowMs);
  feedFrames(parts, frames, 300);
  const c = await serveParts(parts, { nowMs, token: TOKEN, peers });
  started.push(c);
  return c;
}

async function get<T>(c: Collector, path: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(`${c.url}${path}`, {
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
  });
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
}

type Peers = { asked: number; missing: string[] };
type Summary = {
  hosts: { total: number };
  gpus: { total: number; byState: Record<string, number> };
  flags: { open: number; byKind: Record<string, number>; gpusFlagged: number };
  utilization: { now: { busy: number; known: number }; range: Record<string, number | null> };
  peers?: Peers;
};
type Gpus = {
  total: number;
  gpus: { uuid: string; state: string; timestampMs: number; values: object }[];
  peers?: Peers;
};
type Report = {
  groups: Record<string, number | string | null>[];
  total: Record<string, number | string | null>;
  peers?: Peers;
};

function expectClose(actual: Record<string, unknown>, expected: Record<string, unknown>): void {
  expect(
    Object.keys(actual)
      .filter((k) => k !== "peers")
      .sort(),
  ).toEqual(Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) {
    if (typeof v === "number") expect(actual[k] as number, k).toBeCloseTo(v, 9);
    else expect(actual[k], k).toEqual(v);
  }
}

let first: Collector;
let second: Collector;
let whole: Collector;
const range = `from=${fleet.startMs}&to=${nowMs}`;

describe("API fan-out over peers", () => {
  beforeAll(async () => {
    const frames = [...fleet.frames(0, FRAMES)] as ValidFrame[];
    const mine = (f: ValidFrame, even: boolean) => (Number(f.host.slice(5)) % 2 === 0) === even;
    second = await collector(
      "second",
      frames.filter((f) => mine(f, false)),
      [],
    );
    first = await collector(
      "first",
      frames.filter((f) => mine(f, true)),
      [second.url],
    );
    whole = await collector("whole", frames, []);
  }, 60_000);

  afterAll(() => stopAll(started, dir));

  it("splits the fleet: neither collector alone holds it", async () => {
    const local = await get<Gpus>(first, "/api/v1/gpus", { "x-gputel-fanout": "1" });
    expect(local.total).toBe((HOSTS / 2) * GPUS);
    expect(local.peers).toBeUndefined(); // a peer's request is answered locally: no loops
  });

  it("merges the summary: counts, states, flags and range usage as one collector holding every frame", async () => {
    const merged = await get<Summary>(first, `/api/v1/summary?${range}`);
    const one = await get<Summary>(whole, `/api/v1/summary?${range}`);
    expect(merged.peers).toEqual({ asked: 1, missing: [], errors: [] });
    expect(merged.gpus).toEqual(one.gpus);
    expect(merged.gpus.total).toBe(HOSTS * GPUS);
    expect(merged.hosts.total).toBe(one.hosts.total);
    expect(one.flags.open).toBeGreaterThan(0);
    expect(merged.flags).toEqual(one.flags);
    expect(merged.utilization.now).toEqual(one.utilization.now);
    expect(one.utilization.range.busyHours).toBeGreaterThan(0);
    expectClose(merged.utilization.range, one.utilization.range);
  });

  it("merges the GPU list", async () => {
    const merged = await get<Gpus>(first, "/api/v1/gpus");
    const one = await get<Gpus>(whole, "/api/v1/gpus");
    const essence = (g: Gpus["gpus"][number]) => ({
      uuid: g.uuid,
      state: g.state,
      t: g.timestampMs,
      values: g.values,
    });
    expect(merged.total).toBe(one.total);
    expect(merged.gpus.map(essence)).toEqual(one.gpus.map(essence));
    expect(merged.peers).toEqual({ asked: 1, missing: [], errors: [] });
  });

  it("merges the GPU list with a limit: the first rows one collector lists, and a total of the whole fleet", async () => {
    const merged = await get<Gpus & { truncated: boolean }>(first, "/api/v1/gpus?limit=5");
    const one = await get<Gpus & { truncated: boolean }>(whole, "/api/v1/gpus?limit=5");
    expect(merged.gpus.map((g) => g.uuid)).toEqual(one.gpus.map((g) => g.uuid));
    expect(merged.total).toBe(HOSTS * GPUS);
    expect(merged.truncated).toBe(true);
  });

  it("counts a GPU that several collectors hold once in a limited list's total", async () => {
    // `whole` holds every host, `second` the odd ones: half the GPUs are on both.
    const front = await collector("front-of-overlap", [], [whole.url, second.url]);
    const merged = await get<Gpus & { truncated: boolean }>(front, "/api/v1/gpus?limit=5");
    const one = await get<Gpus & { truncated: boolean }>(whole, "/api/v1/gpus?limit=5");
    expect(merged.gpus.map((g) => g.uuid)).toEqual(one.gpus.map((g) => g.uuid));
    expect(merged.total).toBe(HOSTS * GPUS);
    expect(merged.peers?.missing).toEqual([]);
  });

  it("merges the open flags", async () => {
    type Flags = { flags: { kind: string; gpuUuid: string | null; startMs: number }[]; peers?: Peers };
    const merged = await get<Flags>(first, "/api/v1/flags");
    const one = await get<Flags>(whole, "/api/v1/flags");
    const key = (f: Flags["flags"][number]) => `${f.kind} ${f.gpuUuid} ${f.startMs}`;
    expect(merged.flags.map(key).sort()).toEqual(one.flags.map(key).sort());
    expect(merged.peers?.missing).toEqual([]);
  });

  it("merges the utilization and energy reports by host", async () => {
    for (const kind of ["utilization", "energy"]) {
      const merged = await get<Report>(first, `/api/v1/reports/${kind}?${range}&by=host`);
      const one = await get<Report>(whole, `/api/v1/reports/${kind}?${range}&by=host`);
      expect(merged.peers?.missing).toEqual([]);
      expect(merged.groups.map((g) => g.key)).toEqual(one.groups.map((g) => g.key));
      expect(merged.groups).toHaveLength(HOSTS);
      merged.groups.forEach((g, i) => {
        expectClose(g, one.groups[i] as Record<string, unknown>);
      });
      expectClose(merged.total, one.total);
    }
  });

  it("merges the thermal, capacity and downtime reports too (no more local-only answers)", async () => {
    for (const kind of ["thermal", "capacity", "downtime"]) {
      const merged = await get<Report & { fanout?: string }>(first, `/api/v1/reports/${kind}?${range}`);
      const one = await get<Report>(whole, `/api/v1/reports/${kind}?${range}`);
      expect(merged.fanout, kind).toBeUndefined();
      expect(merged.peers, kind).toEqual({ asked: 1, missing: [], errors: [] });
      expect(merged.total.gpus, kind).toBe(one.total.gpus);
      expect(merged.total.gpus, kind).toBe(HOSTS * GPUS);
    }
  });

  it("names a peer that is down and still answers with the others", async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const partial = await collector("partial", [], [second.url, dead]);
    const summary = await get<Summary>(partial, `/api/v1/summary?${range}`);
    expect(summary.peers?.asked).toBe(2);
    expect(summary.peers?.missing).toEqual([dead]);
    expect(summary.gpus.total).toBe((HOSTS / 2) * GPUS);
    const gpus = await get<Gpus>(partial, "/api/v1/gpus");
    expect(gpus.peers?.missing).toEqual([dead]);
    expect(gpus.total).toBe((HOSTS / 2) * GPUS);
    const report = await get<Report>(partial, `/api/v1/reports/utilization?${range}&by=host`);
    expect(report.peers?.missing).toEqual([dead]);
    expect(report.groups).toHaveLength(HOSTS / 2);
  });

  it("names a peer whose answers are not a collector's, and still answers with the others", async () => {
    // Another program on a peer's port: JSON, but not what a collector answers.
    const bodies = ['{"status":"ok"}', '{"gpus":[null],"hosts":[{}],"flags":[1],"stretches":[],"parts":"x"}'];
    const servers = bodies.map((body) =>
      createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body)),
    );
    const urls: string[] = [];
    for (const s of servers) {
      await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
      urls.push(`http://127.0.0.1:${(s.address() as AddressInfo).port}`);
    }
    try {
      const front = await collector("front-of-strangers", [], [second.url, ...urls]);
      for (const path of [
        `/api/v1/summary?${range}`,
        "/api/v1/gpus",
        "/api/v1/flags",
        "/api/v1/fleet/cells",
        `/api/v1/reports/utilization?${range}&by=host`,
        `/api/v1/reports/thermal?${range}`,
        `/api/v1/reports/capacity?${range}`,
        `/api/v1/reports/downtime?${range}`,
        `/api/v1/reports/leases?${range}`,
      ]) {
        const answer = await get<{ peers: Peers & { errors: { error: string }[] } }>(front, path);
        expect(answer.peers.missing, path).toEqual(urls);
        for (const e of answer.peers.errors) expect(e.error, path).toMatch(/^not a gputel answer: /);
      }
      const gpus = await get<Gpus>(front, "/api/v1/gpus");
      expect(gpus.total).toBe((HOSTS / 2) * GPUS);
    } finally {
      for (const s of servers) s.close();
    }
  });

  it("serves report parts with the same auth and parameter checks as the rest", async () => {
    const part = await get<{ gpus: unknown[] }>(second, `/api/v1/fanout/report-part?${range}`);
    expect(part.gpus).toHaveLength((HOSTS / 2) * GPUS);
    expect((await fetch(`${second.url}/api/v1/fanout/report-part?${range}`)).status).toBe(401);
    const bad = await fetch(`${second.url}/api/v1/fanout/report-part?${range}&by=host`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bad.status).toBe(400);
  });
});
