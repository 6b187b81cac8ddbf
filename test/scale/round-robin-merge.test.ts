// One fleet split round robin over two collectors, as Mosquitto's shared subscriptions split it:
// every host's frames (and so every GPU's samples) alternate between collector A and collector B,
// and each host's status message reaches one of them. A third collector holds everything. The
// summary, the open flags and the fleet reports must be the same three ways:
// through `gputel query --url a,b`, through A's API with B as its http.peers, and from the whole.
// (test/scale/shared-subscription.test.ts runs the real broker; here the stores are written
// directly, as test/scale/fanout-api.test.ts does, so the split is exact and the test fast.)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SynthFleet } from "../../bench/synth-fleet.js";
import { type ApiServer, createApiServer } from "../../collector/api/server.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import { resolveFlagsConfig } from "../../collector/flags/config.js";
import { FlagEngine } from "../../collector/flags/engine.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { Store } from "../../collector/store/store.js";
import { silentLogger } from "../../shared/logger.js";
import { AgentState } from "../../shared/proto.js";
import { expectSame, queryJson } from "./fanout-helpers.js";

const TOKEN = "round-robin-token";
const HOSTS = 6;
const GPUS = 4;
const FRAMES = 720; // 2 h at 10 s
const fleet = new SynthFleet({ hosts: HOSTS, gpusPerHost: GPUS, intervalMs: 10_000, seed: 11 });
const nowMs = fleet.startMs + FRAMES * 10_000 + 30_000;
const dir = mkdtempSync(join(tmpdir(), "gputel-round-robin-"));

interface Collector {
  store: Store;
  flags: FlagEngine;
  servers: ApiServer[];
}
const started: Collector[] = [];

function collector(name: string, frames: readonly ValidFrame[], statusHosts: readonly number[]): Collector {
  const store = Store.open(join(dir, `${name}.db`), { now: () => nowMs });
  const flags = new FlagEngine({
    store: new FlagStore(store.db),
    config: resolveFlagsConfig(),
    now: () => nowMs,
  });
  flags.start();
  for (const h of statusHosts) {
    // The agent's "online" status, retained and sent once: under round robin one collector gets it.
    store.writeStatus(
      {
        host: fleet.hostName(h),
        state: AgentState.AGENT_STATE_ONLINE,
        timestamp_ms: fleet.startMs + h,
        boot_id: `boot-${h}`,
        agent_version: "0.1.0",
        interval_ms: 10_000,
      },
      fleet.startMs + h,
    );
  }
  for (let i = 0; i < frames.length; i += 240) {
    const batch = frames.slice(i, i + 240);
    const at = (batch[batch.length - 1] as ValidFrame).timestamp_ms;
    store.writeFrames(batch, at);
    flags.onFrames(batch, at);
  }
  const c = { store, flags, servers: [] };
  started.push(c);
  return c;
}

async function serve(c: Collector, peers: string[] = []): Promise<string> {
  const server = createApiServer({
    backend: new StoreBackend({ store: c.store, flags: c.flags, now: () => nowMs }),
    listen: { host: "127.0.0.1", port: 0 },
    token: TOKEN,
    logger: silentLogger(),
    peers,
  });
  const { port } = await server.start();
  c.servers.push(server);
  return `http://127.0.0.1:${port}`;
}

async function get<T>(url: string, path: string): Promise<T> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
}

const query = <T>(args: string[]) => queryJson<T>(args, TOKEN);

type Summary = {
  hosts: { total: number; byStatus: Record<string, number> };
  gpus: { total: number; byState: Record<string, number> };
  flags: { open: number; byKind: Record<string, number>; gpusFlagged: number };
  utilization: {
    now: { busy: number; known: number; rate: number | null };
    range: Record<string, number | null>;
  };
};
type Flag = {
  kind: string;
  host: string;
  gpuUuid: string | null;
  startMs: number;
  endMs: number | null;
  durationMs: number;
};
type Report = { groups: Record<string, unknown>[]; total: Record<string, unknown> };

const counted = (s: Summary & { generatedMs?: number; peers?: unknown }) => ({
  hosts: s.hosts,
  gpus: s.gpus,
  flags: s.flags,
  utilization: s.utilization,
});
const episodes = (flags: readonly Flag[]) =>
  flags
    .map((f) => `${f.kind} ${f.host} ${f.gpuUuid ?? "-"} ${f.startMs} ${f.endMs ?? "open"} ${f.durationMs}`)
    .sort();

