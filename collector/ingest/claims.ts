// Whether a host may take a GPU that another host holds (pure). A GPU belongs to the host that
// reports it: a UUID that a live host still lists cannot be claimed by another, or any agent could
// take over any GPU it knows the UUID of. A real move is accepted when
//   - an operator approved it (`gputel collector approve-move UUID --to HOST`), or
//   - the owner's latest inventory no longer lists the GPU (it was taken out), or
//   - the owner has sent no frame for limits.gpu_move_hold (the host is gone).
import type { GpuOwner, MoveReason } from "./sink.js";

export type ClaimDecision = { accept: true; reason: MoveReason } | { accept: false; detail: string };

export interface ClaimInput {
  claimant: string;
  owner: GpuOwner;
  /** The host an operator approved the move to, if any. */
  approvedTo: string | undefined;
  nowMs: number;
  holdMs: number;
}

export function decideClaim(input: ClaimInput): ClaimDecision {
  const { claimant, owner, nowMs, holdMs } = input;
  if (input.approvedTo === claimant) return { accept: true, reason: "approved" };
  if (owner.inOwnerInventory === false) return { accept: true, reason: "not_in_owner_inventory" };
  const silentMs = nowMs - owner.hostLastSeenMs;
  if (silentMs > holdMs) return { accept: true, reason: "owner_gone" };
  const listed = owner.inOwnerInventory === true ? "lists it in its inventory" : "has sent no inventory";
  return {
    accept: false,
    detail: `held by ${owner.host}, which ${listed} and reported ${Math.max(0, Math.round(silentMs / 1000))} s ago (hold ${Math.round(holdMs / 1000)} s)`,
  };
}
