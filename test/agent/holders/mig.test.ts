// MIG inventory and per-process attribution from the real outputs: the A100 XML with four MIG
// devices, the H100 MIG capture (-L + -q under load), the A100 `-L` with seven devices, and the
// `mig -cgi/-cci` replies; plus `<processes>` of every XML fixture and `-q` text processes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildMigInventory, MIG_UTILIZATION_ABSENT } from "../../../agent/sources/nvidia-smi/mig.js";
import {
  parseCreateReplies,
  parseListGpus,
  parseQueryText,
} from "../../../agent/sources/nvidia-smi/mig-text.js";
import { readXmlHolders } from "../../../agent/sources/nvidia-smi/xml-holders.js";
import { convertSmiXml } from "../../../agent/sources/nvidia-smi/xml-query.js";
import { readCapture, section } from "../nvidia-smi/capture.js";

const FIXTURES = join(import.meta.dirname, "../../fixtures/nvidia-smi");
const read = (path: string) => readFileSync(join(FIXTURES, path), "utf8");
const xml = async (file: string) => readXmlHolders((await convertSmiXml(read(`xml/${file}`))).doc);
const H100_MIG = "linux-x86_64__nvidia-h100-mig__590.48.01.txt";

describe("<processes> of every XML fixture", () => {
  it.each([
    ["a100-sxm4-v12.xml", []],
    ["a10g.xml", [[725, "G", "/usr/lib/xorg/Xorg", 22]]],
    ["gtx-1070-ti.xml", []],
    ["quadro-p400.xml", []],
    ["rtx-3080-v13.xml", []],
    [
      "rtx-4000-sff-ada-v13.xml",
      [
        [1842, "G", "cosmic-comp", 410],
        [3190, "G", "/usr/bin/code", 451],
        [4937, "C", "python", 160],
        [34626, "C+G", "/usr/lib/chromium/chromium", 183],
      ],
    ],
    [
      "tesla-t4.xml",
      [
        [675, "G", "/usr/lib/xorg/Xorg", 22],
        [5762, "C", "python", 1005],
      ],
    ],
  ])("%s", async (file, expected) => {
    const gpus = await xml(file);
    expect(gpus).toHaveLength(1);
    const processes = gpus[0]?.processes ?? [];
    expect(processes.map((p) => [p.pid, p.type, p.name, p.usedMemoryMib])).toEqual(expected);
    // Outside MIG the instance ids print N/A: absent, not 0.
    for (const p of processes) {
      expect(p.gpuInstanceId).toBeUndefined();
      expect(p.computeInstanceId).toBeUndefined();
    }
  });
});

describe("A100 -q -x with four MIG devices", () => {
  it("lists each device's instance ids, SMs and memory; utilization absent with its reason", async () => {
    const gpus = await xml("a100-sxm4-v12.xml");
    expect(gpus[0]?.migDevices).toEqual(
      [3, 4, 5, 6].map((gi, index) => ({
        index,
        gpuInstanceId: gi,
        computeInstanceId: 0,
        smCount: 14,
        memoryTotalMib: 19968,
        memoryUsedMib: 12,
      })),
    );
    const inventory = buildMigInventory({ detail: gpus });
    expect(inventory.instances).toHaveLength(4);
    for (const i of inventory.instances) {
      expect(i.utilization).toEqual(MIG_UTILIZATION_ABSENT);
      expect(i.processes).toEqual([]);
    }
    expect(inventory.unattributed).toEqual([]);
  });

  it("GPUs without MIG have no MIG devices", async () => {
    for (const file of ["a10g.xml", "rtx-3080-v13.xml", "tesla-t4.xml"])
      expect((await xml(file))[0]?.migDevices).toEqual([]);
  });
});

