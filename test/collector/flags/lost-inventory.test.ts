// A lost GPU and the host's inventory: nvidia-smi -q -x leaves a GPU that fell off the bus out of
// its XML (the agent's frames still report it LOST), and a failed -q -x sends an inventory with an
// error and no GPUs. Neither is a GPU taken out on purpose, so neither ends its lost episode.
import { afterEach, describe, expect, it } from "vitest";
import { GpuState, type IGpuInfo, type IGpuSample } from "../../../shared/proto.js";
import { cleanup, type Harness, harness, MIN, run, sample, T0, UUID } from "./helpers.js";

let h: Harness;
afterEach(() => cleanup(h));

const OTHER = "GPU-00000000-0000-0000-0000-000000000002";
const info = (uuid: string, index: number): IGpuInfo => ({ uuid, index, name: "NVIDIA H100 80GB HBM3" });
const inventory = (gpus: IGpuInfo[], error = "") => ({
  host: "node-1",
  site: "par1",
  labels: { customer: "acme" },
  gpus,
  error,
});
const busy = (uuid: string, index: number): IGpuSample => ({
  ...sample({ utilization_gpu_pct: 80 }),
  uuid,
  index,
});
const fellOff = sample({ state: GpuState.GPU_STATE_LOST, state_detail: "GPU is lost" });

const lostFlags = () => h.engine.history({ kinds: ["lost"] });

describe("lost and the inventory", () => {
  it("a lost GPU the next inventory leaves out, still reported LOST, keeps one open episode", () => {
    h = harness();
    h.engine.onInventory(inventory([info(UUID, 0), info(OTHER, 1)]), T0);
    run(h, T0, T0 + MIN, () => [busy(UUID, 0), busy(OTHER, 1)]);
    run(h, T0 + MIN, T0 + 2 * MIN, () => [fellOff, busy(OTHER, 1)]);
    h.engine.onInventory(inventory([info(OTHER, 1)]), T0 + 2 * MIN);
    run(h, T0 + 2 * MIN, T0 + 5 * MIN, () => [fellOff, busy(OTHER, 1)]);

    expect(lostFlags()).toHaveLength(1);
    expect(lostFlags()[0]).toMatchObject({ gpuUuid: UUID, startMs: T0 + MIN, endMs: null });
    expect(h.events.filter((e) => e.type === "closed")).toEqual([]);
  });

  it("a failed inventory (an error, no GPUs) ends no lost episode", () => {
    h = harness();
    h.engine.onInventory(inventory([info(UUID, 0), info(OTHER, 1)]), T0);
    run(h, T0, T0 + MIN, () => [busy(UUID, 0), busy(OTHER, 1)]);
    run(h, T0 + MIN, T0 + 2 * MIN, () => [busy(OTHER, 1)]);
    expect(h.engine.openFlags({ kinds: ["lost"] })).toHaveLength(1);
    h.engine.onInventory(inventory([], "nvidia-smi -q -x timed out"), T0 + 2 * MIN);
    run(h, T0 + 2 * MIN, T0 + 5 * MIN, () => [busy(OTHER, 1)]);

    expect(lostFlags()).toHaveLength(1);
    expect(lostFlags()[0]).toMatchObject({ gpuUuid: UUID, startMs: T0 + MIN, endMs: null });
  });

  it("a GPU neither in the inventory nor in the frames is gone on purpose: its lost episode ends", () => {
    h = harness();
    h.engine.onInventory(inventory([info(UUID, 0), info(OTHER, 1)]), T0);
    run(h, T0, T0 + MIN, () => [busy(UUID, 0), busy(OTHER, 1)]);
    run(h, T0 + MIN, T0 + 2 * MIN, () => [busy(OTHER, 1)]);
    h.engine.onInventory(inventory([info(OTHER, 1)]), T0 + 2 * MIN);
    run(h, T0 + 2 * MIN, T0 + 5 * MIN, () => [busy(OTHER, 1)]);

    expect(lostFlags()).toHaveLength(1);
    expect(lostFlags()[0]).toMatchObject({ gpuUuid: UUID, startMs: T0 + MIN, endMs: T0 + 2 * MIN });
    expect(lostFlags()[0]!.reason).toMatch(/removed from the inventory/);
  });
});
