// Checks a decoded ProcessSet (gputel/v1/<host>/processes, the agent's processes source) against
// the contract (pure). Untrusted input: the set's host must be the topic's (and the username's);
// each process is checked on its own, and one that fails is dropped with `process_invalid` while
// the others are kept. Only text the agent may send survives: bounded names, ids of fixed shapes.
// A malformed absence (why a field is missing) is dropped alone with `process_absence_invalid`:
// its process still holds the GPU.
import { isValidGpuUuid, MIG_UUID } from "../../shared/gpu-id.js";
import {
  MAX_ABSENCE_WHY_LENGTH,
  PROCESS_ABSENT_FIELDS,
  type ProcessAbsentField,
} from "../../shared/process-absence.js";
import {
  AbsentReason,
  type AbsentReasonValue,
  type IProcessAbsence,
  type IProcessRecord,
  type IProcessSet,
} from "../../shared/proto.js";
import { DEFAULT_LIMITS } from "./limits.js";
import type { Rejection } from "./reasons.js";
import {
  type Checked,
  checkIdentity,
  checkText,
  checkTimestamp,
  fail,
  guard,
  type ValidationContext,
} from "./validate.js";

export type AbsentReasonWord = "unsupported" | "error" | "out_of_range" | "unparseable" | "not_queried";

/** The words the API shows for the agent's AbsentReason values (UNSPECIFIED is no reason: refused). */
const ABSENT_REASON_WORDS: ReadonlyMap<AbsentReasonValue, AbsentReasonWord> = new Map([
  [AbsentReason.ABSENT_REASON_UNSUPPORTED, "unsupported"],
  [AbsentReason.ABSENT_REASON_ERROR, "error"],
  [AbsentReason.ABSENT_REASON_OUT_OF_RANGE, "out_of_range"],
  [AbsentReason.ABSENT_REASON_UNPARSEABLE, "unparseable"],
  [AbsentReason.ABSENT_REASON_NOT_QUERIED, "not_queried"],
]);

/** Why one field of a process is absent, as the agent found it ("sm", "unsupported", "pmon …"). */
export interface ProcessAbsence {
  field: ProcessAbsentField;
  reason: AbsentReasonWord;
  why: string;
}

/**
 * Absences kept per process. The agent sends at most one per field but `proc`, which has one per
 * unreadable /proc file: under ten in all.
 */
export const MAX_PROCESS_ABSENCES = 16;

/** One process that passed validation, as storage takes it. */
export interface ValidProcess {
  gpuUuid: string;
  /** Empty when the GPU is not partitioned. */
  migUuid: string;
  pid: number;
  /** 0 when the agent could not read the start time. */
  startMs: number;
  name: string;
  usedMemoryMib: number | null;
  peakMemoryMib: number | null;
  /** pmon's SM utilization of the last interval, percent. */
  smPct: number | null;
  /** pmon's memory (bandwidth) utilization of the last interval, percent (its `mem` column). */
  memPct: number | null;
  uid: number | null;
  /** The user name (privacy keep), or the salted token (privacy hash), or null (drop). */
  user: string | null;
  workloadKind: string;
  containerId: string | null;
  podUid: string | null;
  jobId: string | null;
  unit: string | null;
  /** Why fields are absent (smPct or memPct null: pmon gave no value, and why). */
  absent: ProcessAbsence[];
}

export interface ValidProcessSet {
  host: string;
  bootId: string;
  seq: number;
  timestampMs: number;
  truncated: boolean;
  processes: ValidProcess[];
}

export interface CheckedProcesses {
  set: ValidProcessSet;
  rejections: Rejection[];
}

/** Linux pid_max is at most 2^22. */
const MAX_PID = 4_194_304;
const MAX_MEMORY_MIB = 4 * 1024 * 1024;
const WORKLOAD_KINDS = new Set(["", "kubernetes", "docker", "slurm", "user-session", "systemd-unit", "none"]);
const CONTAINER_ID = /^[0-9a-f]{12,128}$/;
const POD_UID = /^[0-9a-f-]{32,36}$/;
const JOB_ID = /^[0-9]{1,20}$/;
const UNIT = /^[A-Za-z0-9@._\\:-]{1,256}$/;
const TOKEN = /^[0-9a-f]{16}$/;
const USER_NAME = /^[^\s/:]{1,64}$/;

