import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CAPACITY_TABLE, capacityFor } from "../../../collector/reports/capacity-table.js";

const FIXTURES = join(import.meta.dirname, "../../fixtures/nvidia-smi");

/** Every product name the fixtures contain: XML <product_name>, -q "Product Name", -L lines. */
function fixtureNames(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(join(FIXTURES, "xml"))) {
    const text = readFileSync(join(FIXTURES, "xml", file), "utf8");
    for (const m of text.matchAll(/<product_name>([^<]+)<\/product_name>/g)) names.add(m[1]!.trim());
  }
  for (const file of readdirSync(join(FIXTURES, "captures"))) {
    const text = readFileSync(join(FIXTURES, "captures", file), "utf8");
    for (const m of text.matchAll(/^\s*Product Name\s*:\s*(.+)$/gm)) names.add(m[1]!.trim());
    for (const m of text.matchAll(/^GPU \d+: (.+?) \(UUID:/gm)) names.add(m[1]!.trim());
  }
  return names;
}

const EXPECTED: Record<string, string> = {
  "NVIDIA H100 80GB HBM3": "H100 SXM",
  "NVIDIA L40S": "L40S",
  "NVIDIA GeForce RTX 2080 SUPER": "RTX 2080 SUPER",
  "NVIDIA GeForce RTX 4080 SUPER": "RTX 4080 SUPER",
  "NVIDIA A100-SXM4-80GB": "A100",
  "NVIDIA A10G": "A10G",
  "NVIDIA GeForce RTX 3080": "RTX 3080",
  "NVIDIA RTX 4000 SFF Ada Generation": "RTX 4000 SFF Ada",
  "Quadro P400": "Quadro P400",
  "GeForce GTX 1070 Ti": "GTX 1070 Ti",
  "Tesla T4": "T4",
};

describe("capacity table", () => {
  it("matches every product name found in the fixtures", () => {
    const names = fixtureNames();
    expect(names.size).toBeGreaterThanOrEqual(11);
    for (const name of names) {
      expect(EXPECTED[name], `fixture product name "${name}" has no expectation`).toBeDefined();
      expect(capacityFor(name)?.model, name).toBe(EXPECTED[name]);
    }
  });

  it("matches the model in every capture's file name", () => {
    const slugs: Record<string, string> = {
      "nvidia-geforce-rtx-2080-super": "RTX 2080 SUPER",
      "nvidia-geforce-rtx-4080-super": "RTX 4080 SUPER",
      "nvidia-h100-80gb-hbm3": "H100 SXM",
      "nvidia-h100-mig": "H100 SXM",
      "nvidia-l40s": "L40S",
    };
    for (const file of readdirSync(join(FIXTURES, "captures"))) {
      const slug = file.split("__")[1]!;
      expect(capacityFor(slug)?.model, slug).toBe(slugs[slug]);
    }
  });

  it("tells similar names apart", () => {
    const cases: [string, string | undefined][] = [
      ["NVIDIA H100 PCIe", "H100 PCIe"],
      ["NVIDIA H100 NVL", "H100 NVL"],
      ["NVIDIA H200", "H200"],
      ["NVIDIA B200", "B200"],
      ["NVIDIA A10", "A10"],
      ["NVIDIA A100 80GB PCIe", "A100"],
      ["NVIDIA L4", "L4"],
      ["NVIDIA L40", "L40"],
      ["NVIDIA GeForce RTX 4090", "RTX 4090"],
      ["NVIDIA GeForce RTX 4080", "RTX 4080"],
      ["Tesla V100-SXM2-16GB", "V100"],
      ["Tesla V100-PCIE-32GB", "V100 PCIe"],
      ["NVIDIA GeForce GT 1030", undefined],
    ];
    for (const [name, model] of cases) expect(capacityFor(name)?.model, name).toBe(model);
  });

  it("every row cites a source and the published figures are the dense ones", () => {
    for (const row of CAPACITY_TABLE) expect(row.source, row.model).toMatch(/\(\d{4}\)/);
    const fig = (m: string) => CAPACITY_TABLE.find((r) => r.model === m)?.denseFp16Tflops;
    expect([
      fig("H100 SXM"),
      fig("H100 PCIe"),
      fig("A100"),
      fig("L40S"),
      fig("L4"),
      fig("T4"),
      fig("B200"),
    ]).toEqual([989.4, 756, 312, 362.05, 121, 65, 2250]);
    expect(fig("Quadro P400")).toBe(0);
  });
});
