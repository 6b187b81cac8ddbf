// Kernel-log events with http.peers: this collector's page plus every peer's, merged as
// `gputel query events --url a,b` merges them (mergeEventAnswers): every collector asked the same
// query, `limit` and `before` (an event's key, which each pages after alike), each event once. A
// tenant's scope travels as `tenant=` (peers are asked with the fleet's token and scope their own
// answer by their own leases, as the flag list's peers do). A peer that does not answer is named
// in `peers.missing`.
import { settle } from "../fanout/fan-out.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import { mergeEventAnswers } from "../merge/merge-health.js";
import type { EventsAnswer } from "../reports/health-types.js";
import type { ApiError } from "../request/errors.js";
import { ask, type FanOutContext, info, refuseUnheld } from "./fanout.js";

/**
 * `local`: this collector's page (an empty one marked NOT_HELD where it does not show the GPU
 * `gpu=` names); `query`: the request as this collector resolved it (its range in ms, `limit`,
 * the tenant). `unheld`: this collector does not show that GPU (refuseUnheld: 404 when no peer does).
 */
export async function fanEvents(
  ctx: FanOutContext,
  local: EventsAnswer & { gpuHeld?: false },
  query: Record<string, string>,
  unheld?: () => ApiError,
): Promise<EventsAnswer & { peers: ReturnType<typeof info> }> {
  const { data, missing } = settle(
    await ask<EventsAnswer & { gpuHeld?: false }>(ctx, "/api/v1/events", query, PEER_ANSWERS.events),
  );
  if (unheld) refuseUnheld([local, ...data], missing, unheld);
  // One answer is returned as it is: this collector's NOT_HELD mark is no part of a merged one.
  const { gpuHeld: _, ...merged }: EventsAnswer & { gpuHeld?: false } = mergeEventAnswers([local, ...data]);
  return { ...merged, peers: info(ctx, missing) };
}
