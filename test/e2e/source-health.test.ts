// End to end: an agent whose nvidia-smi is missing → its source supervisor counts the failed
// start-ups → the agent's retained status carries the counters → the collector (in-process,
// embedded broker, real SQLite file) stores them → /metrics shows them by host and source.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAgentConfig } from "../../agent/config.js";
import { type RunningAgent, startAgent } from "../../agent/run.js";
import { loadCollectorConfig } from "../../collector/config.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { freePort, waitFor } from "../helpers/net.js";

const HOST = "e2e-sources";
let dir: string;
let collector: RunningCollector;
let agent: RunningAgent;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gputel-e2e-sources-"));
  const mqttPort = await freePort();
  const collectorConfig = loadCollectorConfig({
    env: {},
    overrides: {
      database: join(dir, "collector.db"),
      "broker.listen": `127.0.0.1:${mqttPort}`,
      "http.listen": `127.0.0.1:${await freePort()}`,
    },
  });
  if (!collectorConfig.ok) throw new Error(JSON.stringify(collectorConfig.problems));
  collector = await startCollector(collectorConfig.config, silentLogger());
  const agentConfig = loadAgentConfig({
    env: {},
    overrides: {
      host: HOST,
      sources: ["nvidia-smi"],
      nvidia_smi: join(dir, "no-such-nvidia-smi"),
      interval: "200ms",
      "broker.url": `mqtt://127.0.0.1:${mqttPort}`,
      state_directory: join(dir, "agent"),
    },
  });
  if (!agentConfig.ok) throw new Error(JSON.stringify(agentConfig.problems));
  agent = await startAgent(agentConfig.config, silentLogger());
}, 20_000);

afterAll(async () => {
  await agent?.stop();
  await collector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function scrape(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${collector.httpPort}/metrics`);
  return response.text();
}

function value(text: string, family: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${family}{host="${HOST}",source="nvidia-smi"} `));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("source health: agent supervisor → status → collector → /metrics", () => {
  it("shows the nvidia-smi source's failed start-ups and its last error for the host", async () => {
    let text = "";
    await waitFor(
      async () => {
        text = await scrape();
        return (value(text, "gputel_agent_source_start_failures_total") ?? 0) >= 1;
      },
      15_000,
      "start failures on /metrics",
    );
    expect(text).toContain("# TYPE gputel_agent_source_restarts_total counter");
    expect(value(text, "gputel_agent_source_restarts_total")).toBeGreaterThanOrEqual(0);
    expect(value(text, "gputel_agent_source_stuck")).toBe(0);
    expect(value(text, "gputel_agent_source_last_error_timestamp_seconds")).toBeGreaterThan(0);
    const [row] = collector.store.agentSources();
    expect(row).toMatchObject({ host: HOST, source: "nvidia-smi", stuck: false });
    expect(row?.lastError).toMatch(/ENOENT/);
  });
});