let aUrl: string; // collector A, answering from its own store
let bUrl: string; // collector B
let fanUrl: string; // collector A with B as its peer
let wholeUrl: string; // one collector holding every frame
const from = fleet.startMs;
const range = `from=${from}&to=${nowMs}`;

describe("a fleet split round robin over two collectors", () => {
  beforeAll(async () => {
    const frames: ValidFrame[] = [];
    const parts: [ValidFrame[], ValidFrame[]] = [[], []];
    for (let k = 0; k < FRAMES; k++) {
      for (let h = 0; h < HOSTS; h++) {
        const f = fleet.frame(h, k) as ValidFrame;
        frames.push(f);
        // Host h's frames alternate, starting on a different collector for odd hosts.
        parts[(k + h) % 2]?.push(f);
      }
    }
    const hosts = [...Array(HOSTS).keys()];
    const a = collector(
      "a",
      parts[0],
      hosts.filter((h) => h % 2 === 0),
    );
    const b = collector(
      "b",
      parts[1],
      hosts.filter((h) => h % 2 === 1),
    );
    const whole = collector("whole", frames, hosts);
    aUrl = await serve(a);
    bUrl = await serve(b);
    fanUrl = await serve(a, [bUrl]);
    wholeUrl = await serve(whole);
  }, 60_000);

  afterAll(async () => {
    for (const c of started) {
      for (const s of c.servers) await s.stop();
      c.flags.stop();
      c.store.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("is split: each collector holds part of every GPU and knows every host", async () => {
    for (const url of [aUrl, bUrl]) {
      const { gpus } = await get<{ gpus: { uuid: string }[] }>(url, "/api/v1/gpus");
      expect(gpus).toHaveLength(HOSTS * GPUS);
      const part = await get<{ gpus: { samples: number }[] }>(url, `/api/v1/fanout/report-part?${range}`);
      expect(part.gpus).toHaveLength(HOSTS * GPUS);
      for (const g of part.gpus) expect(g.samples).toBe(FRAMES / 2);
    }
  });

  it("gives one summary: through the CLI, through http.peers and from the whole", async () => {
    const whole = await get<Summary>(wholeUrl, `/api/v1/summary?${range}`);
    expect(whole.gpus.total).toBe(HOSTS * GPUS);
    expect(whole.hosts).toEqual({ total: HOSTS, byStatus: { online: HOSTS } });
    expect(whole.flags.open).toBeGreaterThan(0);
    expect(whole.utilization.now.known).toBeGreaterThan(0);
    expect(whole.utilization.range.busyHours).toBeGreaterThan(0);
    const fan = await get<Summary>(fanUrl, `/api/v1/summary?${range}`);
    const cli = await query<Summary>([
      "summary",
      "--url",
      `${aUrl},${bUrl}`,
      "--since",
      `${from}`,
      "--until",
      `${nowMs}`,
    ]);
    expectSame(counted(fan), counted(whole), "http.peers");
    expectSame(counted(cli), counted(whole), "gputel query");
  });

  it("gives the same open flags three ways", async () => {
    const whole = await get<{ flags: Flag[] }>(wholeUrl, "/api/v1/flags");
    expect(whole.flags.length).toBeGreaterThan(0);
    const fan = await get<{ flags: Flag[] }>(fanUrl, "/api/v1/flags");
    const cli = await query<{ flags: Flag[] }>(["flags", "--url", `${aUrl},${bUrl}`]);
    expect(episodes(fan.flags)).toEqual(episodes(whole.flags));
    expect(episodes(cli.flags)).toEqual(episodes(whole.flags));
  });

  it("gives the same fleet reports three ways", async () => {
    // Every GPU's stretch is split between A and B here. This fleet neither overheats nor goes
    // down: thermal and downtime compare GPUs, the hottest list and availability.
    for (const kind of ["utilization", "energy", "capacity", "thermal", "downtime"]) {
      for (const by of ["host", "site"]) {
        const path = `/api/v1/reports/${kind}?${range}&by=${by}`;
        const whole = await get<Report>(wholeUrl, path);
        expect(whole.groups.length).toBeGreaterThan(0);
        const { peers: _, ...fan } = await get<Report & { peers: unknown }>(fanUrl, path);
        const cli = await query<Report>([
          "report",
          kind,
          "--url",
          `${aUrl},${bUrl}`,
          "--since",
          `${from}`,
          "--until",
          `${nowMs}`,
          "--by",
          by,
        ]);
        expectSame(fan, whole, `http.peers ${kind} by ${by}`);
        expectSame(cli, whole, `gputel query ${kind} by ${by}`);
      }
    }
  });
});
