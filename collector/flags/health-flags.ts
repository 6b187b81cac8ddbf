// The health flags that events and evidence drive rather than sustained samples: xid (one per GPU
// while Xids come, rules/xid.ts) and reset-required (opened and closed only on evidence,
// rules/reset-required.ts), plus operators' acknowledgements. In a share group a GPU's are raised
// by the member holding its frames only (onEvents). Their state is the open flags
// themselves (values), so a restart continues them without rule timers.
import type { IGpuSample, IHostSample } from "../../shared/proto.js";
import type { ValidEvent } from "../ingest/validate-event.js";
import type { FlagBook } from "./flag-book.js";
import type { HostTrack } from "./host-track.js";
import { resetOnSample, resetOnXid, resetReason } from "./rules/reset-required.js";
import { XID_QUIET_MS, xidCountValues, xidDecision, xidFlagFields } from "./rules/xid.js";
import type { Flag, FlagKind } from "./types.js";

export const XID = "xid" as const;
export const RESET_REQUIRED = "reset-required" as const;
/** Acknowledging these closes them; any other flag keeps its course and the note is recorded. */
export const ACK_CLOSES: ReadonlySet<FlagKind> = new Set<FlagKind>([XID, RESET_REQUIRED]);

export interface GpuRef {
  host: string;
  uuid: string;
  index: number;
  site: string;
  labels: Record<string, string>;
}

export class HealthFlags {
  /** "host\0uuid" → collector time of the GPU's last Xid (for the xid flag's quiet close). */
  private readonly lastXid = new Map<string, number>();
  /** Host → agent boot id of its newest frame: the boot an Xid happened under. */
  private readonly agentBoot = new Map<string, string>();
  /** When this collector could receive events again after its start (FlagEngine.receiving). */
  private receivingSinceMs = 0;

  constructor(private readonly book: FlagBook) {}

  /**
   * Xid events of GPUs whose frames this collector holds (FlagEngine.onEvents leaves the others
   * out in a share group: only the holder raises a GPU's flags from events, docs/scaling.md), and
   * Xids not mapped to a GPU, which are the host's and every member's (no lease counts them, the
   * merged flag list joins the copies). For reset-required because its closing evidence (the
   * recovery action back at none, a reboot) is read in the frames only; for xid because the lease
   * parts add each collector's count of flags opened.
   */
  onEvents(
    events: readonly ValidEvent[],
    hostOf: (host: string) => HostTrack | undefined,
    nowMs: number,
  ): void {
    for (const e of events) {
      if (e.kind !== "xid") continue;
      const host = hostOf(e.host);
      // An Xid on a bus id the agent could not map is still flagged, on the host.
      const ref = {
        host: e.host,
        uuid: e.gpuUuid,
        index: e.gpuIndex,
        site: host?.site ?? "",
        labels: host?.labels ?? {},
      };
      this.xid(ref, e, nowMs);
      if (ref.uuid === null) continue;
      const open = this.book.get(e.host, ref.uuid, RESET_REQUIRED);
      const change = resetOnXid(open, e, this.agentBoot.get(e.host) ?? e.agentBootId);
      if (!change) continue;
      if (open) {
        this.book.updateFlag(
          e.host,
          ref.uuid,
          RESET_REQUIRED,
          resetReason(change.causes, change.said),
          change.values,
          nowMs,
        );
      } else {
        this.book.openFlag(
          {
            kind: RESET_REQUIRED,
            severity: "critical",
            host: e.host,
            gpuUuid: ref.uuid,
            gpuIndex: ref.index,
            site: ref.site,
            labels: ref.labels,
            startMs: e.timeMs,
            reason: resetReason(change.causes, change.said),
            values: change.values,
          },
          nowMs,
        );
      }
    }
  }

  /** The frame's agent boot, before its samples are evaluated. */
  noteFrame(host: string, agentBootId: string): void {
    this.agentBoot.set(host, agentBootId);
  }

