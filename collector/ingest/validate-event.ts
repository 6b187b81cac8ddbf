// Checks a decoded EventBatch (gputel/v1/<host>/event, the agent's kernel-log source) against the
// contract (pure). The batch's host must be the topic's (and the username's); each event is
// checked on its own, and one that fails is dropped with `event_invalid` while the others are kept.
// Each kept event carries NVIDIA's catalogue entry's action and application-level mark, judged here
// once so storage, flags and reports read the same answer; an NVLink5 Xid (144-150) whose message
// NVIDIA's "XID 144-150 Decode" sheet decodes takes that row's action (shared/xid/judge.ts).
import { isValidGpuUuid, MAX_GPU_INDEX } from "../../shared/gpu-id.js";
import { EventKind, type IEventBatch, type IHealthEvent } from "../../shared/proto.js";
import { judgeXid } from "../../shared/xid/judge.js";
import { type XidAction, xidEntry } from "../../shared/xid/xid.js";
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

/** One event that passed validation, as storage and the flag engine take it. */
export interface ValidEvent {
  host: string;
  agentBootId: string;
  kind: "xid" | "sxid";
  code: number;
  pciBusId: string;
  /** Null when the agent's inventory did not know the bus id. */
  gpuUuid: string | null;
  gpuIndex: number | null;
  pid: number | null;
  processName: string | null;
  message: string;
  timeMs: number;
  kernelBootId: string;
  kernelSeq: number;
  source: string;
  /**
   * The decode sheet's row's action for an NVLink5 Xid it decodes, else the catalogue's ("unknown"
   * for a code it does not list).
   */
  action: XidAction;
  /** The workload's fault, not the hardware's (catalogue): attributed to the process. */
  applicationLevel: boolean;
}

/** Largest Xid/SXid code taken (NVIDIA's catalogue ends below 200; room for new ones). */
export const MAX_EVENT_CODE = 65_535;
/** "0000:01:00" as the driver prints it, optionally with a function ("0000:01:00.0"). */
export const PCI_BUS_ID = /^[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}(?:\.[0-7])?$/;
/** Linux pid_max is at most 2^22. */
const MAX_PID = 4_194_304;
const SOURCES = new Set(["kmsg", "journal", "file", ""]);
/** A kernel boot id is a UUID (36 characters); room for other spellings. */
const BOOT_ID = /^[A-Za-z0-9-]{1,64}$/;

export interface CheckedEvents {
  events: ValidEvent[];
  rejections: Rejection[];
}

/** Whole-message problems (host, username, agent boot id) reject all of it; an event alone drops alone. */
export function validateEventBatch(batch: IEventBatch, ctx: ValidationContext): Checked<CheckedEvents> {
  return guard(ctx.topicHost, () => {
    checkIdentity(ctx, batch.host);
    checkText(batch.boot_id, "boot_id", 64);
    const out: CheckedEvents = { events: [], rejections: [] };
    for (const event of batch.events ?? []) {
      const checked = guard(ctx.topicHost, () => validateEvent(event, ctx, batch.boot_id ?? ""));
      if (checked.ok) out.events.push(checked.value);
      else out.rejections.push(checked.rejection);
    }
    return out;
  });
}

function validateEvent(e: IHealthEvent, ctx: ValidationContext, agentBootId: string): ValidEvent {
  const kind =
    e.kind === EventKind.EVENT_KIND_XID ? "xid" : e.kind === EventKind.EVENT_KIND_SXID ? "sxid" : undefined;
  if (!kind) fail("event_invalid", `event kind ${e.kind ?? 0}`);
  const code = e.code ?? 0;
  if (code < 1 || code > MAX_EVENT_CODE) fail("event_invalid", `event code ${code}`);
  const bus = e.pci_bus_id ?? "";
  if (!PCI_BUS_ID.test(bus)) fail("event_invalid", `pci_bus_id ${JSON.stringify(bus.slice(0, 64))}`);
  const uuid = e.gpu_uuid ?? "";
  if (uuid !== "" && !isValidGpuUuid(uuid))
    fail("event_invalid", `gpu_uuid ${JSON.stringify(uuid.slice(0, 64))}`);
  const index = e.gpu_index ?? null;
  if (index !== null && index > MAX_GPU_INDEX) fail("event_invalid", `gpu_index ${index}`);
  const pid = e.pid ?? null;
  if (pid !== null && pid > MAX_PID) fail("event_invalid", `pid ${pid}`);
  const nameMax = (ctx.limits ?? DEFAULT_LIMITS).maxStringLength;
  if ((e.process_name ?? "").length > nameMax)
    fail("event_invalid", `process_name length ${(e.process_name ?? "").length}`);
  if ((e.message ?? "").length > 1024) fail("event_invalid", `message length ${(e.message ?? "").length}`);
  const timeMs = checkEventTime(ctx, e.time_ms);
  const bootId = e.kernel_boot_id ?? "";
  if (!BOOT_ID.test(bootId)) fail("event_invalid", `kernel_boot_id ${JSON.stringify(bootId.slice(0, 64))}`);
  const seq = e.kernel_seq ?? 0;
  if (!Number.isSafeInteger(seq) || seq < 0) fail("event_invalid", `kernel_seq ${seq}`);
  const source = e.source ?? "";
  if (!SOURCES.has(source)) fail("event_invalid", `source ${JSON.stringify(source.slice(0, 32))}`);
  const entry = kind === "xid" ? xidEntry(code) : undefined;
  return {
    host: ctx.topicHost,
    agentBootId,
    kind,
    code,
    pciBusId: bus,
    gpuUuid: uuid === "" || kind === "sxid" ? null : uuid,
    gpuIndex: uuid === "" || kind === "sxid" ? null : index,
    pid,
    processName: e.process_name ? e.process_name : null,
    message: e.message ?? "",
    timeMs,
    kernelBootId: bootId,
    kernelSeq: seq,
    source,
    action: kind === "xid" ? judgeXid(code, e.message ?? "").action : "unknown",
    applicationLevel: entry?.applicationLevel ?? false,
  };
}

/** Same rules as a frame's timestamp, but a bad one drops the event alone (event_invalid). */
function checkEventTime(ctx: ValidationContext, value: unknown): number {
  const checked = guard(ctx.topicHost, () => checkTimestamp(ctx, value, "event time_ms"));
  if (!checked.ok) fail("event_invalid", checked.rejection.detail);
  return checked.value;
}
