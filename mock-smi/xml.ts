// `nvidia-smi -q -x`: renders the inventory subset of the real document, in the element order
// and layout of the fixtures (test/fixtures/nvidia-smi/xml/: a100-sxm4-v12.xml, rtx-3080-v13.xml).
// Values are strings as the XML spells them ("81559 MiB", "89 C", "N/A"). Pure.
import { migDeviceNodes, type XmlMigDevice } from "./xml-mig.js";

export type { XmlMigDevice } from "./xml-mig.js";

export type Dtd = "v12" | "v13";

export interface XmlProcess {
  /** The MIG GPU/compute instance it runs on; `N/A` outside MIG. */
  gpuInstanceId: string;
  computeInstanceId: string;
  pid: string;
  type: string;
  name: string;
  usedMemory: string;
}

export interface XmlGpu {
  busId: string;
  productName: string;
  productBrand: string;
  architecture: string;
  migCurrent: string;
  migPending: string;
  /** `<mig_devices>`: the devices, `[]` for the tool's "None", undefined to leave it out. */
  migDevices?: readonly XmlMigDevice[] | undefined;
  serial: string;
  uuid: string;
  vbios: string;
  pciDeviceId: string;
  pciSubSystemId: string;
  linkGen: { max: string; current: string };
  linkWidth: { max: string; current: string };
  /** v13 `gpu_recovery_action` (`None`, `Reset`…) and `pci/replay_counter`, where the source has them. */
  recoveryAction?: string | undefined;
  replayCounter?: string | undefined;
  fanSpeed: string;
  performanceState: string;
  fb: { total: string; reserved: string; used: string; free: string };
  computeMode: string;
  utilization: { gpu: string; memory: string };
  /** [element, value] in document order: gpu_temp, gpu_temp_tlimit, thresholds (absolute or T.Limit). */
  temperature: readonly (readonly [string, string])[];
  power: {
    average: string;
    instant: string;
    current: string;
    requested: string;
    default: string;
    min: string;
    max: string;
  };
  clocks: { graphics: string; sm: string; mem: string; video: string };
  maxClocks: { graphics: string; sm: string; mem: string; video: string };
  processes: readonly XmlProcess[];
}

export interface XmlDoc {
  dtd: Dtd;
  timestamp: string;
  driverVersion: string;
  cudaVersion: string;
  attachedGpus: number;
  gpus: readonly XmlGpu[];
}

/** nvsmi_device_v13 came with the R560 drivers; older ones print v12. */
export function dtdForDriver(driverVersion: string): Dtd {
  return Number.parseInt(driverVersion, 10) >= 560 ? "v13" : "v12";
}