describe("H100 MIG capture: -L joined with -q (load)", () => {
  const sections = readCapture(H100_MIG);
  const listed = parseListGpus(section(sections, "capabilities", "list (-L)").output);
  const detail = parseQueryText(section(sections, "load", "query (-q)").output);

  it("-L gives profile and MIG UUID per device", () => {
    expect(listed).toEqual([
      {
        index: 0,
        name: "NVIDIA H100 80GB HBM3",
        uuid: "GPU-00000000-0000-0000-0000-000000000000",
        migDevices: [
          { profile: "3g.40gb", deviceIndex: 0, uuid: "MIG-00000000-0000-0000-0000-000000000000" },
          { profile: "2g.20gb", deviceIndex: 1, uuid: "MIG-00000001-0000-0000-0000-000000000001" },
          { profile: "1g.10gb", deviceIndex: 2, uuid: "MIG-00000002-0000-0000-0000-000000000002" },
          { profile: "1g.10gb", deviceIndex: 3, uuid: "MIG-00000003-0000-0000-0000-000000000003" },
        ],
      },
    ]);
  });

  it("every process lands on the instance it runs on (GI 2 / CI 0 = MIG device 0)", () => {
    const { instances, unattributed } = buildMigInventory({ listed, detail });
    expect(
      instances.map((i) => [
        i.deviceIndex,
        i.uuid,
        i.profile,
        i.gpuInstanceId,
        i.computeInstanceId,
        i.smCount,
        i.memoryTotalMib,
        i.memoryUsedMib,
        i.processes.map((p) => p.pid),
      ]),
    ).toEqual([
      [
        0,
        "MIG-00000000-0000-0000-0000-000000000000",
        "3g.40gb",
        2,
        0,
        60,
        40448,
        11091,
        [21180, 21181, 21198],
      ],
      [1, "MIG-00000001-0000-0000-0000-000000000001", "2g.20gb", 3, 0, 32, 20096, 17, []],
      [2, "MIG-00000002-0000-0000-0000-000000000002", "1g.10gb", 9, 0, 16, 9984, 9, []],
      [3, "MIG-00000003-0000-0000-0000-000000000003", "1g.10gb", 10, 0, 16, 9984, 9, []],
    ]);
    expect(unattributed).toEqual([]);
    const device0 = instances[0];
    expect(device0?.gpuIndex).toBe(0);
    expect(device0?.processes.map((p) => [p.name, p.usedMemoryMib])).toEqual([
      ["/root/tools/memhog", 2296],
      ["/root/tools/memhog", 1272],
      ["./gpu_burn", 7484],
    ]);
    // The processes' memory fits in what the instance reports used.
    const sum = device0?.processes.reduce((s, p) => s + (p.usedMemoryMib ?? 0), 0) ?? 0;
    expect(sum).toBeLessThanOrEqual(device0?.memoryUsedMib ?? 0);
    for (const i of instances) expect(i.utilization.reason).toBe(MIG_UTILIZATION_ABSENT.reason);
  });

  it("idle -q: the same four instances, no processes", () => {
    const idle = parseQueryText(section(sections, "idle", "query (-q)").output);
    const { instances } = buildMigInventory({ listed, detail: idle });
    expect(instances.map((i) => i.processes.length)).toEqual([0, 0, 0, 0]);
    expect(instances.map((i) => i.gpuInstanceId)).toEqual([2, 3, 9, 10]);
  });

  it("a process on an instance nobody listed is kept as unattributed, not dropped", () => {
    const { unattributed } = buildMigInventory({
      listed,
      detail: [
        {
          gpuUuid: listed[0]?.uuid ?? "",
          migDevices: [],
          processes: [{ pid: 7, type: "C", name: "x", gpuInstanceId: 13, computeInstanceId: 0 }],
        },
      ],
    });
    expect(unattributed.map((u) => u.process.pid)).toEqual([7]);
  });
});

