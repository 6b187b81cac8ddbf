// Soak test with fault injection (issue 7): `npm run soak -- --minutes N [--agents 50] [--interval 2s]`.
// Mosquitto (persistence on) + a `gputel collector` child in external mode + N agents
// (`gputel agent` children, each with `gputel mock-smi --scenario` cloned from scenarios/soak.yaml),
// faults injected on a schedule scaled to N minutes (test/reliability/harness/soak-fleet.ts), then
// the agents' "Frame sampled" log lines are compared with the database. Progress goes to stderr;
// stdout gets ONE JSON line. Exit 1 when a frame is missing that the spool bound did not drop.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../test/helpers/net.js";
import { AgentProc, GPUTEL } from "../test/reliability/harness/agent-proc.js";
import {
  auditAgent,
  readSeen,
  rollupSamplesPerHost,
  storedCount,
} from "../test/reliability/harness/audit.js";
import { BrokerProc } from "../test/reliability/harness/broker-proc.js";
import { CollectorProc } from "../test/reliability/harness/collector-proc.js";
import { type Fault, faultSchedule, writeAgentScenarios } from "../test/reliability/harness/soak-fleet.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    minutes: { type: "string", default: "10" },
    agents: { type: "string", default: "50" },
    interval: { type: "string", default: "2s" },
    keep: { type: "boolean", default: false },
  },
});
const minutes = Number(values.minutes);
const agentCount = Number(values.agents);
const started = Date.now();
const say = (msg: string) =>
  process.stderr.write(`[soak +${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until check() or the deadline; returns whether check() became true. */
async function until(check: () => boolean, timeoutMs: number, everyMs = 1000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(everyMs);
  }
  return check();
}

const dir = mkdtempSync(join(tmpdir(), "gputel-soak-"));
const database = join(dir, "collector.db");
const broker = new BrokerProc({
  dir: join(dir, "broker"),
  port: await freePort(),
  // Saved every second, so a broker SIGKILL keeps the collector's session (its subscriptions).
  extraConfig: ["autosave_interval 1"],
});
const collector = new CollectorProc({ database, httpPort: await freePort(), brokerUrl: broker.url });
const scenarios = writeAgentScenarios(dir, agentCount, minutes);
const agents = scenarios.map((scenario, k) => {
  const host = `soak-${String(k).padStart(3, "0")}`;
  return new AgentProc({
    host,
    brokerUrl: broker.url,
    stateDir: join(dir, host),
    interval: values.interval,
    nvidiaSmi: `${process.execPath} ${GPUTEL} mock-smi --scenario ${scenario} --`,
    // Inventory and compute-apps queries spawn a mock-smi each; keep them rare on 2 cores.
    config: { compute_apps_interval: "10m", inventory_interval: "10m" },
    env: { TMPDIR: dir },
    keepOutput: false,
    onLine: (line, parsed) => {
      if (parsed?.level === "error" || parsed?.level === "fatal") say(`${host}: ${line}`);
    },
  });
});
for (const agent of agents) mkdirSync(agent.spec.stateDir, { recursive: true });

let exitCode = 1;
try {
  await broker.start();
  await collector.start();
  say(`broker ${broker.url}, collector up; starting ${agentCount} agents at ${values.interval}`);
  for (const agent of agents) {
    agent.start();
    await sleep(100); // staggered: 50 node starts at once would starve 2 cores
  }
  const totalMs = minutes * 60_000;
  const runStart = Date.now();
  for (const fault of faultSchedule(totalMs)) {
    const wait = runStart + fault.atMs - Date.now();
    if (wait > 0) await sleep(wait);
    await inject(fault);
  }
  await sleep(Math.max(0, runStart + totalMs - Date.now()));
  say(`fault phase over; ${agents.reduce((n, a) => n + a.totalSampled, 0)} frames sampled so far`);

  // Drain: every spool down to its in-flight frames, then stop the agents cleanly.
  const drained = await until(() => agents.every((a) => safePending(a) <= 2), 300_000, 2000);
  say(`spools ${drained ? "drained" : "NOT drained (deadline)"}; stopping agents`);
  await Promise.all(agents.map((a) => a.stop("SIGTERM")));
  // A frame sampled during the stop may still be in a spool: run that agent again until it is empty.
  for (let round = 0; round < 3; round++) {
    const left = agents.filter((a) => safePending(a) > 0);
    if (left.length === 0) break;
    say(`${left.length} spool(s) not empty after stop; restarting them to drain`);
    for (const a of left) a.start();
    await until(() => left.every((a) => safePending(a) <= 1), 60_000, 1000);
    await Promise.all(left.map((a) => a.stop("SIGTERM")));
  }

  const hosts = agents.map((a) => a.spec.host);
  const sampledTotal = agents.reduce((n, a) => n + a.totalSampled, 0);
  let last = -1;
  let stableSince = Date.now();
  await until(
    () => {
      const n = storedCount(database, hosts);
      if (n !== last) {
        last = n;
        stableSince = Date.now();
      }
      return n >= sampledTotal || Date.now() - stableSince > 30_000;
    },
    300_000,
    2000,
  );
  await collector.stop("SIGTERM");
  await broker.stop("SIGTERM");

  const seen = readSeen(database);
  const samples = rollupSamplesPerHost(database);
  const result = {
    frames_sampled: 0,
    frames_stored: 0,
    frames_lost: 0,
    frames_duplicated: 0,
    frames_dropped_by_bound: 0,
  };
  for (const agent of agents) {
    const audit = auditAgent(agent.spec.host, agent.sampled, seen);
    const dropped = safeDropped(agent);
    result.frames_sampled += audit.sampled;
    result.frames_stored += audit.stored + audit.unlogged;
    result.frames_dropped_by_bound += dropped;
    result.frames_lost += Math.max(0, audit.missing - dropped);
    // Each GPU entry of a stored frame is one rollup sample; extra samples are frames counted twice.
    const extra = (samples.get(agent.spec.host) ?? 0) - audit.gpuEntries;
    const perFrame = audit.stored > 0 ? Math.max(1, Math.round(audit.gpuEntries / audit.stored)) : 1;
    if (audit.unlogged === 0 && extra > 0) result.frames_duplicated += Math.ceil(extra / perFrame);
    if (extra < 0) say(`${agent.spec.host}: ${-extra} GPU entries missing from the rollups`);
    if (audit.missing > 0)
      say(`${agent.spec.host}: missing ${[...audit.missingSeqs].map(([b, s]) => `${b}:${s.join(",")}`)}`);
    if (audit.unlogged > 0) say(`${agent.spec.host}: ${audit.unlogged} stored frame(s) without a log line`);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  exitCode = result.frames_lost === 0 && result.frames_duplicated === 0 ? 0 : 1;
} catch (error) {
  say(`failed: ${(error as Error).stack ?? String(error)}`);
  say(`collector: ${collector.tail()}`);
} finally {
  await Promise.all(agents.map((a) => a.stop("SIGKILL")));
  await collector.stop("SIGKILL");
  await broker.stop("SIGKILL");
  if (values.keep) say(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);

async function inject(fault: Fault): Promise<void> {
  say(`fault: ${fault.kind} for ${(fault.downMs / 1000).toFixed(0)}s`);
  switch (fault.kind) {
    case "agent-kill": {
      const agent = agents[3 % agents.length] as AgentProc;
      await agent.stop("SIGKILL");
      await sleep(fault.downMs);
      agent.start();
      return;
    }
    case "broker-kill":
      await broker.stop("SIGKILL");
      await sleep(fault.downMs);
      await broker.start();
      return;
    case "collector-kill":
      await collector.stop("SIGKILL");
      await sleep(fault.downMs);
      await collector.start();
      return;
    case "broker-pause":
      broker.pause();
      await sleep(fault.downMs);
      broker.resume();
      return;
  }
}

function safePending(agent: AgentProc): number {
  try {
    return agent.spoolPending().frames;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function safeDropped(agent: AgentProc): number {
  try {
    return agent.spoolPending().droppedTotal;
  } catch {
    return 0;
  }
}
