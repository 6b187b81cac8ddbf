// An operator's acknowledgement with http.peers (docs/scaling.md, "A GPU's flags raised from
// events"): under round robin every member of a share group holds its own copy of a GPU's xid and
// reset-required, so the acknowledgement recorded here is repeated on every peer's copy of the
// same episode (POST ACK_COPY_PATH, fanout-routes.ts), with the same time, note and actor, and the
// merged flag list, summary, health timeline and statements see it acknowledged as one collector
// holding every frame does. The peers find their copy as the merge joins copies (isCopyOf), by
// kind, host, GPU, time and opening Xid: flag ids are each collector's own. An episode only peers
// hold (a hash split sends all of a host's messages to one member) is acknowledged on them by
// episode alone (ackEpisode), as the merged list named it.

import { maskUrl } from "../../shared/mask.js";
import {
  ACK_COPY_PATH,
  type AckCopyAnswer,
  type AckCopyRequest,
  type ListedEpisode,
  type PeersInfo,
} from "../contract/api-contract.js";
import { fanOut, settle } from "../fanout/fan-out.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import type { Flag, FlagAck } from "../flags/types.js";
import { ApiError } from "../request/errors.js";
import { type FanOutContext, info } from "./fanout.js";
import type { HealthBackend } from "./health-backend.js";

/** The values that name an xid's opening Xid (merge-lists.ts, xidOpening); another kind needs none. */
const OPENING = ["code", "fault", "action"] as const;

/** What the peers did with a forwarded acknowledgement. */
interface Forwarded {
  /** How many peers acknowledged a copy (a peer holding none answers so, and is not missing). */
  peerCopies: number;
  /** The peers that acknowledged a copy (masked as `peers` names them). */
  acknowledgedOn: string[];
  peers: PeersInfo;
}

/** `episode`'s acknowledgement (`ack`) as the peers are asked to repeat it. */
function copyRequest(
  episode: Omit<ListedEpisode, "peer">,
  ack: Pick<FlagAck, "note" | "atMs" | "actor">,
): AckCopyRequest {
  const { kind, host, gpuUuid, startMs, values = {} } = episode;
  const opening = kind === "xid" ? OPENING.filter((k) => k in values).map((k) => [k, values[k] ?? null]) : [];
  return {
    kind,
    host,
    gpuUuid,
    startMs,
    endMs: episode.endMs ?? null,
    values: Object.fromEntries(opening),
    note: ack.note,
    atMs: ack.atMs,
    actor: ack.actor,
  };
}

/** `request` on every peer: the copies they acknowledged, and who. */
async function toPeers(ctx: FanOutContext, request: AckCopyRequest): Promise<Forwarded & { copies: Flag[] }> {
  const answers = await fanOut<AckCopyAnswer>(
    ctx.peers,
    ACK_COPY_PATH,
    {},
    ctx.token,
    { ...ctx, answer: PEER_ANSWERS.ackCopy },
    request,
  );
  const { missing } = settle(answers);
  const acked = answers.flatMap((a) =>
    a.ok && a.data.copy !== null ? [{ peer: a.peer, copy: a.data.copy }] : [],
  );
  return {
    peerCopies: acked.length,
    acknowledgedOn: acked.map((a) => maskUrl(a.peer)),
    copies: acked.map((a) => a.copy),
    peers: info(ctx, missing),
  };
}

/**
 * `done` (this collector's acknowledgement and its flag after it) repeated on every peer: how many
 * acknowledged a copy, which, and the peers that did not answer, named, the acknowledgement
 * standing here all the same.
 */
export async function forwardAck(ctx: FanOutContext, done: { flag: Flag; ack: FlagAck }): Promise<Forwarded> {
  const { copies: _, ...forwarded } = await toPeers(ctx, copyRequest(done.flag, done.ack));
  return forwarded;
}

/**
 * The acknowledgement of `listed`, an episode the merged list showed under a peer's id: on this
 * collector's copy should it hold one after all, and on every peer's, by episode (a flag id means
 * nothing here). The flag answered is this collector's copy, else the first peer's; 404 when no
 * collector that answered holds one (the peers missing named).
 */
export async function ackEpisode(
  ctx: FanOutContext,
  health: HealthBackend,
  listed: ListedEpisode,
  ack: Pick<FlagAck, "note" | "atMs" | "actor">,
): Promise<{ flag: Flag; ack: Omit<FlagAck, "id"> & { id?: number } } & Forwarded> {
  const request = copyRequest(listed, ack);
  const here = health.acknowledgeCopy(request);
  const { copies, ...forwarded } = await toPeers(ctx, request);
  const flag = here?.flag ?? copies[0];
  if (!flag)
    throw new ApiError(
      404,
      "not_found",
      "id",
      `no copy of the ${listed.kind} flag of ${listed.gpuUuid ?? listed.host} from ${listed.startMs} on this collector or its peers`,
      { peers: forwarded.peers },
    );
  const { kind, host, gpuUuid } = flag;
  return { flag, ack: here?.ack ?? { flagId: flag.id, kind, host, gpuUuid, ...ack }, ...forwarded };
}
