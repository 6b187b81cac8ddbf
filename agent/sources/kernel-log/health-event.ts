// A parsed kernel-log event and its record → the HealthEvent the agent publishes: the PCI bus id
// mapped to the GPU's UUID and index from the agent's own view of its GPUs (a bus id it does not
// know stays unmapped: empty UUID, no index), the process the driver named, the kernel's boot id
// and sequence number (the collector's key for storing it once). Pure.
import { EventKind, type IHealthEvent } from "../../../shared/proto.js";
import type { LogRecord } from "./record.js";
import type { KernelLogEvent } from "./xid-line.js";

export interface GpuAddress {
  index: number;
  uuid: string;
}

/**
 * One spelling for every form of a PCI bus id: nvidia-smi's `00000000:18:00.0`, the driver's
 * `0000:18:00` (and the legacy form without `PCI:`) all become `0000:18:00`. The function is
 * dropped: the driver prints none, and a GPU is function 0.
 */
export function busKey(busId: string): string {
  const parts = busId.trim().toLowerCase().replace(/^pci:/, "").split(":");
  if (parts.length < 3) return busId.trim().toLowerCase();
  const [domain = "", bus = "", device = ""] = parts.slice(-3);
  return `${domain.slice(-4).padStart(4, "0")}:${bus.padStart(2, "0")}:${device.split(".")[0] ?? ""}`;
}

export interface EventContext {
  /** The running kernel's boot id (what a record without its own is taken to belong to). */
  bootId: string;
  /** When the running kernel booted (ms since the epoch), for kmsg records' monotonic stamps. */
  bootTimeMs: number;
  /** Now, for records that carry no time at all. */
  nowMs: number;
  /** GPUs by busKey(). */
  gpus: ReadonlyMap<string, GpuAddress>;
}

function timeOf(event: KernelLogEvent, record: LogRecord, ctx: EventContext): number {
  if (record.realtimeMs !== null) return record.realtimeMs;
  if (record.form === "kmsg" && record.monotonicUs !== null)
    return Math.round(ctx.bootTimeMs + record.monotonicUs / 1000);
  const iso = event.time?.iso;
  const parsed = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : ctx.nowMs;
}

export function toHealthEvent(
  event: KernelLogEvent,
  record: LogRecord,
  seq: number,
  ctx: EventContext,
): IHealthEvent {
  const out: IHealthEvent = {
    kind: event.kind === "xid" ? EventKind.EVENT_KIND_XID : EventKind.EVENT_KIND_SXID,
    code: event.kind === "xid" ? event.xid : event.sxid,
    pci_bus_id: event.pciBusId,
    gpu_uuid: "",
    message: event.message,
    time_ms: timeOf(event, record, ctx),
    kernel_boot_id: record.bootId ?? ctx.bootId,
    kernel_seq: seq,
    source: record.form,
    process_name: "",
  };
  if (event.kind === "xid") {
    // An SXid names an NVSwitch, never a GPU: it is not mapped.
    const gpu = ctx.gpus.get(busKey(event.pciBusId));
    if (gpu) {
      out.gpu_uuid = gpu.uuid;
      out.gpu_index = gpu.index;
    }
    if (event.pid !== null) out.pid = event.pid;
    out.process_name = event.processName ?? "";
  }
  return out;
}
