// Two collectors sharing one MQTT 5 subscription on a real Mosquitto (which round-robins, so
// each stores part of every agent's frames) and a third with a plain subscription that sees
// everything. 20 real agents (agent/run.ts startAgent, each with a `gputel mock-smi` child as
// its nvidia-smi) publish through the broker. Every frame is stored exactly once across the
// two, and the fan-out merge of their answers equals the single collector's.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAgentConfig } from "../../agent/config.js";
import { type RunningAgent, startAgent } from "../../agent/run.js";
import { run as runQuery } from "../../cli/query/cli.js";
import type { ReportPart } from "../../collector/contract/api-contract.js";
import { FANOUT_HEADER, fanOut, settle } from "../../collector/fanout/fan-out.js";
import { reportPart } from "../../collector/fanout/report-part.js";
import { mergeGpuLists } from "../../collector/merge/merge-lists.js";
import { mergeReportParts } from "../../collector/merge/merge-report.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import type { GroupBy } from "../../collector/usage/placement.js";
import { silentLogger } from "../../shared/logger.js";
import { assertBuilt, ROOT } from "../helpers/cli.js";
import { type Mosquitto, mosquittoAvailable, startMosquitto } from "../helpers/mosquitto.js";
import { waitFor } from "../helpers/net.js";
import { collectorConfig, tempDir } from "./helpers.js";

const available = mosquittoAvailable();
const AGENTS = 20;
const FRAMES_PER_AGENT = 8;
const SCENARIO = join(ROOT, "test/scale/fleet-20.yaml");

/** Stored sequence numbers per "host boot" key, from frame_seen's "lo-hi,…" ranges. */
function storedFrames(c: RunningCollector): Map<string, Set<number>> {
  const rows = c.store.db
    .prepare(
      "SELECT h.name AS host, f.boot_id AS boot, f.ranges FROM frame_seen f JOIN hosts h ON h.id = f.host_id",
    )
    .all() as { host: string; boot: string; ranges: string }[];
  const out = new Map<string, Set<number>>();
  for (const r of rows) {
    const seqs = new Set<number>();
    for (const range of r.ranges.split(",").filter(Boolean)) {
      const [lo, hi] = range.split("-").map(Number) as [number, number | undefined];
      for (let s = lo; s <= (hi ?? lo); s++) seqs.add(s);
    }
    out.set(`${r.host} ${r.boot}`, seqs);
  }
  return out;
}

const apiUrl = (c: RunningCollector) => `http://127.0.0.1:${c.httpPort}`;

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return (await response.json()) as T;
}

/** `gputel query … --json` in-process; its parsed output. */
async function query<T>(args: string[]): Promise<T> {
  let stdout = "";
  let stderr = "";
  const code = await runQuery([...args, "--json"], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
    isTTY: false,
  });
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as T;
}

