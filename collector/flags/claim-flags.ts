// gpu-claim-conflict: a host reported a GPU that another, live host holds (ingest refused those
// entries, see collector/ingest/claims.ts). One flag per claiming host and GPU, opened at the
// first refusal, closed once the move is accepted (the owner let go, went silent past the hold,
// or an operator approved it) or when no refusal came for CLEAR_AFTER_MS. Refusals in between
// only move an in-memory clock: a claimant retrying every second writes nothing.
import type { ClaimEvent } from "../ingest/admission.js";
import type { FlagBook } from "./flag-book.js";
import type { HostTrack } from "./host-track.js";

export const CLAIM_CONFLICT = "gpu-claim-conflict" as const;
/** Quiet this long after the last refused claim, the flag closes. */
export const CLEAR_AFTER_MS = 5 * 60_000;
/** Open conflict flags per claiming host at most (a host cycling through UUIDs gets no more). */
const MAX_OPEN_PER_HOST = 64;

export class ClaimFlags {
  /** "host\0uuid" → collector time of the last refused claim. */
  private readonly lastRefused = new Map<string, number>();
  /** When this collector could receive claims again after its start (FlagEngine.receiving). */
  private receivingSinceMs = 0;

  constructor(private readonly book: FlagBook) {}

  apply(events: readonly ClaimEvent[], hostOf: (host: string) => HostTrack | undefined, nowMs: number): void {
    for (const e of events) {
      const key = `${e.host}\u0000${e.uuid}`;
      if (e.type === "moved") {
        this.lastRefused.delete(key);
        this.book.closeFlag(e.host, e.uuid, CLAIM_CONFLICT, nowMs, nowMs, {
          reason: `GPU ${e.uuid} moved from ${e.from} to ${e.host} (${e.reason})`,
          values: { move_reason: e.reason },
        });
        continue;
      }
      if (this.book.get(e.host, e.uuid, CLAIM_CONFLICT)) {
        this.lastRefused.set(key, nowMs);
        continue;
      }
      if (this.openFor(e.host) >= MAX_OPEN_PER_HOST) continue;
      const track = hostOf(e.host);
      this.lastRefused.set(key, nowMs);
      this.book.openFlag(
        {
          kind: CLAIM_CONFLICT,
          severity: "warning",
          host: e.host,
          gpuUuid: e.uuid,
          gpuIndex: e.index,
          site: track?.site ?? "",
          labels: track?.labels ?? {},
          startMs: nowMs,
          reason: `${e.host} reports GPU ${e.uuid}, ${e.detail}; its samples are not stored. If the GPU really moved: gputel collector approve-move ${e.uuid} --to ${e.host}`,
          values: { owner: e.owner },
        },
        nowMs,
      );
    }
  }

  /** The collector can receive again: claims it could not receive while down are not quiet. */
  receiving(nowMs: number): void {
    this.receivingSinceMs = Math.max(this.receivingSinceMs, nowMs);
  }

  /**
   * Closes conflicts with no refused claim for CLEAR_AFTER_MS. After a restart, with no refusal
   * seen since, the quiet spell counts from when claims could arrive again, and an episode that
   * ends ends at its last update (retries write nothing, so the last refusal known).
   */
  expire(nowMs: number): void {
    for (const flag of [...this.book.all()]) {
      if (flag.kind !== CLAIM_CONFLICT || flag.gpuUuid === null) continue;
      const key = `${flag.host}\u0000${flag.gpuUuid}`;
      const seen = this.lastRefused.get(key);
      const last = seen ?? flag.updatedMs;
      const quietSince = seen ?? Math.max(flag.updatedMs, this.receivingSinceMs);
      if (nowMs - quietSince < CLEAR_AFTER_MS) continue;
      this.lastRefused.delete(key);
      this.book.closeFlag(flag.host, flag.gpuUuid, CLAIM_CONFLICT, last, nowMs, {
        reason: `${flag.reason} (no claim since ${new Date(last).toISOString()})`,
      });
    }
  }

  private openFor(host: string): number {
    let n = 0;
    for (const flag of this.book.all()) if (flag.host === host && flag.kind === CLAIM_CONFLICT) n++;
    return n;
  }
}
