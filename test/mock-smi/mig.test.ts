// MIG devices and processes on them in scenario mode, held against the real outputs: the H100 MIG
// capture's -L and -q (the same profiles give the same instance ids, SMs and memory), the A100
// XML's <mig_devices> (same element layout, same ids for four 1g.20gb), and processes whose
// <process_info> carries their GPU and compute instance, read back by the agent's own parsers.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildMigInventory } from "../../agent/sources/nvidia-smi/mig.js";
import { parseListGpus, parseQueryText } from "../../agent/sources/nvidia-smi/mig-text.js";
import { readXmlHolders } from "../../agent/sources/nvidia-smi/xml-holders.js";
import { convertSmiXml } from "../../agent/sources/nvidia-smi/xml-query.js";
import { migLayout } from "../../mock-smi/mig-layout.js";
import { findModel } from "../../mock-smi/models.js";
import { readCapture, section } from "../agent/nvidia-smi/capture.js";
import { mockSmi, XML_DIR } from "./helpers.js";

const H100_MIG = "linux-x86_64__nvidia-h100-mig__590.48.01.txt";

function scenario(lines: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), "mock-smi-mig-")), "s.yaml");
  writeFileSync(file, ["start: 2026-07-14T08:00:00Z", ...lines, ""].join("\n"));
  return file;
}

const holders = async (file: string) =>
  readXmlHolders((await convertSmiXml((await mockSmi(["--scenario", file, "--", "-q", "-x"])).stdout)).doc);

/** Element names of the first <mig_device>, in document order. */
const deviceTags = (xml: string) => {
  const block = xml.slice(xml.indexOf("<mig_device>"), xml.indexOf("</mig_device>"));
  return [...block.matchAll(/<([a-z_0-9]+)>/g)].map((m) => m[1]);
};

describe("MIG layout", () => {
  it("the H100 capture's profiles get the capture's instance ids, SMs and memory", async () => {
    const sections = readCapture(H100_MIG);
    const real = parseQueryText(section(sections, "idle", "query (-q)").output)[0]?.migDevices ?? [];
    const file = scenario([
      "gpus: [{ model: NVIDIA H100 80GB HBM3, mig: [3g.40gb, 2g.20gb, 1g.10gb, 1g.10gb] }]",
    ]);
    const ours = (await holders(file))[0]?.migDevices ?? [];
    const shape = (d: (typeof real)[number]) => [
      d.index,
      d.gpuInstanceId,
      d.computeInstanceId,
      d.smCount,
      d.memoryTotalMib,
    ];
    expect(real.map(shape)).toEqual([
      [0, 2, 0, 60, 40448],
      [1, 3, 0, 32, 20096],
      [2, 9, 0, 16, 9984],
      [3, 10, 0, 16, 9984],
    ]);
    expect(ours.map(shape)).toEqual(real.map(shape));
    // -L prints the capture's profile column and device numbering.
    const listed = parseListGpus((await mockSmi(["--scenario", file, "--", "-L"])).stdout);
    const realListed = parseListGpus(section(sections, "capabilities", "list (-L)").output);
    expect(listed[0]?.migDevices.map((d) => [d.deviceIndex, d.profile])).toEqual(
      realListed[0]?.migDevices.map((d) => [d.deviceIndex, d.profile]),
    );
  });

  it("four 1g.20gb on the A100 are instances 3..6 in a100-sxm4-v12.xml's element layout", async () => {
    const fixture = readFileSync(join(XML_DIR, "a100-sxm4-v12.xml"), "utf8");
    const real = readXmlHolders((await convertSmiXml(fixture)).doc)[0]?.migDevices ?? [];
    const file = scenario([
      'driver_version: "535.54.03"',
      "gpus: [{ model: NVIDIA A100-SXM4-80GB, mig: [1g.20gb, 1g.20gb, 1g.20gb, 1g.20gb] }]",
    ]);
    const xml = (await mockSmi(["--scenario", file, "--", "-q", "-x"])).stdout;
    const ours = readXmlHolders((await convertSmiXml(xml)).doc)[0]?.migDevices ?? [];
    const ids = (d: (typeof real)[number]) => [d.index, d.gpuInstanceId, d.computeInstanceId, d.smCount];
    expect(ours.map(ids)).toEqual(real.map(ids));
    expect(ours.map((d) => d.memoryTotalMib)).toEqual(real.map((d) => d.memoryTotalMib));
    expect(deviceTags(xml)).toEqual(deviceTags(fixture));
    // The fixture's own lines, indentation included, for what does not move.
    for (const line of xml.split("\n").filter((l) => /<(mig_devices|multiprocessor_count|total)>/.test(l)))
      expect(fixture.split("\n")).toContain(line);
  });

  it("a GPU without MIG prints the tool's None", async () => {
    const xml = (
      await mockSmi(["--scenario", scenario(["gpus: [{ model: NVIDIA L40S }]"]), "--", "-q", "-x"])
    ).stdout;
    expect(xml).toContain("\t\t<mig_devices>\n\t\t\tNone\n\t\t</mig_devices>\n");
    const fixture = readFileSync(join(XML_DIR, "rtx-3080-v13.xml"), "utf8");
    expect(fixture).toContain("\t\t<mig_devices>\n\t\t\tNone\n\t\t</mig_devices>\n");
  });

  it("seven 1g instances fill 7..13; what does not fit is refused", () => {
    const preset = findModel("NVIDIA A100-SXM4-80GB")?.mig;
    if (!preset) throw new Error("A100 preset has no MIG");
    const seven = migLayout(preset, Array(7).fill("1g.10gb"));
    expect("error" in seven ? seven : seven.map((d) => d.gpuInstanceId)).toEqual([7, 8, 9, 10, 11, 12, 13]);
    expect(migLayout(preset, ["4g.40gb", "4g.40gb"])).toEqual({
      error: expect.stringContaining("do not fit"),
    });
    expect(migLayout(preset, ["5g.50gb"])).toEqual({ error: expect.stringContaining("unknown MIG profile") });
  });
});

