// GPU health readings from `nvidia-smi -q -x` (the document xml-gpu-facts.ts already reads): the
// GPU Recovery Action (DTD v13 `gpu_recovery_action`), remapped rows, retired pages pending,
// the PCIe replay counter and the PCIe link generation/width, current and maximum. Pure; raw
// readings only (the collector judges them). Absent (null) is never 0: N/A, Not Supported and
// missing elements all read as null.
//
// The current link generation and width drop when the GPU idles (power saving: the A10G fixture
// reads Gen 1 of 4 at idle), so "below maximum" means something only under load.
import { at, isNode, num, readRoot, text } from "./xml-gpu-facts.js";

/** NVML's recovery actions as nvidia-smi prints them; "other" keeps any other text. */
export type RecoveryAction = "none" | "reset" | "reboot" | "drain-p2p" | "drain-and-reset" | "other";

export interface GpuHealthXml {
  /**
   * Position in the document. Not always the GPU's index: nvidia-smi leaves out a GPU that fell
   * off the bus, so match a GPU by pciBusId.
   */
  index: number;
  /** `00000000:01:00.0`. */
  pciBusId: string;
  /** The text as printed (`None`), null where the element is absent or N/A (before v13). */
  recoveryActionText: string | null;
  recoveryAction: RecoveryAction | null;
  /** null where the GPU has no row remapper (`<remapped_rows>N/A</remapped_rows>`). */
  remappedRows: {
    correctable: number | null;
    uncorrectable: number | null;
    pending: boolean | null;
    failure: boolean | null;
  } | null;
  /** Dynamic page retirement pending (a reset or reboot retires them); null on GPUs without it. */
  retiredPagesPending: boolean | null;
  retiredPagesSingleBit: number | null;
  retiredPagesDoubleBit: number | null;
  pcieReplayCounter: number | null;
  pcieReplayRolloverCounter: number | null;
  pcieLink: {
    genCurrent: number | null;
    /** Maximum possible with this GPU and system (`pcie.link.gen.max`). */
    genMax: number | null;
    /** The GPU's own and the root port's maxima (v12+). */
    genDeviceMax: number | null;
    genHostMax: number | null;
    widthCurrent: number | null;
    widthMax: number | null;
  };
}

const RECOVERY: ReadonlyMap<string, RecoveryAction> = new Map([
  ["none", "none"],
  ["reset", "reset"],
  ["gpu reset", "reset"],
  ["reboot", "reboot"],
  ["node reboot", "reboot"],
  ["drain p2p", "drain-p2p"],
  ["drain and reset", "drain-and-reset"],
]);

export function recoveryActionOf(printed: string): RecoveryAction {
  return RECOVERY.get(printed.trim().toLowerCase().replace(/\s+/g, " ")) ?? "other";
}

function yesNo(node: unknown, ...path: string[]): boolean | null {
  const value = text(node, ...path).toLowerCase();
  if (value === "yes") return true;
  if (value === "no") return false;
  return null;
}

const count = (node: unknown, ...path: string[]) => num(node, path, 0, 2 ** 53) ?? null;

function remappedRows(gpu: unknown): GpuHealthXml["remappedRows"] {
  const node = at(gpu, "remapped_rows");
  if (!isNode(node)) return null;
  return {
    correctable: count(node, "remapped_row_corr"),
    uncorrectable: count(node, "remapped_row_unc"),
    pending: yesNo(node, "remapped_row_pending"),
    failure: yesNo(node, "remapped_row_failure"),
  };
}

function readGpuHealth(gpu: unknown, index: number): GpuHealthXml {
  const link = at(gpu, "pci", "pci_gpu_link_info");
  const recovery = text(gpu, "gpu_recovery_action");
  const pages = at(gpu, "retired_pages");
  return {
    index,
    pciBusId: text(gpu, "pci", "pci_bus_id") || text(gpu, "$", "id"),
    recoveryActionText: recovery === "" ? null : recovery,
    recoveryAction: recovery === "" ? null : recoveryActionOf(recovery),
    remappedRows: remappedRows(gpu),
    // `pending_blacklist` is the older name of the same flag.
    retiredPagesPending: yesNo(pages, "pending_retirement") ?? yesNo(pages, "pending_blacklist"),
    retiredPagesSingleBit: count(pages, "multiple_single_bit_retirement", "retired_count"),
    retiredPagesDoubleBit: count(pages, "double_bit_retirement", "retired_count"),
    pcieReplayCounter: count(gpu, "pci", "replay_counter"),
    pcieReplayRolloverCounter: count(gpu, "pci", "replay_rollover_counter"),
    pcieLink: {
      genCurrent: count(link, "pcie_gen", "current_link_gen"),
      genMax: count(link, "pcie_gen", "max_link_gen"),
      genDeviceMax: count(link, "pcie_gen", "max_device_link_gen"),
      genHostMax: count(link, "pcie_gen", "max_host_link_gen"),
      widthCurrent: count(link, "link_widths", "current_link_width"),
      widthMax: count(link, "link_widths", "max_link_width"),
    },
  };
}

/** Reads the converted document (see convertSmiXml). Throws when it has no nvidia_smi_log root. */
export function readHealth(doc: unknown, schema: string): GpuHealthXml[] {
  return readRoot(doc, schema).gpuNodes.map((gpu, index) => readGpuHealth(gpu, index));
}
