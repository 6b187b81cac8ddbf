// `-q -x`: replay builds the document from the capture's own values; scenario mode from the model
// presets. Both parse as nvidia-smi XML and agree with the real sources they stand in for.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findSection, parseCapture, qValue } from "../../mock-smi/capture.js";
import { qBlocks } from "../../mock-smi/replay-xml.js";
import { CAPTURE_DIR, CAPTURES, mockSmi, readCapture, XML_DIR } from "./helpers.js";

type XmlNode = { [key: string]: XmlNode | string | undefined } & { $?: Record<string, string> };
const xml2js = createRequire(import.meta.url)("xml2js") as {
  parseStringPromise(xml: string, options: { explicitArray: boolean }): Promise<{ nvidia_smi_log: XmlNode }>;
};
const parseXml = async (xml: string): Promise<XmlNode> =>
  (await xml2js.parseStringPromise(xml, { explicitArray: false })).nvidia_smi_log;

function at(node: XmlNode | string | undefined, path: string): string | undefined {
  let cursor: XmlNode | string | undefined = node;
  for (const key of path.split("/")) cursor = typeof cursor === "object" ? cursor[key] : undefined;
  return typeof cursor === "string" ? cursor : undefined;
}

describe.each(CAPTURES)("replay -q -x of %s", (file) => {
  it.each(["idle", "load"])(
    "%s: parses and carries the capture's identity, limits and thresholds",
    async (phase) => {
      const capture = parseCapture(readCapture(file));
      const result = await mockSmi(["--replay", join(CAPTURE_DIR, file), "--phase", phase, "--", "-q", "-x"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        /^<\?xml version="1.0" \?>\n<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v13.dtd">\n/,
      );
      const log = await parseXml(result.stdout);
      const q = findSection(capture, phase, "query (-q)")?.output ?? "";
      const [busId = "", block = ""] = [...qBlocks(q)][0] ?? [];
      const gpu = log.gpu as XmlNode;
      expect(gpu.$?.id).toBe(busId);
      expect(at(log, "driver_version")).toBe(qValue(q, "Driver Version", 0));
      expect(at(log, "cuda_version")).toBe(qValue(q, "CUDA Version", 0));
      expect(at(log, "attached_gpus")).toBe("1");
      expect(at(gpu, "product_name")).toBe(qValue(block, "Product Name", 4));
      expect(at(gpu, "product_architecture")).toBe(qValue(block, "Product Architecture", 4));
      expect(at(gpu, "uuid")).toBe(qValue(block, "GPU UUID", 4));
      expect(at(gpu, "vbios_version")).toBe(qValue(block, "VBIOS Version", 4));
      expect(at(gpu, "pci/pci_bus_id")).toBe(busId);
      expect(at(gpu, "fb_memory_usage/total")).toBe(qValue(block, "Total", 8));
      expect(at(gpu, "mig_mode/current_mig")).toBe(qValue(block, "Current", 8));
      for (const [label, element] of [
        ["Default Power Limit", "default_power_limit"],
        ["Min Power Limit", "min_power_limit"],
        ["Max Power Limit", "max_power_limit"],
        ["Current Power Limit", "current_power_limit"],
      ]) {
        expect(at(gpu, `gpu_power_readings/${element}`)).toBe(qValue(block, label ?? "", 8));
      }
      const absolute = qValue(block, "GPU Slowdown Temp", 8);
      if (absolute !== undefined) {
        expect(at(gpu, "temperature/gpu_temp_slow_threshold")).toBe(absolute);
        expect(at(gpu, "temperature/gpu_temp_max_threshold")).toBe(qValue(block, "GPU Shutdown Temp", 8));
        expect(at(gpu, "temperature/gpu_temp_max_gpu_threshold")).toBe(
          qValue(block, "GPU Max Operating Temp", 8),
        );
      } else {
        expect(at(gpu, "temperature/gpu_temp_slow_tlimit_threshold")).toBe(
          qValue(block, "GPU Slowdown T.Limit Temp", 8),
        );
        expect(at(gpu, "temperature/gpu_temp_max_tlimit_threshold")).toBe(
          qValue(block, "GPU Shutdown T.Limit Temp", 8),
        );
      }
    },
  );
});

describe("scenario -q -x", () => {
  it("renders the A100 preset with the limits of a100-sxm4-v12.xml, in its v12 layout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mock-smi-xml-"));
    const scenario = join(dir, "a100.yaml");
    writeFileSync(
      scenario,
      [
        "start: 2026-07-14T08:00:00Z",
        'driver_version: "535.54.03"',
        'cuda_version: "12.2"',
        "gpus: [{ model: NVIDIA A100-SXM4-80GB, mig: [3g.40gb] }]",
      ].join("\n"),
    );
    const result = await mockSmi(["--scenario", scenario, "--", "-q", "-x"]);
    expect(result.stdout).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">/,
    );
    const fixtureText = readFileSync(join(XML_DIR, "a100-sxm4-v12.xml"), "utf8");
    // Same element layout: every static element line we print appears verbatim in the fixture.
    for (const element of [
      "product_name",
      "product_architecture",
      "vbios_version",
      "pci_device_id",
      "pci_sub_system_id",
    ]) {
      const line = result.stdout.split("\n").find((l) => l.includes(`<${element}>`));
      expect(fixtureText.split("\n")).toContain(line);
    }
    const fixture = (await parseXml(fixtureText)).gpu as XmlNode;
    const ours = (await parseXml(result.stdout)).gpu as XmlNode;
    for (const path of [
      "product_name",
      "product_brand",
      "product_architecture",
      "vbios_version",
      "mig_mode/current_mig",
      "fb_memory_usage/total",
      "fb_memory_usage/reserved",
      "temperature/gpu_temp_max_threshold",
      "temperature/gpu_temp_slow_threshold",
      "temperature/gpu_temp_max_gpu_threshold",
      "temperature/gpu_target_temperature",
      "temperature/gpu_temp_max_mem_threshold",
      "gpu_power_readings/current_power_limit",
      "gpu_power_readings/default_power_limit",
      "gpu_power_readings/min_power_limit",
      "gpu_power_readings/max_power_limit",
      "pci/pci_gpu_link_info/pcie_gen/max_link_gen",
      "pci/pci_gpu_link_info/link_widths/max_link_width",
    ]) {
      expect([path, at(ours, path)]).toEqual([path, at(fixture, path)]);
    }
  });
});
