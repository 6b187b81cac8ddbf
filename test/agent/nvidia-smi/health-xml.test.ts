// GPU health readings from every file in test/fixtures/nvidia-smi/xml/ (values read from each file
// by hand), then from copies edited to show a fault (the fixtures are all healthy GPUs).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type GpuHealthXml,
  readHealth,
  recoveryActionOf,
} from "../../../agent/sources/nvidia-smi/health-xml.js";
import { convertSmiXml } from "../../../agent/sources/nvidia-smi/xml-query.js";
import { FIXTURES } from "./capture.js";

const XML_DIR = join(FIXTURES, "xml");
const readXml = (file: string) => readFileSync(join(XML_DIR, file), "utf8");

async function health(xml: string): Promise<GpuHealthXml[]> {
  const { doc, schema } = await convertSmiXml(xml);
  return readHealth(doc, schema);
}

const link = (
  genCurrent: number | null,
  genMax: number | null,
  widthCurrent: number | null,
  widthMax: number | null,
  genDeviceMax: number | null = null,
  genHostMax: number | null = null,
) => ({ genCurrent, genMax, genDeviceMax, genHostMax, widthCurrent, widthMax });

const NOTHING = {
  recoveryActionText: null,
  recoveryAction: null,
  remappedRows: null,
  retiredPagesPending: null,
  retiredPagesSingleBit: null,
  retiredPagesDoubleBit: null,
};
const NO_REMAP_FAULT = { correctable: 0, uncorrectable: 0, pending: false, failure: false };

const EXPECTED: Record<string, Omit<GpuHealthXml, "index">> = {
  "a100-sxm4-v12.xml": {
    ...NOTHING,
    pciBusId: "00000000:01:00.0",
    pcieReplayCounter: 0,
    pcieReplayRolloverCounter: 0,
    pcieLink: link(4, 4, 16, 16, 4, 4),
  },
  "a10g.xml": {
    ...NOTHING,
    pciBusId: "00000000:00:1E.0",
    remappedRows: NO_REMAP_FAULT,
    pcieReplayCounter: 0,
    pcieReplayRolloverCounter: 0,
    pcieLink: link(1, 4, 8, 16),
  },
  "gtx-1070-ti.xml": {
    ...NOTHING,
    pciBusId: "00000000:01:00.0",
    pcieReplayCounter: null,
    pcieReplayRolloverCounter: null,
    pcieLink: link(1, null, 16, null),
  },
  "quadro-p400.xml": {
    ...NOTHING,
    pciBusId: "00000000:43:00.0",
    pcieReplayCounter: 0,
    pcieReplayRolloverCounter: 0,
    pcieLink: link(1, 3, 16, 16),
  },
  "rtx-3080-v13.xml": {
    ...NOTHING,
    recoveryActionText: "None",
    recoveryAction: "none",
    pciBusId: "00000000:0C:00.0",
    pcieReplayCounter: 0,
    pcieReplayRolloverCounter: 0,
    pcieLink: link(4, 4, 16, 16, 4, 4),
  },
  "rtx-4000-sff-ada-v13.xml": {
    ...NOTHING,
    recoveryActionText: "None",
    recoveryAction: "none",
    remappedRows: NO_REMAP_FAULT,
    pciBusId: "00000000:06:00.0",
    pcieReplayCounter: 0,
    pcieReplayRolloverCounter: 0,
    pcieLink: link(1, 4, 16, 16, 4, 4),
  },
  "tesla-t4.xml": {
    ...NOTHING,
    retiredPagesPending: false,
    retiredPagesSingleBit: 0,
    retiredPagesDoubleBit: 0,
    pciBusId: "00000000:00:1E.0",
    pcieReplayCounter: 0,
    pcieReplayRolloverCounter: 0,
    pcieLink: link(3, 3, 8, 16),
  },
};

describe("nvidia-smi -q -x health readings", () => {
  it("has an expectation for every XML fixture", () => {
    expect(readdirSync(XML_DIR).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    it(file, async () => {
      expect(await health(readXml(file))).toEqual([{ index: 0, ...want }]);
    });
  }

  it("reads a recovery action, pending and failed row remapping, pending retirement and replays", async () => {
    const xml = readXml("rtx-4000-sff-ada-v13.xml")
      .replace("<gpu_recovery_action>None<", "<gpu_recovery_action>Drain and Reset<")
      .replace("<remapped_row_unc>0<", "<remapped_row_unc>3<")
      .replace("<remapped_row_pending>No<", "<remapped_row_pending>Yes<")
      .replace("<remapped_row_failure>No<", "<remapped_row_failure>Yes<")
      .replace("<pending_retirement>N/A<", "<pending_retirement>Yes<")
      .replace("<replay_counter>0<", "<replay_counter>1234<");
    const [gpu] = await health(xml);
    expect(gpu).toMatchObject({
      recoveryActionText: "Drain and Reset",
      recoveryAction: "drain-and-reset",
      remappedRows: { correctable: 0, uncorrectable: 3, pending: true, failure: true },
      retiredPagesPending: true,
      pcieReplayCounter: 1234,
    });
  });

  it("normalises recovery actions, keeping unknown spellings as other", () => {
    expect(
      ["None", "Reset", "GPU Reset", "Node Reboot", "Drain P2P", "Drain  and Reset", "Something"].map(
        recoveryActionOf,
      ),
    ).toEqual(["none", "reset", "reset", "reboot", "drain-p2p", "drain-and-reset", "other"]);
  });

  it("refuses a document without nvidia_smi_log", () => {
    expect(() => readHealth({ other: {} }, "unknown")).toThrow(/nvidia_smi_log/);
  });
});
