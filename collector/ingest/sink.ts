// The boundary between ingest (broker, decoding, validation) and storage. Ingest hands over
// only frames that passed validation; storage owns idempotence, rollups and retention.
// The interface is declared here, on the side that calls it, so storage depends on ingest and
// never the other way round (Store implements it; tests and the bench pass doubles).
import type { IInventory, IStatus } from "../../shared/proto.js";
import type { ValidFrame } from "./validate.js";

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
  /** Counts a rejected message by reason (persisted, shown on /metrics). */
  countReject(host: string, reason: string, count?: number): void;
}
