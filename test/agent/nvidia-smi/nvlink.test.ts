// `nvidia-smi nvlink -s` / `-e` from every capture (test/fixtures/nvidia-smi/captures/) and the
// pasted copies in test/fixtures/nvidia-smi/extra/: links and speeds, and the "not supported",
// "all links inactive" and MIG answers handled as such, not as errors.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  nvlinkStatusSummary,
  parseNvlinkErrors,
  parseNvlinkStatus,
} from "../../../agent/sources/nvidia-smi/nvlink.js";
import { captureFiles, FIXTURES, readCapture, section } from "./capture.js";

const ZERO_UUID = "GPU-00000000-0000-0000-0000-000000000000";

const CAPTURES: Record<
  string,
  { name: string; support: string; links: number; speed?: number; note?: string }
> = {
  "linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05.txt": {
    name: "NVIDIA GeForce RTX 2080 SUPER",
    support: "all-inactive",
    links: 0,
    note: "NVML: Unable to retrieve Nvlink information as all links are inActive",
  },
  "linux-x86_64__nvidia-geforce-rtx-4080-super__595.71.05.txt": {
    name: "NVIDIA GeForce RTX 4080 SUPER",
    support: "not-supported",
    links: 0,
    note: "Device does not have or support Nvlink",
  },
  "linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt": {
    name: "NVIDIA H100 80GB HBM3",
    support: "supported",
    links: 18,
    speed: 26.562,
  },
  "linux-x86_64__nvidia-h100-mig__590.48.01.txt": {
    name: "NVIDIA H100 80GB HBM3",
    support: "mig",
    links: 0,
    note: "Nvlink queries are not supported for Devices in MIG mode",
  },
  "linux-x86_64__nvidia-l40s__595.80.txt": {
    name: "NVIDIA L40S",
    support: "not-supported",
    links: 0,
    note: "Device does not have or support Nvlink",
  },
};

describe("nvidia-smi nvlink -s", () => {
  it("has an expectation for every capture", () => {
    expect(captureFiles()).toEqual(Object.keys(CAPTURES).sort());
  });

  for (const [file, want] of Object.entries(CAPTURES)) {
    it(file, () => {
      const { output } = section(readCapture(file), "capabilities", "nvlink -s");
      const { gpus, unparsed } = parseNvlinkStatus(output);
      expect(unparsed).toEqual([]);
      expect(gpus).toHaveLength(1);
      const [gpu] = gpus;
      expect(gpu).toMatchObject({ index: 0, name: want.name, uuid: ZERO_UUID, support: want.support });
      expect(gpu?.note).toBe(want.note ?? null);
      expect(gpu?.links.map((l) => l.link)).toEqual(Array.from({ length: want.links }, (_, i) => i));
      for (const l of gpu?.links ?? []) expect(l).toMatchObject({ state: "up", speedGBps: want.speed });
      if (gpu) expect(nvlinkStatusSummary(gpu)).toEqual({ up: want.links, inactive: 0, belowFastest: 0 });
    });
  }

  it("reads the 8x A100 copy (spaces instead of the TAB)", () => {
    const text = readFileSync(join(FIXTURES, "extra/nvlink_status_gpud_a100.txt"), "utf8");
    const { gpus, unparsed } = parseNvlinkStatus(text);
    expect(unparsed).toEqual([]);
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus[7]?.uuid).toBe("GPU-754035b4-4708-efcd-b261-623aea38bcad");
    for (const g of gpus) {
      expect(g.support).toBe("supported");
      expect(g.links).toHaveLength(12);
      expect(g.links.every((l) => l.speedGBps === 25)).toBe(true);
    }
  });

  it("counts inactive links and links slower than the GPU's fastest", () => {
    // The H100 capture with link 3 down and link 5 trained to a lower speed.
    const { output } = section(
      readCapture("linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt"),
      "capabilities",
      "nvlink -s",
    );
    const edited = output
      .replace("Link 3: 26.562 GB/s", "Link 3: <inactive>")
      .replace("Link 5: 26.562 GB/s", "Link 5: 13.281 GB/s");
    const [gpu] = parseNvlinkStatus(edited).gpus;
    expect(gpu?.links[3]).toEqual({ link: 3, state: "inactive", speedGBps: null, text: "<inactive>" });
    expect(gpu && nvlinkStatusSummary(gpu)).toEqual({ up: 17, inactive: 1, belowFastest: 1 });
  });

  it("keeps what it does not understand apart instead of throwing", () => {
    const { gpus, unparsed } = parseNvlinkStatus(
      "Failed to initialize NVML: Driver/library version mismatch\n",
    );
    expect(gpus).toEqual([]);
    expect(unparsed).toEqual(["Failed to initialize NVML: Driver/library version mismatch"]);
    expect(parseNvlinkStatus("GPU 0: X (UUID: GPU-1)\nsomething odd\n").gpus[0]).toMatchObject({
      support: "error",
      note: "something odd",
    });
  });
});

describe("nvidia-smi nvlink -e", () => {
  it("reads the counters per link (H100 copy, elided links skipped)", () => {
    const text = readFileSync(join(FIXTURES, "extra/nvlink_e_mlengineering_h100.txt"), "utf8");
    const { gpus, unparsed } = parseNvlinkErrors(text);
    expect(unparsed).toEqual([]);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]).toMatchObject({ index: 0, name: "NVIDIA H100 80GB HBM3", support: "supported" });
    const zero = { "Replay Errors": 0, "Recovery Errors": 0, "CRC Errors": 0 };
    expect(gpus[0]?.links).toEqual([
      { link: 0, counters: zero },
      { link: 1, counters: zero },
      { link: 17, counters: zero },
    ]);
  });

  it("reads non-zero and N/A counters, and the unsupported answers", () => {
    const text =
      "GPU 0: A (UUID: GPU-a)\n\t Link 2: Replay Errors: 7\n\t Link 2: CRC Errors: N/A\nGPU 1: B (UUID: GPU-b)\nNvlink queries are not supported for Devices in MIG mode\n";
    const { gpus } = parseNvlinkErrors(text);
    expect(gpus[0]?.links).toEqual([{ link: 2, counters: { "Replay Errors": 7, "CRC Errors": null } }]);
    expect(gpus[1]).toMatchObject({ support: "mig", links: [] });
  });
});
