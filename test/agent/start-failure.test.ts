// An agent whose start fails half-way stops what it had started (the publisher reconnecting to
// its broker, the sources sampling), so `gputel agent` can exit with its status instead of
// lingering half-started.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Agent } from "../../agent/agent.js";
import { loadAgentConfig } from "../../agent/config.js";
import { MqttPublisher } from "../../agent/publish/mqtt-publisher.js";
import { startAgent } from "../../agent/run.js";
import { silentLogger } from "../../shared/logger.js";
import { freePort } from "../helpers/net.js";

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("agent start that fails", () => {
  it("stops the publisher and the sources it started, and rejects with the cause", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gputel-start-failure-"));
    dirs.push(dir);
    const loaded = loadAgentConfig({
      env: {},
      overrides: {
        host: "half-started",
        sources: ["nvidia-smi"],
        nvidia_smi: join(dir, "no-such-nvidia-smi"),
        interval: "200ms",
        "broker.url": `mqtt://127.0.0.1:${await freePort()}`,
        state_directory: join(dir, "agent"),
      },
    });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    vi.spyOn(Agent.prototype, "start").mockRejectedValue(new Error("a source could not start"));
    const agentStop = vi.spyOn(Agent.prototype, "stop");
    const publisherStop = vi.spyOn(MqttPublisher.prototype, "stop");
    await expect(startAgent(loaded.config, silentLogger())).rejects.toThrow("a source could not start");
    expect(agentStop).toHaveBeenCalledTimes(1);
    expect(publisherStop).toHaveBeenCalledTimes(1);
  });
});
