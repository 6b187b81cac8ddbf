// End to end: a mock-smi scenario fleet (flags-fleet.yaml) -> two real `gputel agent` processes
// -> a collector started in-process (embedded broker, real SQLite file) -> flags and reports.
// The scenario's values are constant, so the flags and the reported utilization and energy
// follow from it; rates per host are exact, fleet totals within a frame or two of timing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCollectorConfig } from "../../collector/config.js";
import type { Flag } from "../../collector/flags/types.js";
import { energyReport, utilizationReport } from "../../collector/reports/reports.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { ROOT, type Spawned, spawnGputel } from "../helpers/cli.js";
import { freePort, waitFor } from "../helpers/net.js";

const SCENARIO = join(ROOT, "test/e2e/flags-fleet.yaml");
const HOSTS = ["e2e-a", "e2e-b"];

let dir: string;
let collector: RunningCollector;
const agents: Spawned[] = [];
let startMs: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gputel-e2e-flags-"));
  const port = await freePort();
  const loaded = loadCollectorConfig({
    env: {},
    overrides: {
      database: join(dir, "collector.db"),
      "broker.listen": `127.0.0.1:${port}`,
      "http.listen": `127.0.0.1:${await freePort()}`,
      "flags.idle.duration": "3s",
      "flags.idle.clear_after": "2s",
      "flags.overheat.raise_after": "2s",
    },
  });
  if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded)}`);
  collector = await startCollector(loaded.config, silentLogger());
  startMs = Date.now();
  HOSTS.forEach((host, i) => {
    agents.push(
      spawnGputel(
        [
          "agent",
          "--nvidia-smi",
          `${join(ROOT, "bin/gputel")} mock-smi --scenario ${SCENARIO} --host-index ${i} --`,
          "--broker",
          `mqtt://127.0.0.1:${port}`,
          "--host",
          host,
          "--site",
          i === 0 ? "fra1" : "ams2",
          "--label",
          `customer=${i === 0 ? "acme" : "beta"}`,
          "--interval",
          "200ms",
          "--state-dir",
          join(dir, `agent-${i}`),
        ],
        // A fresh TMPDIR: mock-smi keeps its scenario clock there (t = 0 at first use).
        { TMPDIR: mkdtempSync(join(dir, `tmp-${i}-`)) },
      ),
    );
  });
}, 20_000);

afterAll(async () => {
  for (const a of agents) a.child.kill("SIGTERM");
  await Promise.all(agents.map((a) => a.exited));
  await collector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function open(kind: string, host: string, index: number): Flag | undefined {
  return collector.flags.openFlags({ host }).find((f) => f.kind === kind && f.gpuIndex === index);
}

describe("mock-smi fleet -> agents -> collector", () => {
  it("raises idle, idle-held, overheat and lost on the right GPUs, and nothing on busy ones", async () => {
    const expected: [string, string, number][] = [
      ["idle", "e2e-a", 2],
      ["idle-held", "e2e-a", 3],
      ["overheat", "e2e-b", 0],
      ["lost", "e2e-b", 1],
    ];
    await waitFor(
      () => expected.every(([kind, host, index]) => open(kind, host, index) !== undefined),
      25_000,
      `flags ${JSON.stringify(expected)}; agents: ${agents.map((a) => a.output().slice(-500)).join("\n")}`,
    );
    const gpuFlags = collector.flags.openFlags().filter((f) => f.gpuUuid !== null);
    const kinds = gpuFlags.map((f) => `${f.kind} ${f.host}/${f.gpuIndex}`).sort();
    expect(kinds).toEqual(expected.map(([k, h, i]) => `${k} ${h}/${i}`).sort());
    expect(open("idle-held", "e2e-a", 3)?.values).toMatchObject({ memory_used_mib: 42000 });
  }, 30_000);

  it("reports the utilization rate and energy the scenario implies", async () => {
    // Every GPU has reported for a while (the flags test above waited for that), except perhaps
    // e2e-b's never-readable GPU: on a loaded machine the agent's first sample can come after the
    // scenario takes it off the bus (lost_at 2 s), and then it never reports a sample at all.
    await waitFor(() => collector.store.latest().length >= 5, 5_000, "the five GPUs that stay");
    const nowMs = Date.now();
    const sources = { store: collector.store, now: () => nowMs };
    const range = { fromMs: startMs, toMs: nowMs, groupBy: "host" as const };
    const u = utilizationReport(sources, range);
    const a = u.groups.find((g) => g.key === "e2e-a");
    const b = u.groups.find((g) => g.key === "e2e-b");
    if (!a || !b) throw new Error(`groups: ${JSON.stringify(u.groups)}`);
    expect([a.gpus, b.gpus, u.total.gpus]).toEqual([4, 2, 6]);
    // Host a: 2 of 4 busy, one idle, one idle-held, nothing unknown while it reports.
    expect(a.utilizationRate).toBeCloseTo(0.5, 9);
    expect(a.idleGpuHours).toBeCloseTo(a.busyGpuHours / 2, 9);
    expect(a.idleHeldGpuHours).toBeCloseTo(a.busyGpuHours / 2, 9);
    // Unknown only at start-up: an idle GPU with little memory is idle or idle-held by its
    // processes, unknown until the first compute-process poll answers (seconds, more under load).
    expect(a.unknownReportedGpuHours * 3600).toBeLessThan(4 * 10);
    // Host b: the hot GPU is busy; the other is unknown all along (never idle nor busy).
    expect(b.utilizationRate).toBe(1);
    expect(b.idleGpuHours + b.idleHeldGpuHours).toBe(0);
    expect(b.unknownReportedGpuHours).toBeCloseTo(b.busyGpuHours, 2);
    // Fleet: the two hosts' known time together (busy GPUs / known GPUs = 3 / 5 when both agents
    // reported equally long; they start seconds apart, more on a loaded machine).
    const known = (g: typeof a) => g.busyGpuHours + g.idleGpuHours + g.idleHeldGpuHours;
    expect(u.total.utilizationRate).toBeCloseTo((a.busyGpuHours + b.busyGpuHours) / (known(a) + known(b)), 9);
    expect(u.total.utilizationRate).toBeGreaterThan(0.5);
    expect(u.total.utilizationRate).toBeLessThan(0.7);
    // Time nobody reported: from each GPU's first sighting (its inventory) to its first sample
    // (agent start-up), and from the last frame to now; seconds, not the whole window.
    expect(u.total.noDataGpuHours * 3600).toBeLessThan(6 * 3);

    // Energy = sum of power x time: host a's GPUs each ran for busyGpuHours / 2.
    const e = energyReport(sources, range);
    const ea = e.groups.find((g) => g.key === "e2e-a");
    const eb = e.groups.find((g) => g.key === "e2e-b");
    const hoursA = a.busyGpuHours / 2;
    expect(ea?.energyKwh).toBeCloseTo(((500 + 500 + 70 + 90) * hoursA) / 1000, 9);
    expect(ea?.idleEnergyKwh).toBeCloseTo(((70 + 90) * hoursA) / 1000, 9);
    expect(ea?.wastedShare).toBeCloseTo(160 / 1160, 9);
    expect(eb?.energyKwh).toBeCloseTo((350 * b.busyGpuHours) / 1000, 9);
  }, 15_000);
});