describe.skipIf(!available)("shared subscription: two collectors behind one Mosquitto", () => {
  let broker: Mosquitto;
  const collectors: RunningCollector[] = [];
  const agents: RunningAgent[] = [];
  const dirs: { remove(): Promise<void> }[] = [];
  let shared: [RunningCollector, RunningCollector];
  let single: RunningCollector;

  beforeAll(async () => {
    assertBuilt();
    broker = await startMosquitto({ extraConfig: ["max_queued_messages 100000"] });
    const dir = await tempDir("gputel-share-");
    dirs.push(dir);
    const collector = async (name: string, shareGroup?: string, peers: string[] = []) => {
      const c = await startCollector(
        collectorConfig({
          database: join(dir.dir, `${name}.db`),
          "broker.url": broker.url,
          "broker.mode": "external",
          "broker.client_id": `gputel-${name}`,
          "http.peers": peers,
          ...(shareGroup ? { "broker.share_group": shareGroup } : {}),
        }),
        silentLogger(),
      );
      collectors.push(c);
      return c;
    };
    // A answers for the pair (http.peers: B); the merge-equality case below asks it.
    const b = await collector("b", "fleet");
    shared = [await collector("a", "fleet", [apiUrl(b)]), b];
    single = await collector("single");
    // Started together: one after another, twenty mock-smi start-ups took about 55 s on 2 cores,
    // and past the hook's deadline on a loaded machine.
    const starting = Array.from({ length: AGENTS }, (_, i) => {
      const host = `node-${String(i).padStart(2, "0")}`;
      const loaded = loadAgentConfig({
        env: {},
        touchFiles: false,
        overrides: {
          host,
          site: i < 10 ? "fra1" : "ams2",
          "labels.customer": i % 3 === 0 ? "acme" : "globex",
          interval: "500ms",
          nvidia_smi: `${process.execPath} ${ROOT}bin/gputel mock-smi --scenario ${SCENARIO} --host-index ${i} --`,
          state_directory: join(dir.dir, host),
          "broker.url": broker.url,
          log_level: "silent",
        },
      });
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
      return startAgent(loaded.config, silentLogger());
    });
    const settled = await Promise.allSettled(starting);
    // Every agent that started is stopped in afterAll, also when another failed.
    for (const started of settled) if (started.status === "fulfilled") agents.push(started.value);
    const failed = settled.find((started) => started.status === "rejected");
    if (failed) throw failed.reason;
  }, 120_000);

  afterAll(async () => {
    for (const a of agents.splice(0)) await a.stop();
    for (const c of collectors.splice(0)) await c.stop();
    await broker?.stop();
    for (const d of dirs) await d.remove();
  });

  it("stores every frame exactly once across the two, and the fan-out answers equal one collector's", async () => {
    await waitFor(
      () => single.store.frameCount() >= AGENTS * FRAMES_PER_AGENT,
      90_000,
      `${AGENTS * FRAMES_PER_AGENT} frames at the single collector (${single.store.frameCount()})`,
    );
    for (const a of agents.splice(0)) await a.stop();

    // Everything published has reached all three once the shared pair holds what the single one holds.
    const union = () => {
      const out = new Map<string, Set<number>>();
      for (const c of shared) {
        for (const [key, seqs] of storedFrames(c)) out.set(key, new Set([...(out.get(key) ?? []), ...seqs]));
      }
      return out;
    };
    await waitFor(
      () => {
        const all = storedFrames(single);
        const u = union();
        return all.size === AGENTS && [...all].every(([k, s]) => u.get(k)?.size === s.size);
      },
      30_000,
      "the shared pair to hold every frame",
    );
    const [a, b] = shared.map(storedFrames) as [Map<string, Set<number>>, Map<string, Set<number>>];
    let total = 0;
    for (const [key, seqs] of storedFrames(single)) {
      const inA = a.get(key) ?? new Set<number>();
      const inB = b.get(key) ?? new Set<number>();
      expect(
        [...inA].filter((s) => inB.has(s)),
        `${key}: stored twice`,
      ).toEqual([]);
      expect(new Set([...inA, ...inB]), `${key}: missing`).toEqual(seqs);
      total += seqs.size;
    }
    expect(shared[0].store.frameCount() + shared[1].store.frameCount()).toBe(total);
    // The broker did split the frames (round robin): both members stored a good share.
    for (const c of shared) expect(c.store.frameCount()).toBeGreaterThan(total / 4);

    // Latest values and fleet counts: merged lists equal the single collector's.
    const merged = mergeGpuLists(shared.map((c) => c.store.latest()));
    const one = mergeGpuLists([single.store.latest()]);
    expect(merged.map((g) => [g.uuid, g.host, g.model, g.timestampMs, g.values])).toEqual(
      one.map((g) => [g.uuid, g.host, g.model, g.timestampMs, g.values]),
    );
    expect(merged).toHaveLength(AGENTS * 2);
    // GPUs, hosts and GPUs per state, counted from each list (the summary's counts: merge/summary.ts).
    const counts = (list: typeof merged) => ({
      gpus: list.length,
      hosts: new Set(list.map((g) => g.host)).size,
      byState: list.reduce<Record<string, number>>((n, g) => {
        n[g.state ?? "unknown"] = (n[g.state ?? "unknown"] ?? 0) + 1;
        return n;
      }, {}),
    });
    expect(counts(merged)).toEqual(counts(one));

    // Reports: per-GPU integer shares added up, then grouped, as store.aggregate groups one store.
    const fromMs = Date.now() - 3600_000;
    const toMs = Date.now() + 120_000;
    const parts = shared.map((c) => reportPart(c.store, fromMs, toMs));
    const groupings: GroupBy[] = ["site", "host", "model", "gpu", { label: "customer" }];
    for (const by of groupings) {
      const fan = mergeReportParts(parts, by);
      const want = single.store.aggregate({ fromMs, toMs, groupBy: by });
      expect(
        fan.map((g) => g.key),
        JSON.stringify(by),
      ).toEqual(want.map((g) => g.key));
      for (const [i, g] of fan.entries()) {
        const w = want[i];
        if (!w) throw new Error("missing group");
        const { energyWh, energyIdleWh, avgUtilizationPct, ...exact } = g;
        expect(exact).toEqual({
          key: w.key,
          gpus: w.gpus,
          busyMs: w.busyMs,
          idleMs: w.idleMs,
          idleHeldMs: w.idleHeldMs,
          unknownMs: w.unknownMs,
          maxTemperatureC: w.maxTemperatureC,
        });
        // Energy and averages: both summed in integers (collector/usage/usage-sums.ts).
        expect(energyWh).toBeCloseTo(w.energyWh, 9);
        expect(energyIdleWh).toBeCloseTo(w.energyIdleWh, 9);
        expect(avgUtilizationPct).toBeCloseTo(w.avgUtilizationPct as number, 9);
      }
    }
    const fleet = mergeReportParts(parts, "site");
    expect(fleet.reduce((n, g) => n + g.busyMs, 0)).toBeGreaterThan(0);
    expect(fleet.reduce((n, g) => n + g.idleMs, 0)).toBeGreaterThan(0);

    // The same shares through fanOut over HTTP (a stand-in for the API's part endpoint), one
    // peer down: its absence is reported, not hidden.
    const servers: Server[] = [];
    const headers: (string | undefined)[] = [];
    try {
      const urls: string[] = [];
      for (const part of parts) {
        const server = createServer((req, res) => {
          headers.push(`${req.headers[FANOUT_HEADER]} ${req.headers.authorization}`);
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(part));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        servers.push(server);
        urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      }
      const answers = await fanOut<ReportPart>(
        [...urls, "http://127.0.0.1:9"],
        "/api/v1/reports/part",
        { from: String(fromMs), to: String(toMs) },
        "s3cret",
      );
      const { data, missing } = settle(answers);
      expect(missing.map((m) => m.peer)).toEqual(["http://127.0.0.1:9"]);
      expect(headers).toEqual(["1 Bearer s3cret", "1 Bearer s3cret"]);
      expect(mergeReportParts(data, "site")).toEqual(fleet);
    } finally {
      for (const s of servers) await new Promise((resolve) => s.close(resolve));
    }
  }, 150_000);

  it("gives one summary and one usage report through gputel query --url a,b, http.peers and the single collector", async () => {
    // Runs after the test above: the agents are stopped and every frame is stored. Flags and
    // "busy now" are left out here: each collector's stale timer runs on the wall clock once the
    // agents stop (test/scale/round-robin-merge.test.ts compares them on a fixed clock).
    const [a, b] = shared;
    expect(single.store.frameCount()).toBeGreaterThanOrEqual(AGENTS * FRAMES_PER_AGENT);
    const until = Date.now() - (Date.now() % 60_000) + 60_000;
    const since = until - 3_600_000;
    const span = `from=${since}&to=${until}`;
    type Summary = {
      hosts: { total: number; byStatus: Record<string, number> };
      gpus: unknown;
      utilization: { range: Record<string, number | null> };
    };
    const one = await getJson<Summary>(`${apiUrl(single)}/api/v1/summary?${span}`);
    const fan = await getJson<Summary>(`${apiUrl(a)}/api/v1/summary?${span}`);
    const cli = await query<Summary>([
      "summary",
      "--url",
      `${apiUrl(a)},${apiUrl(b)}`,
      "--since",
      `${since}`,
      "--until",
      `${until}`,
    ]);
    expect(one.hosts.total).toBe(AGENTS);
    for (const merged of [fan, cli]) {
      expect(merged.gpus).toEqual(one.gpus);
      expect(merged.hosts).toEqual(one.hosts);
      for (const [k, v] of Object.entries(one.utilization.range))
        if (typeof v === "number") expect(merged.utilization.range[k], k).toBeCloseTo(v, 9);
    }
    type Report = { groups: { key: string; gpus: number; busyGpuHours: number; idleGpuHours: number }[] };
    const oneReport = await getJson<Report>(`${apiUrl(single)}/api/v1/reports/utilization?${span}&by=host`);
    const fanReport = await getJson<Report>(`${apiUrl(a)}/api/v1/reports/utilization?${span}&by=host`);
    const cliReport = await query<Report>([
      "report",
      "utilization",
      "--url",
      `${apiUrl(a)},${apiUrl(b)}`,
      "--since",
      `${since}`,
      "--until",
      `${until}`,
      "--by",
      "host",
    ]);
    expect(oneReport.groups).toHaveLength(AGENTS);
    for (const merged of [fanReport, cliReport]) {
      expect(merged.groups.map((g) => [g.key, g.gpus])).toEqual(oneReport.groups.map((g) => [g.key, g.gpus]));
      merged.groups.forEach((g, i) => {
        expect(g.busyGpuHours).toBeCloseTo(oneReport.groups[i]?.busyGpuHours as number, 9);
        expect(g.idleGpuHours).toBeCloseTo(oneReport.groups[i]?.idleGpuHours as number, 9);
      });
    }
  }, 60_000);
});
