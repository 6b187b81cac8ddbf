// `--replay CAPTURE [--phase idle|load]`: a backend answering from a real capture. Every field
// value, spelling and help text is the capture's own; only subsets and loops are computed.
import type { Backend, GpuRow, ProcessRow, QueryTable, TextTopic } from "./backend.js";
import {
  type Capture,
  findSection,
  type Phase,
  parseCapture,
  parseCsvTable,
  sectionForArgs,
} from "./capture.js";
import { parseFieldHelp } from "./field-catalogue.js";
import { replayXml } from "./replay-xml.js";

const TEXT_SECTIONS: Record<TextTopic, string> = {
  version: "version",
  help: "help (-h)",
  "help-query-gpu": "help-query-gpu",
  "help-query-compute-apps": "help-query-compute-apps",
  list: "list (-L)",
};

export class ReplayError extends Error {}

export function replayBackend(text: string, phase: Phase): Backend {
  const capture = parseCapture(text);
  const need = (phaseName: string, prefix: string) => {
    const section = findSection(capture, phaseName, prefix);
    if (section === undefined)
      throw new ReplayError(`the capture has no "${phaseName} :: ${prefix}" section`);
    return section;
  };
  const gpuCsv = parseCsvTable(need(phase, "query-gpu").output);
  const appCsv = parseCsvTable(findSection(capture, phase, "query-compute-apps")?.output ?? "");
  const gpus: GpuRow[] = gpuCsv.rows.map((cells, i) => {
    const values = new Map(gpuCsv.columns.map((c, j) => [c.name, cells[j] ?? ""]));
    return {
      index: Number(values.get("index") ?? i),
      busId: values.get("pci.bus_id") ?? "",
      uuid: values.get("uuid") ?? "",
      lost: false,
      values,
    };
  });
  const processes: ProcessRow[] = appCsv.rows.map((cells) => {
    const values = new Map(appCsv.columns.map((c, j) => [c.name, cells[j] ?? ""]));
    const owner = gpus.find((g) => g.uuid === values.get("gpu_uuid") || g.busId === values.get("gpu_bus_id"));
    return { gpuIndex: owner?.index ?? 0, values };
  });
  const gpuTable = table(capture, "help-query-gpu", gpuCsv.columns);
  const appTable = table(capture, "help-query-compute-apps", appCsv.columns);
  const qOutput = findSection(capture, phase, "query (-q)")?.output ?? "";
  return {
    gpuTable,
    appTable,
    slowStartMs: 0,
    staticFault: undefined,
    text: (topic) => findSection(capture, "capabilities", TEXT_SECTIONS[topic])?.output,
    snapshot: () => ({ gpus, processes }),
    health: () => ({ kind: "ok" }),
    xml: () => replayXml(qOutput, gpus, processes),
    verbatim: (args) => {
      const section = sectionForArgs(capture, phase, args);
      return section === undefined ? undefined : { output: section.output, exitCode: section.exitCode };
    },
  };
}

function table(
  capture: Capture,
  helpName: string,
  columns: readonly { name: string; unit?: string | undefined }[],
): QueryTable {
  const help = findSection(capture, "capabilities", helpName);
  if (help === undefined) throw new ReplayError(`the capture has no "capabilities :: ${helpName}" section`);
  const units = new Map<string, string>();
  for (const c of columns) if (c.unit !== undefined) units.set(c.name, c.unit);
  return { fields: parseFieldHelp(help.output), units };
}
