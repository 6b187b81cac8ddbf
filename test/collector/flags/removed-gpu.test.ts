// A GPU taken out of a host on purpose (out of the inventory and no longer listed in the frames):
// every flag its readings drive closes with it, saying so, and delivers a closed event (what the
// alert receivers resolve on); a flag that closes only on evidence or an acknowledgement
// (reset-required) stays open. The other GPU's flags are untouched.
import { afterEach, describe, expect, it } from "vitest";
import type { FlagKind } from "../../../collector/flags/types.js";
import type { IGpuInfo, IGpuSample } from "../../../shared/proto.js";
import { cleanup, type Harness, harness, MIN, run, sample, T0, UUID } from "./helpers.js";

let h: Harness;
afterEach(() => cleanup(h));

const OTHER = "GPU-00000000-0000-0000-0000-000000000002";
const info = (uuid: string, index: number): IGpuInfo => ({
  uuid,
  index,
  name: "NVIDIA H100 80GB HBM3",
  temperature_slowdown_celsius: 87,
});
const inventory = (gpus: IGpuInfo[]) => ({
  host: "node-1",
  site: "par1",
  labels: { customer: "acme" },
  gpus,
});
/** Idle with memory held, near its slowdown temperature, and asking for a reset. */
const troubled = (uuid: string, index: number): IGpuSample => ({
  ...sample({
    utilization_gpu_pct: 0,
    memory_used_mib: 40_000,
    compute_processes: 1,
    temperature_gpu_celsius: 84,
    gpu_recovery_action: 1,
  }),
  uuid,
  index,
});

const openKinds = (uuid: string): FlagKind[] =>
  h.engine
    .openFlags()
    .filter((f) => f.gpuUuid === uuid)
    .map((f) => f.kind)
    .sort();
const closedEvents = (uuid: string) =>
  h.events.filter((e) => e.type === "closed" && e.flag.gpuUuid === uuid).map((e) => e.flag);

describe("a GPU removed from the host on purpose", () => {
  it("closes its idle-held and overheat flags as removed, keeps reset-required, and leaves the other GPU alone", () => {
    h = harness();
    h.engine.onInventory(inventory([info(UUID, 0), info(OTHER, 1)]), T0);
    run(h, T0, T0 + 20 * MIN, () => [troubled(UUID, 0), troubled(OTHER, 1)]);
    expect(openKinds(UUID)).toEqual(["idle-held", "overheat", "reset-required"]);

    h.engine.onInventory(inventory([info(OTHER, 1)]), T0 + 20 * MIN);
    run(h, T0 + 20 * MIN, T0 + 25 * MIN, () => [troubled(OTHER, 1)]);

    expect(openKinds(UUID)).toEqual(["reset-required"]);
    expect(openKinds(OTHER)).toEqual(["idle-held", "overheat", "reset-required"]);
    const closed = closedEvents(UUID);
    expect(closed.map((f) => f.kind).sort()).toEqual(["idle-held", "overheat"]);
    for (const flag of closed) {
      expect(flag.reason).toMatch(/; removed from the inventory$/);
      expect(flag.endMs).toBe(T0 + 20 * MIN);
    }
    expect(h.engine.history({ kinds: ["lost"] })).toEqual([]);
  });

  it("a GPU that went missing before the inventory dropped it: lost and its other reading flags close together", () => {
    h = harness();
    h.engine.onInventory(inventory([info(UUID, 0), info(OTHER, 1)]), T0);
    run(h, T0, T0 + 20 * MIN, () => [troubled(UUID, 0), troubled(OTHER, 1)]);
    run(h, T0 + 20 * MIN, T0 + 25 * MIN, () => [troubled(OTHER, 1)]);
    expect(openKinds(UUID)).toEqual(["idle-held", "lost", "overheat", "reset-required"]);

    h.engine.onInventory(inventory([info(OTHER, 1)]), T0 + 25 * MIN);

    expect(openKinds(UUID)).toEqual(["reset-required"]);
    expect(
      closedEvents(UUID)
        .map((f) => f.kind)
        .sort(),
    ).toEqual(["idle-held", "lost", "overheat"]);
    for (const flag of closedEvents(UUID)) expect(flag.reason).toMatch(/; removed from the inventory$/);
  });
});
