// One GPU's series and health timeline with http.peers. Unlike its view (gpus/:id, the newest
// copy), every collector may hold a share of them: a host whose frames moved from one collector to
// another, or a GPU moved to a host of another collector, leaves the samples and episodes of one
// range on both, and every collector knows every GPU from the retained inventories. So the peers
// are always asked, whether or not this collector holds the GPU, and the answers of those that
// hold it are merged (collector/merge/merge-series.ts, merge-health.ts). A tenant's scope travels
// as `tenant=`: each collector scopes its own share by its own leases (docs/scaling.md).
import type { TSchema } from "@sinclair/typebox";
import type { GpuView, PeersInfo } from "../contract/api-contract.js";
import { isNotHeld, settle } from "../fanout/fan-out.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import type { ApiError } from "../request/errors.js";
import { ask, type FanOutContext, heldNowhere, info, newestCopy } from "./fanout.js";

export interface GpuShareAsk {
  /** The route under /api/v1/gpus/:id/. */
  route: "series" | "health";
  /** How the peers are asked for the GPU: `peerRef`'s UUID, or the reference given. */
  ref: string;
  /** The peer whose answer comes first among the peers' (peerRef's `first`). */
  first?: string;
  /** The request as this collector resolved it (absolute range, step), with `tenant` for a tenant. */
  query: Record<string, string>;
  /** The peers' answer shape (PEER_ANSWERS.series, .health). */
  answer: TSchema;
}

/** Of the collectors asked, the views (gpus/:id) of those that hold the GPU `ref` names; `peer`: whose. */
export type GpuCopies = (
  ref: string,
) => Promise<{ uuid: string; timestampMs: number | null; peer: string }[]>;

/** The peers' views of a GPU, for peerRef: a peer that does not answer names none. */
export function peerCopies(ctx: FanOutContext): GpuCopies {
  return async (ref) => {
    const answers = await ask<GpuView | { gpuHeld: false }>(
      ctx,
      `/api/v1/gpus/${encodeURIComponent(ref)}`,
      {},
      PEER_ANSWERS.gpu,
    );
    return answers.flatMap((a) => (a.ok && !isNotHeld(a.data) ? [{ ...a.data, peer: a.peer }] : []));
  };
}

/**
 * How to ask the collectors for GPU `id` (a UUID or host:index): by its UUID where this collector
 * knows it, since a collector that knows the GPU under an earlier host:index still holds a share. A
 * host:index this collector does not know is first asked of the collectors' views (`copies`:
 * peerCopies), and the copy with the newest sample names the GPU, as the merged gpus/:id answers
 * (fanGpu): each collector resolves it by its own registry, where one that missed a move still
 * places the GPU that left, so asked as given, one would answer for another GPU than the rest, and
 * one that knows the GPU under its earlier place would hold its share back. Every route that takes
 * a GPU asks by this one reference (its series, health, processes; the flag, process and event
 * lists' `gpu=`). `first`: the collector whose view named it, whose answer then places the GPU
 * where no other says otherwise (as this collector's own would). Nothing resolved: `id` as given
 * (then a 404).
 */
export async function peerRef(
  copies: GpuCopies,
  id: string,
  known: { uuid: string } | undefined,
): Promise<{ ref: string; first?: string }> {
  if (known) return { ref: known.uuid };
  if (!id.includes(":")) return { ref: id };
  const named = newestCopy(await copies(id));
  return named ? { ref: named.uuid, first: named.peer } : { ref: id };
}

/** `answers` with `first`'s (peerRef's) ahead of the rest, the others in their order. */
export function firstAhead<A extends { peer: string }>(
  answers: readonly A[],
  first: string | undefined,
): A[] {
  return first === undefined
    ? [...answers]
    : [...answers].sort((a, b) => +(b.peer === first) - +(a.peer === first));
}

/**
 * The merged share of every collector that holds the GPU: `local` (this collector's, when it holds
 * the GPU here, scoped to the tenant) first, then the peers' in their order (`asked.first`'s
 * before the rest); of answers naming another GPU (a host:index that collectors resolve
 * differently) only the first's GPU is kept.
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
  const { data, missing } = settle(firstAhead(answers, asked.first));
  const held = data.filter((d): d is A => !isNotHeld(d));
  const all = mine ? [mine, ...held] : held;
  const peers = info(ctx, missing);
  const lead = all[0];
  if (!lead) throw heldNowhere(notFound, peers);
  return { ...merge(all.filter((a) => a.uuid === lead.uuid)), peers };
}
