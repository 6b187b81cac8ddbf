// The agent loop with fake parts: inventory is read again every inventory interval (and
// published only when it changed), after sampling has started.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Agent } from "../../agent/agent.js";
import type { HostSource } from "../../agent/host/host-source.js";
import type { FramePublisher } from "../../agent/publish/publisher.js";
import type { GpuSource, SourceInventory, SourceSample } from "../../agent/sources/source.js";
import { silentLogger } from "../../shared/logger.js";
import type { IInventory } from "../../shared/proto.js";

afterEach(() => {
  vi.useRealTimers();
});

function parts() {
  const calls: string[] = [];
  let driver = "550.54.15";
  const source: GpuSource = {
    name: "fake",
    async start(_onSample: (sample: SourceSample) => void) {
      calls.push("start");
    },
    async stop() {},
    async inventory(): Promise<SourceInventory> {
      calls.push("inventory");
      return { driverVersion: driver, cudaVersion: "12.4", schema: "nvsmi_device_v12", gpus: [] };
    },
  };
  const host: HostSource = {
    sample: async () => ({ memory_total_bytes: 1 }),
    info: async () => ({ os: "Linux" }),
  };
  const inventories: IInventory[] = [];
  const sink: FramePublisher = {
    publishFrame: () => {},
    publishInventory: (inventory) => inventories.push(inventory),
    droppedTotal: () => 0,
  };
  return { calls, source, host, sink, inventories, setDriver: (v: string) => (driver = v) };
}

describe("Agent", () => {
  it("starts sampling before the first inventory, then re-reads inventory every interval", async () => {
    vi.useFakeTimers();
    const p = parts();
    const agent = new Agent({
      identity: { host: "node-a", site: "", labels: {}, intervalMs: 1000, agentVersion: "test" },
      source: p.source,
      host: p.host,
      sink: p.sink,
      inventoryIntervalMs: 60_000,
      logger: silentLogger(),
    });
    await agent.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.calls).toEqual(["start", "inventory"]);
    expect(p.inventories).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(60_000);
    expect(p.calls.filter((c) => c === "inventory")).toHaveLength(2);
    expect(p.inventories).toHaveLength(1); // unchanged: not published again

    p.setDriver("560.35.03");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(p.calls.filter((c) => c === "inventory")).toHaveLength(3);
    expect(p.inventories.map((i) => i.driver_version)).toEqual(["550.54.15", "560.35.03"]);
    await agent.stop();
  });
});
