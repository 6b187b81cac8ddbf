// Which MIG device each compute process runs on. `--query-compute-apps` and pmon name only the
// parent GPU on a MIG GPU (the H100 MIG capture); `-q`/`-q -x` list each process with its GPU
// instance and compute instance ids, and `-L` gives the MIG UUID of each device: joined by
// (GPU, GPU instance, compute instance) through buildMigInventory. Where the outputs do not say,
// the place is missing with the reason, never guessed from memory or from the only device. Pure.
import { AbsentReason, type AbsentReasonValue } from "../../shared/proto.js";
import { buildMigInventory } from "../sources/nvidia-smi/mig.js";
import type { ListedGpu } from "../sources/nvidia-smi/mig-text.js";
import type { XmlGpuHolders } from "../sources/nvidia-smi/xml-holders.js";

/** The MIG device a process runs on, or why it is not known. */
export type MigPlace = { migUuid: string } | { missing: string; reason: AbsentReasonValue };

/** The map key of one process on one GPU. */
export const migPlaceKey = (gpuUuid: string, pid: number): string => `${gpuUuid}/${pid}`;

const ERROR = AbsentReason.ABSENT_REASON_ERROR;
const UNSUPPORTED = AbsentReason.ABSENT_REASON_UNSUPPORTED;

/**
 * A place for every row on one of `migGpus` (GPU UUIDs in MIG mode), from one `-L` listing and
 * one `-q`/`-q -x` reading taken after the rows. Rows on other GPUs get none.
 */
export function migPlaces(
  rows: readonly { gpuUuid: string; pid: number }[],
  migGpus: ReadonlySet<string>,
  listed: readonly ListedGpu[],
  detail: readonly XmlGpuHolders[],
): Map<string, MigPlace> {
  const { instances, unattributed } = buildMigInventory({ listed, detail });
  const places = new Map<string, MigPlace>();
  for (const row of rows) {
    if (!migGpus.has(row.gpuUuid)) continue;
    places.set(migPlaceKey(row.gpuUuid, row.pid), place(row, detail, instances, unattributed));
  }
  return places;
}

function place(
  row: { gpuUuid: string; pid: number },
  detail: readonly XmlGpuHolders[],
  instances: ReturnType<typeof buildMigInventory>["instances"],
  unattributed: ReturnType<typeof buildMigInventory>["unattributed"],
): MigPlace {
  const gpu = detail.find((g) => g.gpuUuid === row.gpuUuid);
  if (gpu === undefined) return { missing: "nvidia-smi -q -x did not list this GPU", reason: ERROR };
  const listed = gpu.processes.filter((p) => p.pid === row.pid);
  // Gone between the two queries, or started after -q -x read the list.
  if (listed.length === 0) return { missing: "not among nvidia-smi -q -x's processes", reason: ERROR };
  if (listed.every((p) => p.gpuInstanceId === undefined))
    return { missing: "nvidia-smi gave no GPU instance id for it", reason: UNSUPPORTED };
  const owners = instances.filter(
    (i) => i.gpuUuid === row.gpuUuid && i.processes.some((p) => p.pid === row.pid),
  );
  const uuids = [...new Set(owners.map((i) => i.uuid).filter((u): u is string => u !== undefined))];
  const stray = unattributed.find((u) => u.gpuUuid === row.gpuUuid && u.process.pid === row.pid);
  if (uuids.length === 1 && stray === undefined && owners.length === uuids.length)
    return { migUuid: uuids[0] ?? "" };
  if (uuids.length > 1 || (uuids.length === 1 && stray !== undefined))
    return { missing: "listed on more than one MIG device", reason: UNSUPPORTED };
  const p = stray?.process ?? listed.find((x) => x.gpuInstanceId !== undefined);
  return {
    missing: `GPU instance ${p?.gpuInstanceId} / compute instance ${p?.computeInstanceId ?? "N/A"} is not a MIG device nvidia-smi -L lists`,
    reason: ERROR,
  };
}
