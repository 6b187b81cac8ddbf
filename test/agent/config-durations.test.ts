// Durations the agent cannot honour stop start-up under their key, rather than being accepted and
// misbehaving: Node's timers wait at most 2^31-1 ms (a longer delay fires after 1 ms, so a 30d
// inventory_interval would run nvidia-smi -q back to back), MQTT's keepalive is a 16-bit count of
// seconds (a longer one makes every CONNECT fail), and the collector drops frames whose interval is
// over 24 h.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAgentConfig } from "../../agent/config.js";

function load(text: string) {
  const path = join(mkdtempSync(join(tmpdir(), "gputel-durations-")), "agent.yaml");
  writeFileSync(path, text);
  return loadAgentConfig({ file: path, env: {}, hostname: "node-1" });
}

const paths = (text: string) => {
  const result = load(text);
  return result.ok ? [] : result.problems.map((p) => p.path);
};

describe("agent durations", () => {
  it.each([
    ["inventory_interval", "inventory_interval: 30d\n"],
    ["inventory_timeout", "inventory_timeout: 25d\n"],
    ["compute_apps_interval", "compute_apps_interval: 4w\n"],
    ["health_interval", "health_interval: 1y\n"],
    ["nvlink_interval", "nvlink_interval: 30d\n"],
    ["processes.refresh_interval", "processes:\n  refresh_interval: 30d\n"],
    ["broker.keepalive", "broker:\n  keepalive: 1d\n"],
    ["interval", "interval: 2d\n"],
  ])("refuses a %s it cannot keep, naming the key", (path, text) => {
    expect(paths(text)).toEqual([path]);
  });

  it("takes the longest each one can keep", () => {
    const text = [
      "inventory_interval: 24d",
      "health_interval: 24d",
      "interval: 24h",
      "broker:",
      "  keepalive: 65535s",
      "",
    ].join("\n");
    expect(paths(text)).toEqual([]);
  });
});
