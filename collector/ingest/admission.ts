// Admission: what a checked message may add to the fleet, decided against what the store holds
// (FleetView) just before the message is written. Enforces limits.max_hosts (whole message),
// limits.max_gpus_per_host and GPU ownership (per GPU entry: the host's other GPUs are still
// stored, so one disputed GPU does not black out a host; an operator sees the dispute as a flag).
// Runs at commit time, in arrival order, so what earlier messages of the same batch admitted
// (kept here until the batch is written) counts too.
import { gpuIdOf } from "../../shared/gpu-id.js";
import type { CheckedMessage } from "./check.js";
import { decideClaim } from "./claims.js";
import type { IngestLimits } from "./limits.js";
import type { Rejection } from "./reasons.js";
import type { FleetView, MoveReason } from "./sink.js";

/** A claim on a GPU another host held: refused (the entry dropped) or accepted as a move. */
export type ClaimEvent =
  | { type: "refused"; host: string; uuid: string; index: number; owner: string; detail: string }
  | { type: "moved"; host: string; uuid: string; index: number; from: string; reason: MoveReason };

export interface AdmissionResult {
  rejections: Rejection[];
  events: ClaimEvent[];
}

export class Admission {
  /** Hosts admitted by messages of the batch being written, not yet in the store. */
  private readonly newHosts = new Set<string>();
  /** GPU → host for GPUs admitted (new or moved) by the batch being written. */
  private readonly batchOwners = new Map<string, string>();
  /** Host → GPUs it gained in the batch being written. */
  private readonly gained = new Map<string, number>();
  /** GPUs new to the store in the batch being written. */
  private created = 0;
  /** Host → boot ids new to the store in the batch being written. */
  private readonly newBoots = new Map<string, Set<string>>();

  constructor(
    private readonly fleet: FleetView,
    private readonly limits: IngestLimits,
  ) {}

  /** Starts a batch: what the previous one admitted is in the store now. */
  begin(): void {
    this.newHosts.clear();
    this.batchOwners.clear();
    this.gained.clear();
    this.created = 0;
    this.newBoots.clear();
  }

  /** Strips what the message may not add (in place) and says why. */
  admit(message: CheckedMessage, nowMs: number): AdmissionResult {
    const result: AdmissionResult = { rejections: [], events: [] };
    const { host } = message;
    if (!this.fleet.hasHost(host) && !this.newHosts.has(host)) {
      const hosts = this.fleet.hostCount() + this.newHosts.size;
      if (hosts >= this.limits.maxHosts) {
        result.rejections.push({
          host,
          reason: "host_limit",
          detail: `${hosts} hosts known, limits.max_hosts ${this.limits.maxHosts}`,
        });
        message.frames = [];
        message.events = [];
        delete message.status;
        delete message.inventory;
        delete message.processes;
        return result;
      }
      this.newHosts.add(host);
    }
    if (message.frames.length > 0) this.admitBoots(message, result);
    const decided = new Map<string, boolean>();
    const allowed = (uuid: string, index: number): boolean => {
      let ok = decided.get(uuid);
      if (ok === undefined) {
        ok = this.decide(host, uuid, index, nowMs, result);
        decided.set(uuid, ok);
      }
      return ok;
    };
    for (const frame of message.frames) {
      const gpus = frame.gpus;
      if (!gpus || gpus.length === 0) continue;
      if (gpus.every((g) => allowed(gpuIdOf(host, g.uuid, g.index), g.index ?? 0))) continue;
      frame.gpus = gpus.filter((g) => allowed(gpuIdOf(host, g.uuid, g.index), g.index ?? 0));
    }
    const inventory = message.inventory;
    if (inventory?.gpus) {
      // Entries without a UUID are not stored as GPUs (the registry skips them).
      inventory.gpus = inventory.gpus.filter((g) => !g.uuid || allowed(g.uuid, g.index ?? 0));
    }
    // Events and processes name a GPU as well, but only a frame or an inventory may take one: an
    // Xid or a process on a GPU another host holds would land on that GPU's timeline and reports.
    const foreign = (uuid: string | null, what: string): boolean => {
      const owner = uuid === null ? undefined : this.ownerOf(uuid);
      if (owner === undefined || owner === host) return false;
      result.rejections.push({
        host,
        reason: "gpu_claimed_by_other_host",
        detail: `${what} on gpu ${uuid}, held by ${owner}`,
      });
      return true;
    };
    message.events = message.events.filter((e) => !foreign(e.gpuUuid, `event ${e.kernelSeq}`));
    const set = message.processes;
    if (set) set.processes = set.processes.filter((p) => !foreign(p.gpuUuid, `process ${p.pid}`));
    return result;
  }