export function validateProcessSet(set: IProcessSet, ctx: ValidationContext): Checked<CheckedProcesses> {
  return guard(ctx.topicHost, () => {
    checkIdentity(ctx, set.host);
    checkText(set.boot_id, "boot_id", 64, true);
    const seq = Number(set.seq ?? 0);
    if (!Number.isSafeInteger(seq) || seq < 1) fail("field_invalid", `seq ${seq}`);
    const timestampMs = checkTimestamp(ctx, set.timestamp_ms, "timestamp_ms");
    const out: CheckedProcesses = {
      set: {
        host: ctx.topicHost,
        bootId: set.boot_id ?? "",
        seq,
        timestampMs,
        truncated: set.truncated === true,
        processes: [],
      },
      rejections: [],
    };
    const seen = new Set<string>();
    for (const p of set.processes ?? []) {
      const checked = guard(ctx.topicHost, () => validateProcess(p, ctx));
      if (!checked.ok) {
        out.rejections.push(checked.rejection);
        continue;
      }
      const key = `${checked.value.gpuUuid}/${checked.value.migUuid}/${checked.value.pid}`;
      if (seen.has(key)) {
        out.rejections.push({ host: ctx.topicHost, reason: "process_invalid", detail: `duplicate ${key}` });
        continue;
      }
      seen.add(key);
      const absences = checkAbsences(p.absent ?? [], ctx.topicHost, checked.value.pid);
      out.rejections.push(...absences.rejections);
      out.set.processes.push({ ...checked.value, absent: absences.kept });
    }
    return out;
  });
}

function validateProcess(p: IProcessRecord, ctx: ValidationContext): Omit<ValidProcess, "absent"> {
  const gpuUuid = p.gpu_uuid ?? "";
  if (!isValidGpuUuid(gpuUuid)) fail("process_invalid", `gpu_uuid ${JSON.stringify(gpuUuid.slice(0, 64))}`);
  const migUuid = p.mig_uuid ?? "";
  if (migUuid !== "" && !MIG_UUID.test(migUuid))
    fail("process_invalid", `mig_uuid ${JSON.stringify(migUuid.slice(0, 64))}`);
  const pid = p.pid ?? 0;
  if (pid < 1 || pid > MAX_PID) fail("process_invalid", `pid ${pid}`);
  const start = p.start_ms === undefined || p.start_ms === null ? 0 : Number(p.start_ms);
  if (start !== 0) checkProcessTime(ctx, start);
  const name = p.name ?? "";
  if (name.length > (ctx.limits ?? DEFAULT_LIMITS).maxStringLength || hasControl(name))
    fail("process_invalid", `name length ${name.length}`);
  const mem = (v: number | null | undefined, what: string) => {
    if (v === undefined || v === null) return null;
    if (!Number.isInteger(v) || v < 0 || v > MAX_MEMORY_MIB) fail("process_invalid", `${what} ${v}`);
    return v;
  };
  const pct = (v: number | null | undefined, what: string) => {
    if (v === undefined || v === null) return null;
    if (!(Number.isFinite(v) && v >= 0 && v <= 100)) fail("process_invalid", `${what} ${v}`);
    return v;
  };
  const smPct = pct(p.sm_pct, "sm_pct");
  const memPct = pct(p.mem_pct, "mem_pct");
  const user = p.user ? p.user : p.user_token ? p.user_token : "";
  if (p.user && !USER_NAME.test(p.user)) fail("process_invalid", "user name");
  if (!p.user && p.user_token && !TOKEN.test(p.user_token)) fail("process_invalid", "user_token");
  const kind = p.workload_kind ?? "";
  if (!WORKLOAD_KINDS.has(kind))
    fail("process_invalid", `workload_kind ${JSON.stringify(kind.slice(0, 32))}`);
  const text = (v: string | null | undefined, shape: RegExp, what: string) => {
    if (!v) return null;
    if (!shape.test(v)) fail("process_invalid", `${what} ${JSON.stringify(v.slice(0, 64))}`);
    return v;
  };
  return {
    gpuUuid,
    migUuid,
    pid,
    startMs: start,
    name,
    usedMemoryMib: mem(p.used_memory_mib, "used_memory_mib"),
    peakMemoryMib: mem(p.peak_memory_mib, "peak_memory_mib"),
    smPct,
    memPct,
    uid: p.uid ?? null,
    user: user === "" ? null : user,
    workloadKind: kind === "" ? "none" : kind,
    containerId: text(p.container_id, CONTAINER_ID, "container_id"),
    podUid: text(p.pod_uid, POD_UID, "pod_uid"),
    jobId: text(p.slurm_job_id, JOB_ID, "slurm_job_id"),
    unit: text(p.systemd_unit, UNIT, "systemd_unit"),
  };
}

