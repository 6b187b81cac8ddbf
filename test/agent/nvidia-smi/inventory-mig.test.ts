// Issue 17's MIG inventory: each GPU's MIG devices in the inventory message, from `-q -x`
// <mig_devices> (ids, SMs, memory) joined with `-L` (profile, MIG UUID) by device index. The A100
// fixture's four devices without -L are in inventory.test.ts; here the join with -L, and end to end
// from a real mock-smi child in scenario mode.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inventoryFromXml, queryInventory } from "../../../agent/sources/nvidia-smi/xml-query.js";
import { runOneShot } from "../../../agent/sources/supervisor/child-process.js";
import { migUuidFor } from "../../../mock-smi/mig-layout.js";
import { uuidFor } from "../../../mock-smi/scenario-state.js";
import { GPUTEL } from "../../helpers/cli.js";
import { FIXTURES } from "./capture.js";

describe("MIG devices in the inventory", () => {
  it("the same document with -L: each device gets its MIG UUID and profile by device index", async () => {
    const xml = readFileSync(join(FIXTURES, "xml", "a100-sxm4-v12.xml"), "utf8");
    const gpuUuid = "GPU-513536b6-7d19-9063-b049-1e69664bb298";
    const listed = [
      {
        index: 0,
        name: "NVIDIA A100-SXM4-80GB",
        uuid: gpuUuid,
        migDevices: [
          { profile: "1g.20gb", deviceIndex: 2, uuid: "MIG-50f1c4c9-1508-5e8d-bb06-d08145b22e01" },
        ],
      },
    ];
    const devices = (await inventoryFromXml(xml, listed)).gpus[0]?.mig_devices ?? [];
    expect(devices.map((d) => [d.device_index, d.uuid, d.profile])).toEqual([
      [0, "", ""],
      [1, "", ""],
      [2, "MIG-50f1c4c9-1508-5e8d-bb06-d08145b22e01", "1g.20gb"],
      [3, "", ""],
    ]);
  });

  it("GPUs without MIG carry no mig_devices", async () => {
    const xml = readFileSync(join(FIXTURES, "xml", "tesla-t4.xml"), "utf8");
    for (const gpu of (await inventoryFromXml(xml)).gpus) expect(gpu.mig_devices).toBeUndefined();
  });

  describe("through a mock-smi child in scenario mode (-q -x, then -L)", () => {
    const dir = mkdtempSync(join(tmpdir(), "gputel-mig-inv-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("sends both devices of a [3g.40gb, 1g.10gb] A100 with the UUIDs -L prints", async () => {
      const host = "mig-inventory";
      const scenario = join(dir, "mig.yaml");
      writeFileSync(
        scenario,
        [
          "start: 2026-07-14T08:00:00Z",
          `name: ${host}`,
          "gpus:",
          "  - model: NVIDIA A100-SXM4-80GB",
          "    mig: [3g.40gb, 1g.10gb]",
          "  - model: NVIDIA A100-SXM4-80GB",
        ].join("\n"),
      );
      const argvs: string[][] = [];
      const inventory = await queryInventory(
        [GPUTEL, "mock-smi", "--scenario", scenario, "--"],
        20_000,
        (argv, t) => {
          argvs.push(argv);
          return runOneShot(argv, { timeoutMs: t });
        },
      );
      expect(argvs.map((a) => a.slice(-2))).toEqual([
        ["-q", "-x"],
        ["--", "-L"],
      ]);
      const gpu = uuidFor(host, 0);
      const [mig, plain] = inventory.gpus;
      expect(mig?.uuid).toBe(gpu);
      expect(mig?.mig_devices?.map((d) => [d.device_index, d.profile, d.uuid])).toEqual([
        [0, "3g.40gb", migUuidFor(gpu, 0)],
        [1, "1g.10gb", migUuidFor(gpu, 1)],
      ]);
      for (const d of mig?.mig_devices ?? []) {
        expect(d.memory_total_mib).toBeGreaterThan(0);
        expect(d.sm_count).toBeGreaterThan(0);
      }
      expect(plain?.mig_devices).toBeUndefined();
    }, 30_000);
  });
});
