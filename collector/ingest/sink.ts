// The boundary between ingest (broker, decoding, validation) and storage. Ingest hands over
// only frames that passed validation; storage owns idempotence, rollups and retention.
// The interface is declared here, on the side that calls it, so storage depends on ingest and
// never the other way round (Store implements it; tests and the bench pass doubles).
import type { IInventory, IStatus } from "../../shared/proto.js";
import type { ValidFrame } from "./validate.js";
import type { ValidEvent } from "./validate-event.js";
import type { ValidProcessSet } from "./validate-processes.js";

export interface WriteResult {
  /** Frames newly stored. */
  stored: number;
  /** Frames already present (same host, boot and seq; or same GPU and timestamp), stored once. */
  duplicates: number;
}

export interface IngestSink {
  /**
   * Stores frames (oldest first) in one transaction and updates the rollup tiers incrementally.
   * Idempotent. Throws (and commits nothing) when the database cannot be written; the caller
   * then holds back the acknowledgement.
   */
  writeFrames(frames: readonly ValidFrame[], receivedAtMs: number): WriteResult;
  /** Records a (retained) inventory: GPU models, UUID-keyed history of host moves and driver upgrades. */
  writeInventory(inventory: IInventory, receivedAtMs: number): void;
  /** Records an agent status change (online / offline with reason). */
  writeStatus(status: IStatus, receivedAtMs: number): void;
  /**
   * Stores kernel-log events once each, idempotent by (host, kernel boot id, kernel seq); returns
   * how many were new. Throws (and commits nothing) like writeFrames.
   */
  writeEvents(events: readonly ValidEvent[], receivedAtMs: number): EventWriteResult;
  /**
   * Events older than this are past retention (pruned, or about to be): ingest refuses them
   * (event_too_old), so a replayed kernel-log line is neither stored nor counted again.
   */
  eventHorizonMs(nowMs: number): number;
  /**
   * Stores one host's process set: opens, extends and closes process sessions. Idempotent for a
   * set already stored (same host, boot id, seq). Throws (and commits nothing) like writeFrames.
   */
  writeProcesses?(set: ValidProcessSet, receivedAtMs: number): void;
  /**
   * Process sessions last seen before this are past retention (pruned, or about to be): ingest
   * refuses a set older than it (process_too_old), so a replayed set does not store them again.
   */
  processHorizonMs?(nowMs: number): number;
  /** Counts a rejected message by reason (persisted, shown on /metrics). */
  countReject(host: string, reason: string, count?: number): void;
}

/** Why a GPU's move to another host was accepted (recorded in its inventory history). */
export type MoveReason = "not_in_owner_inventory" | "owner_gone" | "approved";

/** The host that holds a GPU now, as ingest needs it to decide another host's claim. */
export interface GpuOwner {
  host: string;
  /** The owner's newest frame timestamp (or when it was first heard of). */
  hostLastSeenMs: number;
  /** Whether the owner's latest inventory lists the GPU; undefined while it has sent none. */
  inOwnerInventory: boolean | undefined;
}

/** What ingest reads from storage to enforce the host and GPU limits and GPU ownership. */
export interface FleetView {
  hostCount(): number;
  hasHost(host: string): boolean;
  /** Whether frames of this host and boot id were stored before (still within the raw retention). */
  knowsBoot(host: string, bootId: string): boolean;
  /** Boot ids of the host with frames stored within the raw retention. */
  bootCount(host: string): number;
  /** GPUs the store knows, fleet-wide. */
  gpuCount(): number;
  /** GPUs on the host now: listed in its latest inventory, or reported within holdMs. */
  activeGpuCount(host: string, nowMs: number, holdMs: number): number;
  gpuOwner(uuid: string): GpuOwner | undefined;
  /** The host an operator approved this GPU's move to, if any. */
  approvedMove(uuid: string): string | undefined;
  /** Moves the GPU to the host (created when new) and records why in its inventory history. */
  moveGpu(uuid: string, host: string, reason: MoveReason, atMs: number): void;
}

/** What writeEvents stored: counts, and the events new to the store (the flag engine's input). */
export interface EventWriteResult extends WriteResult {
  fresh: ValidEvent[];
}
