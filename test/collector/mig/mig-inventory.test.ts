// Issue 17's MIG devices at the collector: the inventory's devices are checked (count, index,
// UUID spelling, lengths) on the real decode path, stored per GPU in a real SQLite file, replaced
// by the next inventory, and found by MIG UUID with their parent GPU.
import { afterEach, describe, expect, it } from "vitest";
import { checkMessage } from "../../../collector/ingest/check.js";
import { MAX_MIG_DEVICES_PER_GPU } from "../../../collector/ingest/validate-mig.js";
import { encodeInventory } from "../../../shared/codec.js";
import { type IMigDevice, SCHEMA_VERSION } from "../../../shared/proto.js";
import { T0, type TempStore, tempStore } from "../store/synth.js";

const H = "mig-node";
const GPU = "GPU-513536b6-7d19-9063-b049-1e69664bb298";
const device = (i: number, extra: Partial<IMigDevice> = {}): IMigDevice => ({
  uuid: `MIG-0000000${i}-0000-0000-0000-00000000000${i}`,
  device_index: i,
  profile: "1g.20gb",
  gpu_instance_id: 3 + i,
  compute_instance_id: 0,
  sm_count: 14,
  memory_total_mib: 19968,
  memory_used_mib: 12,
  ...extra,
});
const inventory = (devices: IMigDevice[]) =>
  encodeInventory({
    schema_version: SCHEMA_VERSION,
    host: H,
    timestamp_ms: T0,
    gpus: [{ index: 0, uuid: GPU, mig_mode: true, mig_devices: devices }],
  });
const check = (devices: IMigDevice[]) =>
  checkMessage(`gputel/v1/${H}/inventory`, inventory(devices), { username: undefined, nowMs: T0 });

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

describe("MIG devices in an inventory", () => {
  it("accepts four devices and refuses too many, a repeated index, a malformed UUID or profile", () => {
    const four = check([0, 1, 2, 3].map((i) => device(i)));
    expect(four.rejections).toEqual([]);
    expect(four.inventory?.gpus?.[0]?.mig_devices).toHaveLength(4);
    const reasons = (devices: IMigDevice[]) => check(devices).rejections.map((r) => [r.reason, r.detail]);
    const many = Array.from({ length: MAX_MIG_DEVICES_PER_GPU + 1 }, (_, i) => device(i, { uuid: "" }));
    expect(reasons(many)).toEqual([["field_invalid", `gpu 0 17 MIG devices > ${MAX_MIG_DEVICES_PER_GPU}`]]);
    expect(reasons([device(1), device(1, { uuid: "" })])).toEqual([
      ["field_invalid", "gpu 0 MIG device 1 twice"],
    ]);
    expect(reasons([device(0, { uuid: "GPU-not-a-mig" })])).toEqual([
      ["field_invalid", 'gpu 0 MIG device 0 uuid "GPU-not-a-mig"'],
    ]);
    expect(reasons([device(0, { profile: "x".repeat(33) })])).toEqual([
      ["string_too_long", "gpu 0 MIG device 0 profile"],
    ]);
  });

  it("stores each GPU's devices, replaces them with the next inventory, finds one by its UUID", () => {
    tmp = tempStore();
    const store = tmp.open();
    const write = (devices: IMigDevice[], atMs: number) => {
      const checked = check(devices).inventory;
      if (!checked) throw new Error("inventory refused");
      store.writeInventory(checked, atMs);
    };
    write(
      [0, 1, 2, 3].map((i) => device(i)),
      T0,
    );
    expect(store.migDevices.list(GPU).map((d) => [d.deviceIndex, d.uuid, d.gpuInstanceId])).toEqual([
      [0, device(0).uuid, 3],
      [1, device(1).uuid, 4],
      [2, device(2).uuid, 5],
      [3, device(3).uuid, 6],
    ]);
    expect(store.migDevices.find(device(2).uuid ?? "")).toMatchObject({
      gpuUuid: GPU,
      profile: "1g.20gb",
      smCount: 14,
      memoryTotalMib: 19968,
      memoryUsedMib: 12,
      updatedMs: T0,
    });
    // The layout changed: one 7g.80gb device; the old four are gone.
    write([device(0, { uuid: "MIG-77777777-0000-0000-0000-000000000000", profile: "7g.80gb" })], T0 + 1000);
    expect(store.migDevices.list(GPU).map((d) => [d.uuid, d.profile])).toEqual([
      ["MIG-77777777-0000-0000-0000-000000000000", "7g.80gb"],
    ]);
    expect(store.migDevices.find(device(2).uuid ?? "")).toBeUndefined();
    // MIG turned off: none.
    write([], T0 + 2000);
    expect(store.migDevices.list()).toEqual([]);
  });
});
