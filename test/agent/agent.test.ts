// The agent loop with fake parts: inventory is read again every inventory interval (and
// published only when it changed), after sampling has started.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Agent } from "../../agent/agent.js";
import type { HostSource } from "../../agent/host/host-source.js";
import type { FramePublisher } from "../../agent/publish/publisher.js";
import type {
  EventSink,
  EventSource,
  GpuSource,
  SourceInventory,
  SourceSample,
} from "../../agent/sources/source.js";
import { silentLogger } from "../../shared/logger.js";
import { GpuState, type IHealthEvent, type IInventory } from "../../shared/proto.js";

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

  it("starts the events sources at the first sample, with its GPUs' bus ids; their events reach the sink", async () => {
    vi.useFakeTimers();
    const p = parts();
    let emit: (sample: SourceSample) => void = () => {};
    p.source.start = async (onSample) => {
      emit = onSample;
    };
    let sink: EventSink | undefined;
    const events: EventSource = {
      name: "kernel-log",
      async start(s) {
        sink = s;
      },
      async stop() {},
    };
    const published: IHealthEvent[][] = [];
    p.sink.publishEvents = (list) => {
      published.push([...list]);
      return true;
    };
    const agent = new Agent({
      identity: { host: "node-a", site: "", labels: {}, intervalMs: 1000, agentVersion: "test" },
      source: p.source,
      events: [events],
      host: p.host,
      sink: p.sink,
      inventoryIntervalMs: 60_000,
      logger: silentLogger(),
    });
    await agent.start();
    expect(sink).toBeUndefined();
    emit({
      timestampMs: 1,
      gpus: [{ index: 0, uuid: "GPU-a", pci_bus_id: "00000000:18:00.0", state: GpuState.GPU_STATE_OK }],
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(sink?.gpus()).toEqual([{ index: 0, uuid: "GPU-a", pciBusId: "00000000:18:00.0" }]);
    expect(sink?.publish([{ code: 79 }])).toBe(true);
    expect(published).toEqual([[{ code: 79 }]]);
    await agent.stop();
  });

  it("starts the events sources anyway when no sample comes (nvidia-smi failing)", async () => {
    vi.useFakeTimers();
    const p = parts();
    let started = false;
    const agent = new Agent({
      identity: { host: "node-a", site: "", labels: {}, intervalMs: 1000, agentVersion: "test" },
      source: p.source,
      events: [
        {
          name: "kernel-log",
          async start() {
            started = true;
          },
          async stop() {},
        },
      ],
      host: p.host,
      sink: p.sink,
      inventoryIntervalMs: 60_000,
      eventsStartDelayMs: 5_000,
      logger: silentLogger(),
    });
    await agent.start();
    await vi.advanceTimersByTimeAsync(4_000);
    expect(started).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toBe(true);
    await agent.stop();
  });
});
