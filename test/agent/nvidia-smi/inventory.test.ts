// Every file in test/fixtures/nvidia-smi/xml/ (nvidia-smi -q -x, DTD v10 to v13 and one without
// DOCTYPE), with the values read from each file by hand. N/A is absent, never 0.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inventoryFromXml } from "../../../agent/sources/nvidia-smi/xml-query.js";
import type { SourceInventory } from "../../../agent/sources/source.js";
import { GputelError } from "../../../shared/errors.js";
import { FIXTURES } from "./capture.js";

const XML_DIR = join(FIXTURES, "xml");

const EXPECTED: Record<string, SourceInventory> = {
  "a100-sxm4-v12.xml": {
    driverVersion: "535.54.03",
    cudaVersion: "12.2",
    schema: "nvsmi_device_v12",
    gpus: [
      {
        index: 0,
        uuid: "GPU-513536b6-7d19-9063-b049-1e69664bb298",
        name: "NVIDIA A100-SXM4-80GB",
        serial: "1650522003820",
        vbios_version: "92.00.36.00.02",
        pci_bus_id: "00000000:01:00.0",
        product_architecture: "Ampere",
        board_part_number: "692-2G506-0212-002",
        // The GPU's own fb_memory_usage, not a MIG device's 19968 MiB.
        memory_total_mib: 81920,
        power_default_limit_watts: 500,
        power_min_limit_watts: 100,
        power_max_limit_watts: 500,
        power_enforced_limit_watts: 500,
        temperature_shutdown_celsius: 92,
        temperature_slowdown_celsius: 89,
        temperature_max_operating_celsius: 85,
        temperature_memory_max_celsius: 95,
        mig_mode: true,
        // Its four MIG devices (inventory-mig.test.ts); no UUID or profile without -L.
        mig_devices: [3, 4, 5, 6].map((gi, index) => ({
          uuid: "",
          device_index: index,
          profile: "",
          gpu_instance_id: gi,
          compute_instance_id: 0,
          sm_count: 14,
          memory_total_mib: 19968,
          memory_used_mib: 12,
        })),
      },
    ],
  },
  "a10g.xml": {
    driverVersion: "515.105.01",
    cudaVersion: "11.7",
    schema: "nvsmi_device_v11",
    gpus: [
      {
        index: 0,
        uuid: "GPU-9a9a6c50-2a47-2f51-a902-b82c3b127e94",
        name: "NVIDIA A10G",
        serial: "0000000000000",
        vbios_version: "94.02.75.00.01",
        pci_bus_id: "00000000:00:1E.0",
        product_architecture: "Ampere",
        // v11 keeps the board part number in gpu_part_number.
        board_part_number: "000-00000-0000-000",
        memory_total_mib: 23028,
        power_default_limit_watts: 300,
        power_min_limit_watts: 100,
        power_max_limit_watts: 300,
        power_enforced_limit_watts: 300,
        temperature_shutdown_celsius: 98,
        temperature_slowdown_celsius: 95,
        temperature_max_operating_celsius: 88,
      },
    ],
  },
  "gtx-1070-ti.xml": {
    driverVersion: "",
    cudaVersion: "",
    schema: "nvsmi_device_v10",
    gpus: [
      {
        index: 0,
        uuid: "GPU-f9ba66fc-a7f5-94c5-da19-019ef2f9c665",
        name: "GeForce GTX 1070 Ti",
        serial: "",
        vbios_version: "",
        pci_bus_id: "00000000:01:00.0",
        product_architecture: "",
        board_part_number: "",
        memory_total_mib: 4096,
      },
    ],
  },
  "quadro-p400.xml": {
    driverVersion: "418.43",
    cudaVersion: "10.1",
    schema: "unknown",
    gpus: [
      {
        index: 0,
        uuid: "GPU-8f750be4-dfbc-23b9-b33f-da729a536494",
        name: "Quadro P400",
        serial: "0424418054852",
        vbios_version: "86.07.3B.00.4A",
        pci_bus_id: "00000000:43:00.0",
        product_architecture: "",
        board_part_number: "900-5G212-1701-000",
        memory_total_mib: 1998,
        // Every power limit is N/A on this board: absent, not 0.
        temperature_shutdown_celsius: 103,
        temperature_slowdown_celsius: 100,
      },
    ],
  },
  "rtx-3080-v13.xml": {
    driverVersion: "595.58.03",
    cudaVersion: "13.2",
    schema: "nvsmi_device_v13",
    gpus: [
      {
        index: 0,
        uuid: "GPU-19d6d965-2acc-f646-00f8-4c76979aabb4",
        name: "NVIDIA GeForce RTX 3080",
        serial: "REDACTED",
        vbios_version: "94.02.71.40.72",
        pci_bus_id: "00000000:0C:00.0",
        product_architecture: "Ampere",
        board_part_number: "",
        memory_total_mib: 10240,
        power_default_limit_watts: 320,
        power_min_limit_watts: 100,
        power_max_limit_watts: 336,
        power_enforced_limit_watts: 320,
        temperature_shutdown_celsius: 98,
        temperature_slowdown_celsius: 95,
        temperature_max_operating_celsius: 93,
        temperature_target_celsius: 83,
      },
    ],
  },
  "rtx-4000-sff-ada-v13.xml": {
    driverVersion: "595.84",
    cudaVersion: "13.2",
    schema: "nvsmi_device_v13",
    gpus: [
      {
        index: 0,
        uuid: "GPU-37037c3f-65c8-ec4d-24a9-420204ad8026",
        name: "NVIDIA RTX 4000 SFF Ada Generation",
        serial: "REDACTED",
        vbios_version: "95.04.53.00.01",
        pci_bus_id: "00000000:06:00.0",
        product_architecture: "Ada Lovelace",
        board_part_number: "900-5G192-1770-000",
        memory_total_mib: 20475,
        power_default_limit_watts: 70,
        power_min_limit_watts: 30,
        power_max_limit_watts: 70,
        power_enforced_limit_watts: 70,
        temperature_target_celsius: 88,
        // Only T.Limit-relative thresholds in this file: T.Limit = 38 C + 49 C = 87 C;
        // shutdown -7 → 94, slowdown -2 → 89, max operating 0 → 87.
        temperature_shutdown_celsius: 94,
        temperature_slowdown_celsius: 89,
        temperature_max_operating_celsius: 87,
      },
    ],
  },
  "tesla-t4.xml": {
    driverVersion: "515.105.01",
    cudaVersion: "11.7",
    schema: "nvsmi_device_v11",
    gpus: [
      {
        index: 0,
        uuid: "GPU-d37e67a5-91dd-3774-a5cb-99096249601a",
        name: "Tesla T4",
        serial: "0000000000000",
        vbios_version: "90.04.84.00.06",
        pci_bus_id: "00000000:00:1E.0",
        product_architecture: "Turing",
        board_part_number: "900-2G183-0000-001",
        memory_total_mib: 15360,
        power_default_limit_watts: 70,
        power_min_limit_watts: 60,
        power_max_limit_watts: 70,
        power_enforced_limit_watts: 70,
        temperature_shutdown_celsius: 96,
        temperature_slowdown_celsius: 93,
        temperature_max_operating_celsius: 85,
      },
    ],
  },
};

