// The slow polls' outputs → per-GPU health readings, and those readings into samples. Pure.
// `-q -x`: the GPU Recovery Action (as a code) and the PCIe replay counter; `nvlink -s`: links
// down and links below the GPU's fastest link; `nvlink -e`: the replay, recovery and CRC error
// counters summed over the links. A GPU without NVLink (consumer cards, "all links are
// inActive"), or in MIG mode, has those absent as unsupported, never 0.
import { METRIC_BY_KEY, type MetricKey, RECOVERY_ACTION } from "../../../shared/metrics.js";
import { AbsentReason, type AbsentReasonValue, GpuState, type IGpuSample } from "../../../shared/proto.js";
import { byBusId } from "./by-bus-id.js";
import type { GpuHealthXml, RecoveryAction } from "./health-xml.js";
import {
  type NvlinkGpuErrors,
  type NvlinkGpuStatus,
  type NvlinkOutput,
  nvlinkErrorSum,
  nvlinkStatusSummary,
} from "./nvlink.js";

/** A GPU's readings by metric: a number, or why it is absent. */
export type Readings = Partial<Record<MetricKey, number | AbsentReasonValue[]>>;
export type ReadingsByIndex = Map<number, Readings>;
/** A poll's readings for one sample's GPU; undefined when the poll did not list that GPU. */
export type ReadingsFor = (gpu: IGpuSample) => Readings | undefined;

/** `nvlink -s`/`-e` print each GPU's index (`GPU 3: …`): found by the sample's index. */
export function byIndex(readings: ReadingsByIndex): ReadingsFor {
  return (gpu) => readings.get(gpu.index ?? 0);
}

const U = AbsentReason.ABSENT_REASON_UNSUPPORTED;
const E = AbsentReason.ABSENT_REASON_ERROR;

const RECOVERY_CODE: Record<RecoveryAction, number> = {
  none: RECOVERY_ACTION.NONE,
  reset: RECOVERY_ACTION.GPU_RESET,
  reboot: RECOVERY_ACTION.NODE_REBOOT,
  "drain-p2p": RECOVERY_ACTION.DRAIN_P2P,
  "drain-and-reset": RECOVERY_ACTION.DRAIN_AND_RESET,
  other: RECOVERY_ACTION.OTHER,
};

/**
 * `-q -x` health (readHealth) → recovery action and PCIe replays, found by the sample's PCI bus id:
 * the document leaves out a GPU that fell off the bus (test/fixtures/nvidia-smi/errors.md), so
 * the GPUs after it are not at their index's position.
 */
export function xmlReadings(gpus: readonly GpuHealthXml[]): ReadingsFor {
  const find = byBusId(gpus, (gpu) => gpu.pciBusId);
  return (sample) => {
    const gpu = find(sample.pci_bus_id);
    return gpu === undefined
      ? undefined
      : {
          // Before DTD v13 the element does not exist: the driver does not report it.
          gpu_recovery_action: gpu.recoveryAction === null ? [U] : RECOVERY_CODE[gpu.recoveryAction],
          pcie_replay_count: gpu.pcieReplayCounter ?? [U],
        };
  };
}

function nvlinkOf(gpu: NvlinkGpuStatus): Readings {
  if (gpu.support === "error") return { nvlink_links_down: [E], nvlink_links_below_speed: [E] };
  if (gpu.support !== "supported" || gpu.links.length === 0)
    return { nvlink_links_down: [U], nvlink_links_below_speed: [U] };
  const summary = nvlinkStatusSummary(gpu);
  return { nvlink_links_down: summary.inactive, nvlink_links_below_speed: summary.belowFastest };
}

/** `nvlink -s` (parseNvlinkStatus) → links down and below speed, by GPU index. */
export function nvlinkReadings(output: NvlinkOutput<NvlinkGpuStatus>): ReadingsByIndex {
  return new Map(output.gpus.map((gpu) => [gpu.index, nvlinkOf(gpu)]));
}

function nvlinkErrorsOf(gpu: NvlinkGpuErrors): Readings {
  if (gpu.support === "error") return { nvlink_errors: [E] };
  if (gpu.support !== "supported") return { nvlink_errors: [U] };
  const sum = nvlinkErrorSum(gpu);
  return { nvlink_errors: sum ?? [U] };
}

/** `nvlink -e` (parseNvlinkErrors) → replay + recovery + CRC errors over all links, by GPU index. */
export function nvlinkErrorReadings(output: NvlinkOutput<NvlinkGpuErrors>): ReadingsByIndex {
  return new Map(output.gpus.map((gpu) => [gpu.index, nvlinkErrorsOf(gpu)]));
}

/**
 * Fills `keys` of every OK GPU: from `readings` when they are fresh, else absent with `reason`
 * (NOT_QUERIED before the first poll, ERROR once the poll fails or goes stale). A GPU the poll
 * did not list is absent ERROR.
 */
export function applyReadings(
  gpus: IGpuSample[],
  keys: readonly MetricKey[],
  readings: ReadingsFor | undefined,
  reason: AbsentReasonValue,
): void {
  for (const gpu of gpus) {
    if (gpu.state !== GpuState.GPU_STATE_OK) continue;
    const absent = gpu.absent ?? [];
    gpu.absent = absent;
    const mine = readings?.(gpu);
    for (const key of keys) {
      const id = METRIC_BY_KEY.get(key)?.id;
      if (id === undefined) continue;
      const value = readings ? (mine ? mine[key] : [E]) : [reason];
      if (typeof value === "number") (gpu as Record<string, unknown>)[key] = value;
      else absent.push({ metric: id, reason: value?.[0] ?? reason });
    }
  }
}