describe("other MIG outputs", () => {
  it("-L of an A100 with seven 1g.10gb devices (real UUIDs)", () => {
    const gpus = parseListGpus(read("extra/mig_L_issue_datadog-agent-pr33120_a100.txt"));
    expect(gpus).toHaveLength(1);
    expect(gpus[0]?.uuid).toBe("GPU-7fdaf0a5-179b-f636-d15d-daf243e3ff16");
    expect(gpus[0]?.migDevices.map((d) => [d.deviceIndex, d.profile])).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((i) => [i, "1g.10gb"]),
    );
    expect(gpus[0]?.migDevices[6]?.uuid).toBe("MIG-1aae4990-b962-574e-8375-119d6d9b9687");
  });

  it("older drivers' MIG-GPU-<uuid>/<gi>/<ci> spelling gives the instance ids", () => {
    const gpus = parseListGpus(
      "GPU 0: A100-SXM4-40GB (UUID: GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77)\n  MIG 1g.5gb Device 0: (UUID: MIG-GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77/7/0)\n",
    );
    expect(gpus[0]?.migDevices[0]).toMatchObject({
      gpuInstanceId: 7,
      computeInstanceId: 0,
      profile: "1g.5gb",
    });
  });

  it("mig -cgi / -cci replies: seven GPU instances, four compute instances (the thread's)", () => {
    const created = parseCreateReplies(read("extra/mig_cgi_cci_issue_dask-cuda-583.txt"));
    expect(created.filter((c) => c.kind === "gpu-instance").map((c) => c.gpuInstanceId)).toEqual([
      9, 7, 8, 11, 12, 13, 14,
    ]);
    expect(created.filter((c) => c.kind === "compute-instance")).toEqual(
      [7, 8, 9, 11].map((gi) => ({
        kind: "compute-instance",
        computeInstanceId: 0,
        gpuIndex: 0,
        gpuInstanceId: gi,
        profile: "1g.5gb",
        profileId: 0,
      })),
    );
    const { instances } = buildMigInventory({ created });
    expect(instances).toHaveLength(7);
    expect(instances.filter((i) => i.computeInstanceId === 0).map((i) => i.gpuInstanceId)).toEqual([
      7, 8, 9, 11,
    ]);
    for (const i of instances) expect(i).toMatchObject({ gpuIndex: 0, profile: "1g.5gb", profileId: 19 });
  });
});

describe("-q text processes outside MIG", () => {
  it.each([
    ["extra/smi_q_gpud_h100_535.183.01.txt", 8, 1],
    ["extra/smi_q_gpud_rtx4090x8_535.154.05.txt", 8, 7],
  ])("%s", (file, gpus, processes) => {
    const parsed = parseQueryText(read(file));
    expect(parsed).toHaveLength(gpus);
    const all = parsed.flatMap((g) => g.processes);
    expect(all).toHaveLength(processes);
    for (const p of all) {
      expect(p.pid).toBeGreaterThan(0);
      expect(p.type).toBe("C");
      expect(p.usedMemoryMib).toBeGreaterThan(0);
      expect(p.gpuInstanceId).toBeUndefined();
    }
    for (const g of parsed) expect(g.gpuUuid).toMatch(/^GPU-/);
  });

  it("the 4090 host: a named process with its memory", () => {
    const first = parseQueryText(read("extra/smi_q_gpud_rtx4090x8_535.154.05.txt"))[0];
    expect(first?.processes).toEqual([
      { pid: 58130, type: "C", name: "/usr/bin/python", usedMemoryMib: 20322 },
    ]);
  });
});

describe("XML processes on a MIG GPU", () => {
  it("reads gpu_instance_id / compute_instance_id and attaches the process to its device", async () => {
    // The real A100 document with its empty <processes /> replaced by one process on GPU
    // instance 5 (no MIG process is among the XML fixtures; the element layout is the one the
    // non-MIG fixtures show, with numbers where they print N/A).
    const text = read("xml/a100-sxm4-v12.xml").replace(
      "<processes />",
      "<processes><process_info><gpu_instance_id>5</gpu_instance_id><compute_instance_id>0</compute_instance_id>" +
        "<pid>4121</pid><type>C</type><process_name>python3</process_name><used_memory>9000 MiB</used_memory>" +
        "</process_info></processes>",
    );
    const gpus = readXmlHolders((await convertSmiXml(text)).doc);
    expect(gpus[0]?.processes).toEqual([
      { pid: 4121, type: "C", name: "python3", usedMemoryMib: 9000, gpuInstanceId: 5, computeInstanceId: 0 },
    ]);
    const { instances } = buildMigInventory({ detail: gpus });
    expect(instances.map((i) => [i.deviceIndex, i.processes.map((p) => p.pid)])).toEqual([
      [0, []],
      [1, []],
      [2, [4121]],
      [3, []],
    ]);
  });
});
