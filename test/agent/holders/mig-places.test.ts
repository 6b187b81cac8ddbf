// Which MIG device each compute process runs on, from the real MIG outputs: the H100 MIG capture
// (--query-compute-apps names the parent GPU; -L gives the MIG UUIDs; -q lists each process with
// its GPU and compute instance) and the A100 XML with four MIG devices. Where the outputs do not
// say, the place is missing with its reason, never guessed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { migPlaceKey, migPlaces } from "../../../agent/holders/mig-places.js";
import { parseComputeAppRows } from "../../../agent/sources/nvidia-smi/compute-apps.js";
import { parseListGpus, parseQueryText } from "../../../agent/sources/nvidia-smi/mig-text.js";
import { readXmlHolders } from "../../../agent/sources/nvidia-smi/xml-holders.js";
import { convertSmiXml } from "../../../agent/sources/nvidia-smi/xml-query.js";
import { AbsentReason } from "../../../shared/proto.js";
import { FIXTURES, readCapture, section } from "../nvidia-smi/capture.js";

const H100_MIG = "linux-x86_64__nvidia-h100-mig__590.48.01.txt";
const GPU = "GPU-00000000-0000-0000-0000-000000000000";
const sections = readCapture(H100_MIG);
const listed = parseListGpus(section(sections, "capabilities", "list (-L)").output);
const loadQ = parseQueryText(section(sections, "load", "query (-q)").output);
const rows = (() => {
  const parsed = parseComputeAppRows(section(sections, "load", "query-compute-apps").output);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.rows;
})();
const ERROR = AbsentReason.ABSENT_REASON_ERROR;
const UNSUPPORTED = AbsentReason.ABSENT_REASON_UNSUPPORTED;

describe("MIG places from the H100 MIG capture", () => {
  it("the rows name only the parent GPU; -L and -q put all three on MIG device 0 (3g.40gb)", () => {
    expect(rows.map((r) => [r.gpuUuid, r.pid])).toEqual([
      [GPU, 21180],
      [GPU, 21181],
      [GPU, 21198],
    ]);
    const places = migPlaces(rows, new Set([GPU]), listed, loadQ);
    expect([...places]).toEqual(
      [21180, 21181, 21198].map((pid) => [
        migPlaceKey(GPU, pid),
        { migUuid: "MIG-00000000-0000-0000-0000-000000000000" },
      ]),
    );
  });

  it("only rows on GPUs in MIG mode get a place", () => {
    expect(migPlaces(rows, new Set(), listed, loadQ).size).toBe(0);
  });

  it("a process the -q reading does not list (the idle one) is missing, not guessed", () => {
    const idleQ = parseQueryText(section(sections, "idle", "query (-q)").output);
    const places = migPlaces(rows, new Set([GPU]), listed, idleQ);
    expect(places.get(migPlaceKey(GPU, 21180))).toEqual({
      missing: "not among nvidia-smi -q -x's processes",
      reason: ERROR,
    });
    expect(migPlaces(rows, new Set([GPU]), listed, []).get(migPlaceKey(GPU, 21198))).toEqual({
      missing: "nvidia-smi -q -x did not list this GPU",
      reason: ERROR,
    });
  });

  it("an instance -L does not list is named in the reason", () => {
    const places = migPlaces(rows, new Set([GPU]), [], loadQ);
    expect(places.get(migPlaceKey(GPU, 21180))).toEqual({
      missing: "GPU instance 2 / compute instance 0 is not a MIG device nvidia-smi -L lists",
      reason: ERROR,
    });
  });
});

describe("MIG places from the A100 XML (four MIG devices)", () => {
  const a100 = readFileSync(join(FIXTURES, "xml/a100-sxm4-v12.xml"), "utf8");
  // The real document's empty <processes /> with two processes in the fixtures' element layout:
  // one on GPU instance 5, one whose ids print N/A (as the XML prints them outside MIG).
  const info = (gi: string, pid: number) =>
    `<process_info><gpu_instance_id>${gi}</gpu_instance_id><compute_instance_id>${gi === "N/A" ? "N/A" : "0"}</compute_instance_id>` +
    `<pid>${pid}</pid><type>C</type><process_name>python3</process_name><used_memory>900 MiB</used_memory></process_info>`;
  const detail = async () =>
    readXmlHolders(
      (
        await convertSmiXml(
          a100.replace("<processes />", `<processes>${info("5", 4121)}${info("N/A", 4122)}</processes>`),
        )
      ).doc,
    );

  it("joins -L by device index: GPU instance 5 is device 2", async () => {
    const gpus = await detail();
    const uuid = gpus[0]?.gpuUuid ?? "";
    // An -L for this machine in the tool's layout (the fixture set has none for it).
    const list = parseListGpus(
      [
        `GPU 0: NVIDIA A100-SXM4-80GB (UUID: ${uuid})`,
        ...[0, 1, 2, 3].map(
          (i) => `  MIG 1g.20gb     Device  ${i}: (UUID: MIG-aaaaaaaa-0000-0000-0000-00000000000${i})`,
        ),
      ].join("\n"),
    );
    const places = migPlaces(
      [
        { gpuUuid: uuid, pid: 4121 },
        { gpuUuid: uuid, pid: 4122 },
      ],
      new Set([uuid]),
      list,
      gpus,
    );
    expect(places.get(migPlaceKey(uuid, 4121))).toEqual({
      migUuid: "MIG-aaaaaaaa-0000-0000-0000-000000000002",
    });
    expect(places.get(migPlaceKey(uuid, 4122))).toEqual({
      missing: "nvidia-smi gave no GPU instance id for it",
      reason: UNSUPPORTED,
    });
  });
});
