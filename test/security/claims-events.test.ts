// GPU ownership holds for every message that names a GPU, not only frames and inventories: a host
// that sends an Xid event or a process on another live host's GPU must not put it on that GPU's
// timeline, Xid counters, flags, process list or reports. The entry is dropped and counted as
// gpu_claimed_by_other_host; what the host says about its own GPUs (or no GPU) is still stored.
import { afterEach, describe, expect, it } from "vitest";
import { IngestPipeline } from "../../collector/ingest/pipeline.js";
import { encodeInventory } from "../../shared/codec.js";
import { silentLogger } from "../../shared/logger.js";
import { type IProcessRecord, ProcessSet, SCHEMA_VERSION } from "../../shared/proto.js";
import { topicFor } from "../../shared/topics.js";
import { eventPayload, xidEvent } from "../collector/health/events.js";
import { type TempStore, tempStore } from "../collector/store/synth.js";
import { batchOf, inventoryOf } from "./attack-parts.js";

const VICTIM_GPU = "GPU-0a1b2c3d-0000-4000-8000-00000000a000";
const ATTACKER_GPU = "GPU-0a1b2c3d-0000-4000-8000-00000000b000";

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

async function fleetWithVictim() {
  tmp = tempStore();
  const store = tmp.open();
  const pipeline = new IngestPipeline({ sink: store, logger: silentLogger(), fleet: store.fleet });
  pipeline.start();
  for (const [host, uuid] of [
    ["gpu-a", VICTIM_GPU],
    ["gpu-b", ATTACKER_GPU],
  ] as const) {
    await pipeline.submit(
      topicFor(host, "inventory"),
      inventoryOf(host, { [uuid]: "NVIDIA H100" }),
      undefined,
    );
    await pipeline.submit(topicFor(host, "frame"), batchOf(host, 1, { [uuid]: 40 }), undefined);
  }
  expect(store.fleet.gpuOwner(VICTIM_GPU)?.host).toBe("gpu-a");
  return { store, pipeline };
}

function processSet(host: string, processes: IProcessRecord[]): Uint8Array {
  return ProcessSet.encode({
    schema_version: SCHEMA_VERSION,
    host,
    boot_id: "agent-boot-1",
    seq: 1,
    timestamp_ms: Date.now(),
    processes,
  }).finish();
}

describe("a host naming another live host's GPU", () => {
  it("in an Xid event: that event is dropped and counted, its own events are stored", async () => {
    const { store, pipeline } = await fleetWithVictim();
    const now = Date.now();
    const result = await pipeline.submit(
      topicFor("gpu-b", "event"),
      eventPayload("gpu-b", [
        xidEvent(1, 79, { gpu_uuid: VICTIM_GPU, time_ms: now - 1000 }),
        xidEvent(2, 13, { gpu_uuid: ATTACKER_GPU, time_ms: now - 1000 }),
        xidEvent(3, 48, { gpu_uuid: "", gpu_index: null, time_ms: now - 1000 }),
      ]),
      undefined,
    );
    await pipeline.stop();
    expect(result.rejections.map((r) => r.reason)).toEqual(["gpu_claimed_by_other_host"]);
    expect(store.events().list({ gpuUuid: VICTIM_GPU, limit: 10 })).toEqual([]);
    expect(
      store
        .events()
        .list({ host: "gpu-b", limit: 10 })
        .map((e) => e.kernelSeq),
    ).toEqual([3, 2]);
  });

  it("in a process set: that process is dropped and counted, its own processes are stored", async () => {
    const { store, pipeline } = await fleetWithVictim();
    const result = await pipeline.submit(
      topicFor("gpu-b", "processes"),
      processSet("gpu-b", [
        { gpu_uuid: VICTIM_GPU, pid: 100, name: "fake", user: "mallory" },
        { gpu_uuid: ATTACKER_GPU, pid: 200, name: "train" },
      ]),
      undefined,
    );
    await pipeline.stop();
    expect(result.rejections.map((r) => r.reason)).toEqual(["gpu_claimed_by_other_host"]);
    expect(store.processes().query({ gpuUuids: [VICTIM_GPU], limit: 10 })).toEqual([]);
    expect(
      store
        .processes()
        .query({ host: "gpu-b", limit: 10 })
        .map((p) => p.pid),
    ).toEqual([200]);
  });

  it("in a frame after the owner's nvidia-smi -q -x failed: the failed inventory did not free the GPU", async () => {
    const { store, pipeline } = await fleetWithVictim();
    // The victim's agent could not read -q -x: its inventory says why and lists no GPU.
    const failed = Buffer.from(
      encodeInventory({
        schema_version: SCHEMA_VERSION,
        host: "gpu-a",
        timestamp_ms: Date.now(),
        error: "timed out",
      }),
    );
    await pipeline.submit(topicFor("gpu-a", "inventory"), failed, undefined);
    const result = await pipeline.submit(
      topicFor("gpu-b", "frame"),
      batchOf("gpu-b", 2, { [VICTIM_GPU]: 40, [ATTACKER_GPU]: 40 }),
      undefined,
    );
    expect(result.rejections.map((r) => r.reason)).toEqual(["gpu_claimed_by_other_host"]);
    expect(store.fleet.gpuOwner(VICTIM_GPU)?.host).toBe("gpu-a");
  });
});