  /** One GPU sample: reset-required's metric causes and reboot evidence. */
  onSample(
    gpu: GpuRef,
    sample: IGpuSample,
    t: number,
    agentBootId: string,
    hostSample: IHostSample | null | undefined,
    nowMs: number,
  ): void {
    const open = this.book.get(gpu.host, gpu.uuid, RESET_REQUIRED);
    const change = resetOnSample(open, { sample, t, agentBootId, hostSample });
    if (!change) return;
    const reason = resetReason(change.causes, change.said);
    if (!open) {
      if (change.causes.size === 0) return;
      this.book.openFlag(
        {
          kind: RESET_REQUIRED,
          severity: "critical",
          host: gpu.host,
          gpuUuid: gpu.uuid,
          gpuIndex: gpu.index,
          site: gpu.site,
          labels: gpu.labels,
          startMs: t,
          reason,
          values: { ...change.values, agent_boot_id: agentBootId },
        },
        nowMs,
      );
    } else if (change.causes.size === 0) {
      this.book.closeFlag(gpu.host, gpu.uuid, RESET_REQUIRED, t, nowMs, {
        reason: `${open.reason}. Closed: ${change.said.join("; ")}`,
        values: change.values,
      });
    } else {
      this.book.updateFlag(gpu.host, gpu.uuid, RESET_REQUIRED, reason, change.values, nowMs);
    }
  }

  /** The collector can receive again: Xids logged while it was down arrive from the agents' spools. */
  receiving(nowMs: number): void {
    this.receivingSinceMs = Math.max(this.receivingSinceMs, nowMs);
  }

  /**
   * Closes xid flags whose GPU logged no Xid of the flag's fault for XID_QUIET_MS (a workload's
   * Xid does not hold a hardware flag open, nor one NVIDIA says to ignore a flag whose Xid needs
   * acting: xidDecision). After a restart, with no Xid seen since, from the
   * last one it kept (its `fault_seen_ms`; the last update for a flag written before it was kept)
   * or, when later, from when events could arrive again.
   */
  expire(nowMs: number): void {
    for (const flag of [...this.book.all()]) {
      if (flag.kind !== XID) continue;
      const key = `${flag.host}\u0000${flag.gpuUuid ?? ""}`;
      const seen = this.lastXid.get(key);
      const last = seen ?? Number(flag.values.fault_seen_ms ?? flag.updatedMs);
      if (nowMs - (seen ?? Math.max(last, this.receivingSinceMs)) < XID_QUIET_MS) continue;
      this.lastXid.delete(key);
      const what = flag.values.fault === "hardware" ? "hardware Xid" : "Xid";
      this.book.closeFlag(flag.host, flag.gpuUuid, XID, last, nowMs, {
        reason: `${flag.reason} (no ${what} since ${new Date(last).toISOString()})`,
      });
    }
  }

  /** An operator's acknowledgement: closes xid and reset-required flags; returns the flag as it is now. */
  acknowledge(flag: Flag, note: string, nowMs: number): Flag | undefined {
    if (!ACK_CLOSES.has(flag.kind) || flag.endMs !== null) return undefined;
    return this.book.closeFlag(flag.host, flag.gpuUuid, flag.kind, nowMs, nowMs, {
      reason: `${flag.reason}. Acknowledged: ${note}`,
      values: { acknowledged: true, ack_note: note },
    });
  }

  private xid(
    ref: Omit<GpuRef, "uuid" | "index"> & { uuid: string | null; index: number | null },
    e: ValidEvent,
    nowMs: number,
  ): void {
    const key = `${ref.host}\u0000${ref.uuid ?? ""}`;
    const open = this.book.get(ref.host, ref.uuid, XID);
    const decision = xidDecision(open, e);
    if (open && (decision === "update" || decision === "count")) {
      const values = xidCountValues(open, e);
      // An Xid counted only (a workload's on a hardware flag, or one NVIDIA says to ignore on a
      // flag whose Xid needs acting) starts neither its quiet spell again nor moves its down end.
      if (decision === "update") {
        this.lastXid.set(key, nowMs);
        values.fault_seen_ms = nowMs;
        values.fault_last_ms = Math.max(Number(open.values.fault_last_ms ?? open.startMs), e.timeMs);
      }
      this.book.updateFlag(ref.host, ref.uuid, XID, open.reason, values, nowMs);
      return;
    }
    this.lastXid.set(key, nowMs);
    if (decision === "escalate" && open) {
      this.book.closeFlag(ref.host, ref.uuid, XID, e.timeMs, nowMs, {
        reason: `${open.reason} (followed by Xid ${e.code})`,
      });
    }
    const fields = xidFlagFields(e);
    this.book.openFlag(
      {
        ...fields,
        // fault_last_ms: when the last Xid of the flag's fault happened (its down time ends there).
        values: { ...fields.values, fault_seen_ms: nowMs, fault_last_ms: e.timeMs },
        host: ref.host,
        gpuUuid: ref.uuid,
        gpuIndex: ref.index,
        site: ref.site,
        labels: ref.labels,
      },
      nowMs,
    );
  }
}
