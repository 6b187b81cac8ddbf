// One GPU's series and health timeline with http.peers. Unlike its view (gpus/:id, the newest
// copy), every collector may hold a share of them: a host whose frames moved from one collector to
// another, or a GPU moved to a host of another collector, leaves the samples and episodes of one
// range on both, and every collector knows every GPU from the retained inventories. So the peers
// are always asked, whether or not this collector holds the GPU, and the answers of those that
// hold it are merged (collector/merge/merge-series.ts, merge-health.ts). A tenant's scope travels
// as `tenant=`: each collector scopes its own share by its own leases (docs/scaling.md).
import type { TSchema } from "@sinclair/typebox";
import type { PeersInfo } from "../contract/api-contract.js";
import { isNotHeld, settle } from "../fanout/fan-out.js";
import type { ApiError } from "../request/errors.js";
import { ask, type FanOutContext, heldNowhere, info } from "./fanout.js";

export interface GpuShareAsk {
  /** The route under /api/v1/gpus/:id/. */
  route: "series" | "health";
  /**
   * How the peers are asked for the GPU: its UUID where this collector knows it (a collector that
   * knows the GPU under an earlier host:index still holds a share), else the reference given.
   */
  ref: string;
  /** The request as this collector resolved it (absolute range, step), with `tenant` for a tenant. */
  query: Record<string, string>;
  /** The peers' answer shape (PEER_ANSWERS.series, .health). */
  answer: TSchema;
}

/**
 * The merged share of every collector that holds the GPU: `local` (this collector's, when it holds
 * the GPU here, scoped to the tenant) first, then the peers' in their order; of answers naming
 * another GPU (a host:index that collectors resolve differently) only the first's GPU is kept.
 * None holding it: heldNowhere's 404, naming any peer that did not answer.
 */
export async function fanGpuShare<A extends { uuid: string }>(
  ctx: FanOutContext,
  asked: GpuShareAsk,
  local: A | undefined | Promise<A | undefined>,
  merge: (answers: A[]) => A,
  notFound: () => ApiError,
): Promise<A & { peers: PeersInfo }> {
  // The peers are asked while this collector reads its own share (a series may be on a read thread).
  const [answers, mine] = await Promise.all([
    ask<A | { gpuHeld: false }>(
      ctx,
      `/api/v1/gpus/${encodeURIComponent(asked.ref)}/${asked.route}`,
      asked.query,
      asked.answer,
    ),
    local,
  ]);
  const { data, missing } = settle(answers);
  const held = data.filter((d): d is A => !isNotHeld(d));
  const all = mine ? [mine, ...held] : held;
  const peers = info(ctx, missing);
  const first = all[0];
  if (!first) throw heldNowhere(notFound, peers);
  return { ...merge(all.filter((a) => a.uuid === first.uuid)), peers };
}
