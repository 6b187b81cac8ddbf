// Kill test: a collector child (external mode, real Store on a real SQLite file) is SIGKILLed while
// agents publish through Mosquitto, then restarted. Every frame Mosquitto acknowledged to the agents
// must end up in the database exactly once (delayed PUBACK + persistent session + idempotent store).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { Store } from "../../../collector/store/store.js";
import { encodeFrameBatch } from "../../../shared/codec.js";
import { type Mosquitto, mosquittoAvailable, startMosquitto } from "../../helpers/mosquitto.js";
import { waitFor } from "../../helpers/net.js";
import { frameTopic, gpuSample, makeFrame } from "./frames.js";

const available = mosquittoAvailable();
const VITE_NODE = join(process.cwd(), "node_modules", "vite-node", "vite-node.mjs");
const CHILD = join(process.cwd(), "test", "collector", "ingest", "collector-child.ts");
const HOSTS = ["kill-a", "kill-b", "kill-c"];
const FRAMES_PER_HOST = 300;
const BASE_MS = Date.now() - 3600_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Child {
  process: ChildProcess;
  committed: number;
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function startChild(db: string, url: string): Child {
  const child = spawn(process.execPath, [VITE_NODE, CHILD, "--", db, url], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const state: Child = {
    process: child,
    committed: 0,
    ready: Promise.resolve(),
    exited: Promise.resolve(null),
  };
  state.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  state.ready = new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`collector child exited early (${code})`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line === "READY") resolve();
      const match = /^COMMITTED (\d+)$/.exec(line);
      if (match) state.committed = Number(match[1]);
    });
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await state.exited;
  });
  return state;
}

/** Publishes frames 1..n for a host, a few in flight at a time; returns the seqs Mosquitto acknowledged. */
async function runAgent(url: string, host: string, acked: Set<number>): Promise<void> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `agent-${host}` });
  cleanups.push(() => client.endAsync(true));
  const window = 10;
  for (let from = 1; from <= FRAMES_PER_HOST; from += window) {
    const seqs = Array.from({ length: Math.min(window, FRAMES_PER_HOST - from + 1) }, (_, i) => from + i);
    await Promise.all(
      seqs.map(async (seq) => {
        const gpus = [0, 1].map((i) =>
          gpuSample(i, { uuid: `GPU-${host}-${i}`, utilization_gpu_pct: (seq * (i + 1)) % 100 }),
        );
        const frame = makeFrame(host, seq, { timestampMs: BASE_MS + seq * 1000, overrides: { gpus } });
        await client.publishAsync(frameTopic(host), Buffer.from(encodeFrameBatch([frame])), { qos: 1 });
        acked.add(seq);
      }),
    );
  }
}

describe.skipIf(!available)("kill test (external broker, SIGKILL mid-stream)", () => {
  it("loses no acknowledged frame and stores each exactly once", { timeout: 90_000 }, async () => {
    const broker: Mosquitto = await startMosquitto({ extraConfig: ["max_queued_messages 100000"] });
    cleanups.push(() => broker.stop());
    const dir = await mkdtemp(join(tmpdir(), "gputel-kill-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const db = join(dir, "gputel.db");

    const first = startChild(db, broker.url);
    await first.ready;
    const acked = new Map(HOSTS.map((h) => [h, new Set<number>()]));
    const agents = Promise.all(HOSTS.map((h) => runAgent(broker.url, h, acked.get(h)!)));

    await waitFor(() => first.committed >= 150, 30_000, "first commits");
    const ackedAtKill = [...acked.values()].reduce((n, set) => n + set.size, 0);
    first.process.kill("SIGKILL");
    await first.exited;
    const committedBeforeKill = first.committed;

    const second = startChild(db, broker.url);
    await second.ready;
    await agents;
    const total = HOSTS.length * FRAMES_PER_HOST;
    for (const h of HOSTS) expect(acked.get(h)?.size).toBe(FRAMES_PER_HOST);
    await waitFor(
      () => committedBeforeKill + second.committed >= total,
      30_000,
      "all frames committed after restart",
    );
    second.process.kill("SIGTERM");
    expect(await second.exited).toBe(0);

    // Rollup deltas live in memory (rebuilt from raw_recent at open) until a GPU's window is sealed.
    const store = Store.open(db);
    store.sealAll();
    const sqlite = store.db;
    try {
      for (const host of HOSTS) {
        const seen = sqlite
          .prepare(
            "SELECT ranges FROM frame_seen JOIN hosts ON hosts.id = frame_seen.host_id WHERE hosts.name = ?",
          )
          .all(host) as { ranges: string }[];
        expect(seen.map((r) => r.ranges)).toEqual([`1-${FRAMES_PER_HOST}`]);
        // The 1-minute rollups count every stored sample (a duplicate would count twice) and sum
        // utilization (so each sample's own value is in there once).
        for (const gpu of [0, 1]) {
          const rollup = sqlite
            .prepare(
              `SELECT sum(r.samples) AS samples, sum(r.util_sum) AS util FROM rollups r
               JOIN gpus g ON g.id = r.gpu_id WHERE r.step_ms = 60000 AND g.uuid = ?`,
            )
            .get(`GPU-${host}-${gpu}`) as { samples: number; util: number };
          let util = 0;
          for (let seq = 1; seq <= FRAMES_PER_HOST; seq++) util += (seq * (gpu + 1)) % 100;
          expect(rollup).toEqual({ samples: FRAMES_PER_HOST, util });
        }
      }
    } finally {
      store.close();
    }
    // Killed mid-stream: the agents were still publishing and the collector had not seen everything.
    expect(committedBeforeKill).toBeLessThan(total);
    expect(ackedAtKill).toBeLessThan(total);
  });
});