describe("processes on MIG devices", () => {
  const file = scenario([
    "gpus:",
    "  - model: NVIDIA A100-SXM4-80GB",
    "    mig: [1g.10gb, 3g.40gb]",
    "    processes:",
    "      - { pid: 4121, name: python3, used_memory: 9000, mig_device: 1 }",
    "      - { pid: 4122, name: python3, used_memory: 500, mig_device: 0 }",
    "      - { pid: 4123, name: other, used_memory: 100 }",
  ]);

  it("-q -x names each process's instance; -L and -q -x join to the device's UUID", async () => {
    const gpus = await holders(file);
    expect(gpus[0]?.processes.map((p) => [p.pid, p.gpuInstanceId, p.computeInstanceId])).toEqual([
      [4121, 2, 0],
      [4122, 7, 0],
      // No mig_device: the ids print N/A, as a driver that does not say.
      [4123, undefined, undefined],
    ]);
    const listed = parseListGpus((await mockSmi(["--scenario", file, "--", "-L"])).stdout);
    const { instances, unattributed } = buildMigInventory({ listed, detail: gpus });
    // The 1g.10gb takes slice 0 (instance 7), so the 3g.40gb starts at 4 (instance 2) and is
    // device 0: devices are numbered by instance id.
    expect(instances.map((i) => [i.deviceIndex, i.profile, i.processes.map((p) => p.pid)])).toEqual([
      [0, "3g.40gb", [4121]],
      [1, "1g.10gb", [4122]],
    ]);
    expect(instances.map((i) => i.memoryUsedMib)).toEqual([27 + 9000, 9 + 500]);
    expect(instances.every((i) => i.uuid?.startsWith("MIG-"))).toBe(true);
    expect(unattributed).toEqual([]);
    // --query-compute-apps keeps the parent GPU's UUID, as the MIG capture shows.
    const apps = await mockSmi([
      "--scenario",
      file,
      "--",
      "--query-compute-apps=gpu_uuid,pid",
      "--format=csv,noheader",
    ]);
    expect(
      new Set(
        apps.stdout
          .trim()
          .split("\n")
          .map((l) => l.split(", ")[0]),
      ),
    ).toEqual(new Set([listed[0]?.uuid]));
  });

  it("refuses mig_device without MIG or out of range", async () => {
    const bad = scenario([
      "gpus:",
      "  - { model: NVIDIA L40S, processes: [{ pid: 1, name: a, used_memory: 1, mig_device: 0 }] }",
      "  - model: NVIDIA H100 80GB HBM3",
      "    mig: [7g.80gb]",
      "    processes: [{ pid: 2, name: b, used_memory: 1, mig_device: 1 }]",
      "  - { model: NVIDIA H100 80GB HBM3, mig: [3g.40gb, 4g.40gb, 1g.10gb] }",
    ]);
    const r = await mockSmi(["--scenario", bad, "--", "-L"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("gpus[0].processes[0].mig_device: the GPU has no mig: devices");
    expect(r.stderr).toContain("gpus[1].processes[0].mig_device: expected a number from 0 to 0");
    expect(r.stderr).toContain("gpus[2].mig: 3g.40gb, 4g.40gb, 1g.10gb do not fit");
  });
});
