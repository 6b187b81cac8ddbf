// The text parsers never throw, whatever nvidia-smi (or a broken pipe) prints.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePmon } from "../../../agent/holders/pmon.js";
import { parseComputeAppRows } from "../../../agent/sources/nvidia-smi/compute-apps.js";
import {
  parseCreateReplies,
  parseListGpus,
  parseQueryText,
} from "../../../agent/sources/nvidia-smi/mig-text.js";

const PMON_HEAD = "# gpu         pid   type     sm    mem    enc    dec    jpg    ofa    command \n";
const pieces = fc.constantFrom(
  "0",
  "-",
  "C",
  "C+G",
  " ",
  "  ",
  "\n",
  "#",
  "GPU-1",
  "MIG-2",
  ", ",
  "[N/A]",
  "12 MiB",
  "MIG Device",
  "    Processes",
  "        Process ID : 5",
  "GPU 00000000:01:00.0",
  "  MIG 1g.5gb Device 0: (UUID: MIG-x)",
);
const texts = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.array(pieces, { maxLength: 60 }).map((p) => p.join("")),
);

describe.each([
  ["parsePmon", (t: string) => parsePmon(t)],
  ["parsePmon after a header", (t: string) => parsePmon(PMON_HEAD + t)],
  [
    "parseComputeAppRows",
    (t: string) => parseComputeAppRows(t, ["gpu_uuid", "pid", "process_name", "used_gpu_memory"]),
  ],
  ["parseListGpus", (t: string) => parseListGpus(t)],
  ["parseQueryText", (t: string) => parseQueryText(t)],
  ["parseCreateReplies", (t: string) => parseCreateReplies(t)],
])("%s", (_name, parse) => {
  it("never throws", () => {
    fc.assert(
      fc.property(texts, (text) => {
        expect(() => parse(text)).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });
});
