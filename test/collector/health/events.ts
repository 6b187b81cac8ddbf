// EventBatch payloads for the collector's health tests, built as the agent's kernel-log source
// publishes them (proto/gputel/v1/event.proto). Lines quoted in messages come from
// test/fixtures/kernel-log/ (see its README for provenance).
import { EventBatch, EventKind, type IHealthEvent, SCHEMA_VERSION } from "../../../shared/proto.js";
import { topicFor } from "../../../shared/topics.js";

export const KERNEL_BOOT = "3f1c2a9e-5b7d-4e1f-9a2b-0c6d8e4f1a23";

export function xidEvent(seq: number, code: number, over: Partial<IHealthEvent> = {}): IHealthEvent {
  return {
    kind: EventKind.EVENT_KIND_XID,
    code,
    pci_bus_id: "0000:01:00",
    gpu_uuid: "GPU-test-0",
    gpu_index: 0,
    message: `NVRM: Xid (PCI:0000:01:00): ${code}, pid=4242, name=python3, Ch 00000008`,
    pid: 4242,
    process_name: "python3",
    time_ms: Date.UTC(2026, 10, 23, 12, 0, 0) + seq * 1000,
    kernel_boot_id: KERNEL_BOOT,
    kernel_seq: seq,
    source: "kmsg",
    ...over,
  };
}

export function eventPayload(
  host: string,
  events: IHealthEvent[],
  over: { bootId?: string } = {},
): Uint8Array {
  return EventBatch.encode({
    schema_version: SCHEMA_VERSION,
    host,
    boot_id: over.bootId ?? "agent-boot-1",
    events,
  }).finish();
}

export const eventTopic = (host: string) => topicFor(host, "event");
