// An operator's acknowledgement with http.peers (docs/scaling.md, "A GPU's flags raised from
// events"): under round robin every member of a share group holds its own copy of a GPU's xid and
// reset-required, so the acknowledgement recorded here is repeated on every peer's copy of the
// same episode (POST ACK_COPY_PATH, fanout-routes.ts), with the same time, note and actor, and the
// merged flag list, summary, health timeline and statements see it acknowledged as one collector
// holding every frame does. The peers find their copy as the merge joins copies (isCopyOf), by
// kind, host, GPU, time and opening Xid: flag ids are each collector's own.
import {
  ACK_COPY_PATH,
  type AckCopyAnswer,
  type AckCopyRequest,
  type PeersInfo,
} from "../contract/api-contract.js";
import { fanOut, settle } from "../fanout/fan-out.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import type { Flag, FlagAck } from "../flags/types.js";
import { type FanOutContext, info } from "./fanout.js";

/** The values that name an xid's opening Xid (merge-lists.ts, xidOpening); another kind needs none. */
const OPENING = ["code", "fault", "action"] as const;

/**
 * `done` (this collector's acknowledgement and its flag after it) repeated on every peer: how many
 * acknowledged a copy (a peer holding none answers so, and is not missing), and the peers that did
 * not answer, named, the acknowledgement standing here all the same.
 */
export async function forwardAck(
  ctx: FanOutContext,
  done: { flag: Flag; ack: FlagAck },
): Promise<{ peerCopies: number; peers: PeersInfo }> {
  const { kind, host, gpuUuid, startMs, endMs, values } = done.flag;
  const opening = kind === "xid" ? OPENING.filter((k) => k in values).map((k) => [k, values[k] ?? null]) : [];
  const episode: AckCopyRequest = {
    kind,
    host,
    gpuUuid,
    startMs,
    endMs,
    values: Object.fromEntries(opening),
    note: done.ack.note,
    atMs: done.ack.atMs,
    actor: done.ack.actor,
  };
  const answers = await fanOut<AckCopyAnswer>(
    ctx.peers,
    ACK_COPY_PATH,
    {},
    ctx.token,
    { ...ctx, answer: PEER_ANSWERS.ackCopy },
    episode,
  );
  const { data, missing } = settle(answers);
  return { peerCopies: data.filter((a) => a.copy !== null).length, peers: info(ctx, missing) };
}