  /** The host that holds the GPU: as admitted by this batch, else as stored. */
  private ownerOf(uuid: string): string | undefined {
    return this.batchOwners.get(uuid) ?? this.fleet.gpuOwner(uuid)?.host;
  }

  /**
   * Every boot id costs a frame_seen row for the raw retention: an agent inventing one per frame
   * would grow it by the frame rate. Frames of a boot new past limits.max_boots_per_host go.
   */
  private admitBoots(message: CheckedMessage, out: AdmissionResult): void {
    const { host } = message;
    let batchBoots = this.newBoots.get(host);
    const refused = new Set<string>();
    let stored: number | undefined;
    message.frames = message.frames.filter((frame) => {
      const boot = frame.boot_id;
      if (batchBoots?.has(boot) || this.fleet.knowsBoot(host, boot)) return true;
      if (refused.has(boot)) return false;
      if (stored === undefined) stored = this.fleet.bootCount(host);
      const boots = stored + (batchBoots?.size ?? 0);
      if (boots >= this.limits.maxBootsPerHost) {
        refused.add(boot);
        out.rejections.push({
          host,
          reason: "boot_limit",
          detail: `boot ${boot.slice(0, 64)}: ${boots} boot ids, limits.max_boots_per_host ${this.limits.maxBootsPerHost}`,
        });
        return false;
      }
      if (!batchBoots) {
        batchBoots = new Set();
        this.newBoots.set(host, batchBoots);
      }
      batchBoots.add(boot);
      return true;
    });
  }

  private decide(host: string, uuid: string, index: number, nowMs: number, out: AdmissionResult): boolean {
    const inBatch = this.batchOwners.get(uuid);
    const owner = inBatch === undefined ? this.fleet.gpuOwner(uuid) : undefined;
    const ownerHost = inBatch ?? owner?.host;
    if (ownerHost === host) return true;
    let reason: MoveReason | undefined;
    if (ownerHost !== undefined) {
      // Claimed by another host in this very batch: that host is live by definition.
      const decision = owner
        ? decideClaim({
            claimant: host,
            owner,
            approvedTo: this.fleet.approvedMove(uuid),
            nowMs,
            holdMs: this.limits.gpuMoveHoldMs,
          })
        : ({ accept: false, detail: `reported by ${ownerHost} in the same batch` } as const);
      if (!decision.accept) {
        const detail = `gpu ${uuid} ${decision.detail}`;
        out.rejections.push({ host, reason: "gpu_claimed_by_other_host", detail });
        out.events.push({ type: "refused", host, uuid, index, owner: ownerHost, detail: decision.detail });
        return false;
      }
      reason = decision.reason;
    }
    if (ownerHost === undefined && this.fleet.gpuCount() + this.created >= this.limits.maxGpus) {
      out.rejections.push({
        host,
        reason: "gpu_limit",
        detail: `gpu ${uuid}: ${this.fleet.gpuCount() + this.created} GPUs known, limits.max_gpus ${this.limits.maxGpus}`,
      });
      return false;
    }
    const active =
      this.fleet.activeGpuCount(host, nowMs, this.limits.gpuMoveHoldMs) + (this.gained.get(host) ?? 0);
    if (active >= this.limits.maxGpusPerHost) {
      out.rejections.push({
        host,
        reason: "host_gpu_limit",
        detail: `gpu ${uuid}: ${active} GPUs on ${host}, limits.max_gpus_per_host ${this.limits.maxGpusPerHost}`,
      });
      return false;
    }
    if (reason !== undefined && ownerHost !== undefined) {
      this.fleet.moveGpu(uuid, host, reason, nowMs);
      out.events.push({ type: "moved", host, uuid, index, from: ownerHost, reason });
    }
    if (ownerHost === undefined) this.created++;
    this.batchOwners.set(uuid, host);
    this.gained.set(host, (this.gained.get(host) ?? 0) + 1);
    return true;
  }
}