/** `[N/A]` (CSV spelling) → `N/A` (XML spelling). */
export function xmlValue(csvValue: string | undefined): string {
  if (csvValue === undefined) return "N/A";
  const bracketed = /^\[(.*)\]$/.exec(csvValue);
  return bracketed ? (bracketed[1] ?? "") : csvValue;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** An element: text on one line, children, or (`{ block }`) text on a line of its own. */
export type Node = readonly [string, string | { block: string } | readonly Node[]];

export function renderXml(doc: XmlDoc): string {
  const unit = doc.dtd === "v13" ? "\t" : "    ";
  const out: string[] = [
    doc.dtd === "v13" ? '<?xml version="1.0" ?>' : '<?xml version="1.0" encoding="UTF-8"?>',
    `<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_${doc.dtd}.dtd">`,
    "<nvidia_smi_log>",
  ];
  const emit = (node: Node, depth: number): void => {
    const [name, body] = node;
    const pad = unit.repeat(depth);
    if (typeof body === "string") {
      out.push(`${pad}<${name}>${escapeXml(body)}</${name}>`);
    } else if ("block" in body) {
      out.push(`${pad}<${name}>`, `${pad}${unit}${escapeXml(body.block)}`, `${pad}</${name}>`);
    } else if (body.length === 0) {
      out.push(doc.dtd === "v13" ? `${pad}<${name}>\n${pad}</${name}>` : `${pad}<${name} />`);
    } else {
      out.push(`${pad}<${name}>`);
      for (const child of body) emit(child, depth + 1);
      out.push(`${pad}</${name}>`);
    }
  };
  for (const node of [
    ["timestamp", doc.timestamp],
    ["driver_version", doc.driverVersion],
    ["cuda_version", doc.cudaVersion],
    ["attached_gpus", String(doc.attachedGpus)],
  ] as const) {
    emit(node, 1);
  }
  for (const gpu of doc.gpus) {
    out.push(`${unit}<gpu id="${escapeXml(gpu.busId)}">`);
    for (const node of gpuNodes(gpu, doc.dtd)) emit(node, 2);
    out.push(`${unit}</gpu>`);
  }
  if (doc.dtd === "v13") out.push("");
  out.push("</nvidia_smi_log>");
  return `${out.join("\n")}\n`;
}

function gpuNodes(gpu: XmlGpu, dtd: Dtd): Node[] {
  const [domain = "", bus = "", devfn = ""] = gpu.busId.split(":");
  const power: Node[] =
    dtd === "v13"
      ? [
          ["average_power_draw", gpu.power.average],
          ["instant_power_draw", gpu.power.instant],
        ]
      : [["power_draw", gpu.power.average]];
  return [
    ["product_name", gpu.productName],
    ["product_brand", gpu.productBrand],
    ["product_architecture", gpu.architecture],
    [
      "mig_mode",
      [
        ["current_mig", gpu.migCurrent],
        ["pending_mig", gpu.migPending],
      ],
    ],
    ...migDeviceNodes(gpu.migDevices),
    ["serial", gpu.serial],
    ["uuid", gpu.uuid],
    ["vbios_version", gpu.vbios],
    ...(dtd === "v13" && gpu.recoveryAction !== undefined
      ? [["gpu_recovery_action", gpu.recoveryAction] as Node]
      : []),
    [
      "pci",
      [
        ["pci_bus", bus],
        ["pci_device", devfn.split(".")[0] ?? ""],
        ["pci_domain", domain.slice(-4)],
        ["pci_device_id", gpu.pciDeviceId],
        ["pci_bus_id", gpu.busId],
        ["pci_sub_system_id", gpu.pciSubSystemId],
        [
          "pci_gpu_link_info",
          [
            [
              "pcie_gen",
              [
                ["max_link_gen", gpu.linkGen.max],
                ["current_link_gen", gpu.linkGen.current],
              ],
            ],
            [
              "link_widths",
              [
                ["max_link_width", gpu.linkWidth.max],
                ["current_link_width", gpu.linkWidth.current],
              ],
            ],
          ],
        ],
        ...(gpu.replayCounter === undefined
          ? []
          : [["replay_counter", gpu.replayCounter] as Node, ["replay_rollover_counter", "0"] as Node]),
      ],
    ],
    ["fan_speed", gpu.fanSpeed],
    ["performance_state", gpu.performanceState],
    [
      "fb_memory_usage",
      [
        ["total", gpu.fb.total],
        ["reserved", gpu.fb.reserved],
        ["used", gpu.fb.used],
        ["free", gpu.fb.free],
      ],
    ],
    ["compute_mode", gpu.computeMode],
    [
      "utilization",
      [
        ["gpu_util", gpu.utilization.gpu],
        ["memory_util", gpu.utilization.memory],
      ],
    ],
    ["temperature", gpu.temperature.map(([name, value]) => [name, value] as const)],
    [
      "gpu_power_readings",
      [
        ["power_state", gpu.performanceState],
        ...power,
        ["current_power_limit", gpu.power.current],
        ["requested_power_limit", gpu.power.requested],
        ["default_power_limit", gpu.power.default],
        ["min_power_limit", gpu.power.min],
        ["max_power_limit", gpu.power.max],
      ],
    ],
    ["clocks", clockNodes(gpu.clocks)],
    ["max_clocks", clockNodes(gpu.maxClocks)],
    [
      "processes",
      gpu.processes.map(
        (p): Node => [
          "process_info",
          [
            ["gpu_instance_id", p.gpuInstanceId],
            ["compute_instance_id", p.computeInstanceId],
            ["pid", p.pid],
            ["type", p.type],
            ["process_name", p.name],
            ["used_memory", p.usedMemory],
          ],
        ],
      ),
    ],
  ];
}

function clockNodes(c: XmlGpu["clocks"]): Node[] {
  return [
    ["graphics_clock", c.graphics],
    ["sm_clock", c.sm],
    ["mem_clock", c.mem],
    ["video_clock", c.video],
  ];
}
