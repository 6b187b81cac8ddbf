// The health API's answers (collector/api/health-routes.ts): kernel-log events, a GPU's health
// timeline and the fleet health report. Part of the API's contract, like api-contract.ts.
import type { Flag, FlagAck } from "../flags/types.js";
import type { EventRow } from "../store/event-store.js";

/** An event as the API lists it: the stored row plus NVIDIA's catalogue names. */
export interface EventView extends EventRow {
  mnemonic: string | null;
  description: string | null;
}

export interface EventsAnswer {
  generatedMs: number;
  limit: number;
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: string | null;
  events: EventView[];
}

/** A stretch a GPU was down for a hardware reason (lost, reset-required), clipped to the range. */
export interface DowntimeSpan {
  fromMs: number;
  toMs: number;
  kinds: string[];
}

export interface HealthTimeline {
  generatedMs: number;
  uuid: string;
  host: string;
  index: number;
  fromMs: number;
  toMs: number;
  /**
   * A tenant's view only: its stays on the GPU inside the range, oldest first, which the timeline
   * covers (nothing between them is shown); fromMs and toMs are the first's start and last's end.
   * `downOnly`: a stay on the GPU's MIG devices alone, over which only the GPU's down flags and
   * hardware down time are shown (its events and acknowledgements concern other MIG tenants too).
   */
  stays?: { fromMs: number; toMs: number; downOnly?: true }[];
  /** Newest first, at most 1000. */
  events: EventView[];
  /** Health-relevant flag episodes overlapping the range, newest first. */
  flags: Flag[];
  acknowledgements: FlagAck[];
  downtime: DowntimeSpan[];
  downtimeMs: number;
  /** Set when a list was cut at its bound. */
  truncated: boolean;
}

export interface XidCount {
  code: number;
  mnemonic: string | null;
  action: string;
  applicationLevel: boolean;
  count: number;
}

export interface RmaCandidate {
  uuid: string;
  host: string;
  model: string;
  /** Why: "repeated hardware Xids (N)", "row remap failure", "fell off the bus N times (Xid 79)". */
  reasons: string[];
  hardwareXids: number;
  lastMs: number;
}

export interface HealthReport {
  kind: "health";
  generatedMs: number;
  fromMs: number;
  toMs: number;
  xid: {
    total: number;
    byCode: XidCount[];
    byModel: { model: string; count: number; hardware: number }[];
    byHost: { host: string; count: number; hardware: number }[];
  };
  /** GPU-hours lost to hardware faults (lost and reset-required episodes, workload Xids never count). */
  hardwareDowntime: { gpuHours: number; gpus: number; byHost: { host: string; gpuHours: number }[] };
  /**
   * That downtime by the tenant whose lease was in force on the GPU at the time (MIG leases count
   * their GPU's downtime); downtime under no lease is `unleasedGpuHours`.
   */
  tenantDowntime: { byTenant: TenantDowntime[]; unleasedGpuHours: number };
  rmaCandidates: RmaCandidate[];
  /**
   * Merged from several collectors only, where a collector's part was cut at its bound
   * (collector/fanout/health-part.ts; docs/scaling.md): "xid-counts", more Xid events in the range
   * than a part carries keys for, so a count is the largest one collector holds (low where none
   * holds every event of it); "leases", more leases than a part carries, so the downtime by
   * tenant may miss the newest.
   */
  cut?: ("xid-counts" | "leases")[];
}

export interface TenantDowntime {
  tenant: string;
  /** Hours the tenant's leased devices were down (two leased GPUs down for an hour: 2). */
  hours: number;
  downtimeMs: number;
  /** GPUs of the tenant's leases that were down. */
  gpus: number;
  /** Ids of the leases that had downtime. */
  leases: string[];
}