describe("inventory from nvidia-smi -q -x", () => {
  const files = readdirSync(XML_DIR)
    .filter((f) => f.endsWith(".xml"))
    .sort();

  it("has expectations for every fixture", () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)("%s", async (file) => {
    const inventory = await inventoryFromXml(readFileSync(join(XML_DIR, file), "utf8"));
    // toStrictEqual: a key present with undefined (or 0 for N/A) would fail.
    expect(inventory).toStrictEqual(EXPECTED[file]);
  });

  it("several GPUs are listed in index order", async () => {
    const one = readFileSync(join(XML_DIR, "tesla-t4.xml"), "utf8");
    const gpu = /<gpu id=[\s\S]*<\/gpu>/.exec(one)?.[0] ?? "";
    const two = one.replace(
      gpu,
      `${gpu}\n${gpu.replace(/GPU-d37e67a5/g, "GPU-second00").replace(/00000000:00:1E\.0/g, "00000000:00:1F.0")}`,
    );
    const inventory = await inventoryFromXml(two);
    expect(inventory.gpus.map((g) => [g.index, g.uuid?.slice(0, 12), g.pci_bus_id])).toEqual([
      [0, "GPU-d37e67a5", "00000000:00:1E.0"],
      [1, "GPU-second00", "00000000:00:1F.0"],
    ]);
  });

  it("unreadable XML rejects with GPUTEL_E_INVENTORY", async () => {
    await expect(inventoryFromXml("<nvidia_smi_log><gpu>")).rejects.toMatchObject({
      code: "GPUTEL_E_INVENTORY",
    });
    await expect(inventoryFromXml("<other/>")).rejects.toBeInstanceOf(GputelError);
  });
});