/**
 * Why a set sent before `horizonMs` is refused, one rejection per process it lists (one for an
 * empty set), or none for a newer set. Every session a set lists is last seen at the set's time,
 * so a set older than the retention horizon would only store again what the prune removed (or is
 * about to). A live process is never refused, however long ago it started: its newest set is new.
 */
export function expiredSetRejections(set: ValidProcessSet, horizonMs: number): Rejection[] {
  if (set.timestampMs >= horizonMs) return [];
  const when = `at ${new Date(set.timestampMs).toISOString()}, before the retention horizon ${new Date(horizonMs).toISOString()}`;
  const rejection = (what: string): Rejection => ({
    host: set.host,
    reason: "process_too_old",
    detail: `${what} of set ${set.seq} ${when}`,
  });
  if (set.processes.length === 0) return [rejection("no process")];
  return set.processes.map((p) => rejection(`process ${p.pid}`));
}

/**
 * The well-formed absences of one process (known field and reason, bounded text without control
 * characters), at most MAX_PROCESS_ABSENCES; each malformed one, and the excess once, as a rejection.
 */
export function checkAbsences(
  list: readonly IProcessAbsence[],
  host: string,
  pid: number,
): { kept: ProcessAbsence[]; rejections: Rejection[] } {
  const out: { kept: ProcessAbsence[]; rejections: Rejection[] } = { kept: [], rejections: [] };
  const refuse = (detail: string) =>
    out.rejections.push({ host, reason: "process_absence_invalid", detail: `process ${pid}: ${detail}` });
  list.slice(0, MAX_PROCESS_ABSENCES).forEach((a, i) => {
    const field = PROCESS_ABSENT_FIELDS.find((f) => f === a.field);
    const reason = ABSENT_REASON_WORDS.get(a.reason ?? AbsentReason.ABSENT_REASON_UNSPECIFIED);
    const why = a.why ?? "";
    if (field === undefined) refuse(`absence ${i} field ${JSON.stringify((a.field ?? "").slice(0, 32))}`);
    else if (reason === undefined) refuse(`absence ${i} reason ${a.reason}`);
    else if (why.length > MAX_ABSENCE_WHY_LENGTH || hasControl(why))
      refuse(`absence ${i} why length ${why.length}${hasControl(why) ? " with control characters" : ""}`);
    else out.kept.push({ field, reason, why });
  });
  if (list.length > MAX_PROCESS_ABSENCES)
    refuse(`${list.length} absences, at most ${MAX_PROCESS_ABSENCES} kept`);
  return out;
}

/** C0 control characters (a name is shown in logs, the dashboard and flag messages). */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

/** A process start in the future (clock skew past the limit) drops that process alone. */
function checkProcessTime(ctx: ValidationContext, value: number): void {
  const checked = guard(ctx.topicHost, () => checkTimestamp(ctx, value, "start_ms"));
  if (!checked.ok) fail("process_invalid", checked.rejection.detail);
}
