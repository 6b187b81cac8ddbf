// One record per (GPU or MIG device, process) from what the pollers found: the compute-app rows
// (the list of holders), the last pmon interval (SM/memory share), the /proc lookup (user, start,
// workload) and the MIG places (which MIG device, mig-places.ts). Pure. Records, not series labels: the
// caller sends them as their own message, so label cardinality never grows with pids.
import type { ProcessAbsentField } from "../../shared/process-absence.js";
import { AbsentReason, type AbsentReasonValue } from "../../shared/proto.js";
import type { ComputeAppRow } from "../sources/nvidia-smi/compute-apps.js";
import type { Workload } from "./cgroup.js";
import { type MigPlace, migPlaceKey } from "./mig-places.js";
import type { PmonSample } from "./pmon.js";
import { applyUserPrivacy, type ProcessUser, type UserPrivacy } from "./privacy.js";
import type { HolderInfo } from "./proc-reader.js";

export interface HolderRecord {
  gpuUuid: string;
  /** The MIG device the process runs on, when the GPU is partitioned and -q -x said which. */
  migUuid?: string;
  pid: number;
  /** With pid, names one process life. */
  startMs?: number;
  name?: string;
  usedMemoryMib?: number;
  smPct?: number;
  memPct?: number;
  user: ProcessUser;
  workload?: Workload;
  absent: { field: ProcessAbsentField; reason: AbsentReasonValue; why: string }[];
}

export interface RecordInputs {
  rows: readonly ComputeAppRow[];
  /** GPU index by UUID (pmon names GPUs by index). */
  gpuIndex: ReadonlyMap<string, number>;
  /** The last pmon interval; undefined when pmon is unsupported or has not answered. */
  pmon: PmonSample | undefined;
  /** Why pmon values are missing when `pmon` is undefined. */
  pmonMissing?: string;
  holders: ReadonlyMap<number, HolderInfo>;
  /** By migPlaceKey, for the rows on GPUs in MIG mode (none elsewhere). */
  mig?: ReadonlyMap<string, MigPlace>;
  privacy: { users: UserPrivacy; salt: string };
}

const UNSUPPORTED = AbsentReason.ABSENT_REASON_UNSUPPORTED;
const ERROR = AbsentReason.ABSENT_REASON_ERROR;

export function buildHolderRecords(input: RecordInputs): HolderRecord[] {
  return input.rows.map((row) => {
    const record: HolderRecord = { gpuUuid: row.gpuUuid, pid: row.pid, user: {}, absent: [] };
    if (row.name !== undefined) record.name = row.name;
    if (row.usedMemoryMib !== undefined) record.usedMemoryMib = row.usedMemoryMib;
    else
      record.absent.push({
        field: "used_memory",
        reason: row.memoryReason ?? UNSUPPORTED,
        why: "nvidia-smi",
      });

    const place = input.mig?.get(migPlaceKey(row.gpuUuid, row.pid));
    if (place !== undefined && "migUuid" in place) record.migUuid = place.migUuid;
    else if (place !== undefined)
      record.absent.push({ field: "mig", reason: place.reason, why: place.missing });

    addUtilization(record, input, place !== undefined);

    const info = input.holders.get(row.pid);
    if (info?.startMs !== undefined) record.startMs = info.startMs;
    if (info?.workload !== undefined) record.workload = info.workload;
    const user: ProcessUser = {};
    if (info?.uid !== undefined) user.uid = info.uid;
    if (info?.user !== undefined) user.name = info.user;
    record.user = applyUserPrivacy(user, input.privacy.users, input.privacy.salt);
    for (const problem of info?.problems ?? (info ? [] : ["not looked up"]))
      record.absent.push({ field: "proc", reason: ERROR, why: problem });
    return record;
  });
}

function addUtilization(record: HolderRecord, input: RecordInputs, onMig: boolean): void {
  const absent = (why: string, reason: AbsentReasonValue = UNSUPPORTED) => {
    record.absent.push({ field: "sm", reason, why }, { field: "mem", reason, why });
  };
  if (onMig) {
    absent("nvidia-smi reports no per-process utilization under MIG");
    return;
  }
  if (input.pmon === undefined) {
    absent(input.pmonMissing ?? "pmon has not answered", ERROR);
    return;
  }
  const index = input.gpuIndex.get(record.gpuUuid);
  const pmonRow = input.pmon.rows.find((r) => r.gpuIndex === index && r.pid === record.pid);
  if (pmonRow === undefined) {
    absent("not in the last pmon interval");
    return;
  }
  if (pmonRow.values.sm !== undefined) record.smPct = pmonRow.values.sm;
  else record.absent.push({ field: "sm", reason: UNSUPPORTED, why: "not sampled this interval" });
  if (pmonRow.values.mem !== undefined) record.memPct = pmonRow.values.mem;
  else record.absent.push({ field: "mem", reason: UNSUPPORTED, why: "not sampled this interval" });
}
