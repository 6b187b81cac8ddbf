// Shared pieces of the reliability tests: temp dirs and cleanups, an in-process collector from
// real configuration, and agents on the replay capture at a short interval.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCollectorConfig } from "../../../collector/config.js";
import { type RunningCollector, startCollector } from "../../../collector/run.js";
import { silentLogger } from "../../../shared/logger.js";
import { assertBuilt } from "../../helpers/cli.js";
import { freePort, waitFor } from "../../helpers/net.js";
import { AgentProc, type AgentSpec, GPUTEL } from "./agent-proc.js";
import { auditAgent, formatSeqs, readSeen, rollupSamplesPerHost } from "./audit.js";

export class Harness {
  readonly dir: string;
  private readonly cleanups: (() => Promise<unknown> | unknown)[] = [];

  constructor() {
    assertBuilt();
    this.dir = mkdtempSync(join(tmpdir(), "gputel-reliability-"));
    this.cleanups.push(() => rmSync(this.dir, { recursive: true, force: true }));
  }

  onCleanup(fn: () => Promise<unknown> | unknown): void {
    this.cleanups.push(fn);
  }

  async cleanup(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) await fn();
  }

  /**
   * An agent child (not started) on its own one-host mock-smi scenario: GPU UUIDs are seeded by the
   * scenario's host name, so each agent has its own GPUs and the rollup counts stay per agent.
   */
  agent(host: string, brokerUrl: string, extra: Partial<AgentSpec> = {}): AgentProc {
    const stateDir = join(this.dir, host);
    mkdirSync(stateDir, { recursive: true });
    const scenario = join(stateDir, "scenario.yaml");
    writeFileSync(
      scenario,
      `hosts:\n  - name: ${host}\n    gpus:\n      - model: NVIDIA H100 80GB HBM3\n        count: 2\n        utilization: { sine: { min: 10, max: 90, period: 1m } }\n`,
    );
    const agent = new AgentProc({
      host,
      brokerUrl,
      stateDir,
      interval: "150ms",
      keepOutput: true,
      nvidiaSmi: `${process.execPath} ${GPUTEL} mock-smi --scenario ${scenario} --`,
      // mock-smi keeps the scenario's clock under $TMPDIR: one per test run.
      env: { TMPDIR: this.dir },
      ...extra,
    });
    this.onCleanup(() => agent.stop("SIGKILL"));
    return agent;
  }

  /** startCollector in this process, from the real configuration loader. */
  async collector(database: string, broker: { url: string } | { port: number }): Promise<RunningCollector> {
    const overrides: Record<string, unknown> = {
      database,
      "http.listen": `127.0.0.1:${await freePort()}`,
    };
    if ("url" in broker) {
      overrides["broker.mode"] = "external";
      overrides["broker.url"] = broker.url;
    } else overrides["broker.listen"] = `127.0.0.1:${broker.port}`;
    const loaded = loadCollectorConfig({ env: {}, overrides, touchFiles: false });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const running = await startCollector(loaded.config, silentLogger());
    let stopped = false;
    this.onCleanup(() => (stopped ? undefined : running.stop()));
    return {
      ...running,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await running.stop();
      },
    };
  }
}

/** Frames each agent sampled, keyed "host boot" → sorted seqs (for comparisons in messages). */
export function sampledSeqs(agents: readonly AgentProc[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const agent of agents) {
    for (const [boot, seqs] of agent.sampled.boots) out.set(`${agent.spec.host} ${boot}`, [...seqs]);
  }
  return out;
}

/**
 * Every logged frame of every agent is in the database (frame_seen) and counted once in the rollups.
 * The collector must be stopped (the rollup check seals the open windows).
 */
export function assertAllStoredOnce(
  database: string,
  agents: readonly AgentProc[],
): { stored: number; sampled: number; problems: string[] } {
  const seen = readSeen(database);
  const samples = rollupSamplesPerHost(database);
  const problems: string[] = [];
  let stored = 0;
  let sampled = 0;
  for (const agent of agents) {
    const audit = auditAgent(agent.spec.host, agent.sampled, seen);
    stored += audit.stored;
    sampled += audit.sampled;
    for (const [boot, seqs] of audit.missingSeqs)
      problems.push(`${audit.host} ${boot}: missing ${formatSeqs(seqs)}`);
    const rollup = samples.get(agent.spec.host) ?? 0;
    if (audit.unlogged === 0 && rollup !== audit.gpuEntries)
      problems.push(`${audit.host}: ${rollup} rollup samples for ${audit.gpuEntries} GPU entries`);
  }
  return { stored, sampled, problems };
}

/** Whether every frame logged so far by these agents is in frame_seen (collector may run). */
export function allLoggedStored(database: string, agents: readonly AgentProc[]): boolean {
  const seen = readSeen(database);
  return agents.every((agent) => auditAgent(agent.spec.host, agent.sampled, seen).missing === 0);
}

/** Waits until every logged frame is in frame_seen; on timeout, says which are missing. */
export async function waitAllStored(
  database: string,
  agents: readonly AgentProc[],
  timeoutMs: number,
  what: string,
): Promise<void> {
  try {
    await waitFor(() => allLoggedStored(database, agents), timeoutMs, what);
  } catch (error) {
    const seen = readSeen(database);
    const missing = agents.flatMap((agent) =>
      [...auditAgent(agent.spec.host, agent.sampled, seen).missingSeqs].map(
        ([boot, seqs]) => `${agent.spec.host} ${boot}: ${formatSeqs(seqs)}`,
      ),
    );
    throw new Error(`${(error as Error).message}; missing: ${missing.join("; ")}`);
  }
}
