// Lease line parts over every collector, for the lease reports with http.peers. Leases are records
// in each collector's own store and are not copied between collectors (docs/scaling.md): the
// operator may have imported them into every collector, or into one only, and `leases.from_label`
// makes them where the agent's frames arrive. So every collector must count its samples for
// every lease any collector holds, once:
//   1. each collector gives its parts of its own leases (GET, `tenant=` when scoped);
//   2. a collector that lacks some of the leases the others gave is sent their terms (POST) and
//      gives its parts of those. Where every collector holds the same leases, step 2 asks nothing.
// The parts are then added per lease (collector/merge/merge-leases.ts).
import { LEASE_PARTS_PATH, type PeersInfo, type TimeRange } from "../contract/api-contract.js";
import { fanOut, settle } from "../fanout/fan-out.js";
import { termsOf } from "../fanout/lease-terms.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import type { LeaseTerms } from "../leases/model.js";
import { mergeLeaseParts } from "../merge/merge-leases.js";
import type { LeaseLinePart } from "../reports/lease-lines.js";
import type { LeaseParts } from "../reports/lease-reports.js";
import { ApiError } from "../request/errors.js";
import type { QueryBackend } from "./backend.js";
import { ask, type FanOutContext, info } from "./fanout.js";

/** The terms of every lease in `all` that `held` does not hold. */
function lacking(all: ReadonlyMap<string, LeaseTerms>, held: readonly LeaseLinePart[]): LeaseTerms[] {
  const have = new Set(held.map((p) => p.lease));
  return [...all.values()].filter((t) => !have.has(t.id));
}

/** Every collector's lease line parts over `range` (for `tenant` only when given), merged. */
export async function fanLeaseParts(
  ctx: FanOutContext,
  backend: QueryBackend,
  range: TimeRange,
  tenant?: string,
): Promise<LeaseParts & { peers: PeersInfo }> {
  if (!backend.leaseParts) throw new ApiError(501, "not_implemented", undefined, "no lease store here");
  const own = backend.leaseParts.bind(backend);
  // With each line's flag episodes, so that the merge counts a copy on several collectors once.
  const local = await own(range, tenant, undefined, true);
  const window = { from: String(local.fromMs), to: String(local.toMs) };
  const first = await ask<LeaseParts>(
    ctx,
    LEASE_PARTS_PATH,
    { ...window, ...(tenant !== undefined ? { tenant } : {}) },
    PEER_ANSWERS.leaseParts,
  );
  // Every lease held anywhere, with the terms of the first collector that gave it (this one first).
  const terms = new Map<string, LeaseTerms>();
  for (const parts of [local.parts, ...settle(first).data.map((d) => d.parts)])
    for (const p of parts) if (!terms.has(p.lease)) terms.set(p.lease, termsOf(p));

  const localLacks = lacking(terms, local.parts);
  const localExtra = localLacks.length > 0 ? (await own(local, undefined, localLacks, true)).parts : [];
  const { missing } = settle(first);
  const peerParts = await Promise.all(
    first.map(async (a): Promise<LeaseLinePart[][]> => {
      if (!a.ok) return [];
      const need = lacking(terms, a.data.parts);
      if (need.length === 0) return [a.data.parts];
      const body = { from: local.fromMs, to: local.toMs, leases: need };
      const [extra] = await fanOut<LeaseParts>(
        [a.peer],
        LEASE_PARTS_PATH,
        {},
        ctx.token,
        { ...ctx, answer: PEER_ANSWERS.leaseParts },
        body,
      );
      if (extra?.ok) return [a.data.parts, extra.data.parts];
      // Its own leases are in; its share of the others' is not: the answer is partial, and says so.
      missing.push({
        peer: a.peer,
        error: `other collectors' leases: ${extra?.ok === false ? extra.error : "no answer"}`,
      });
      return [a.data.parts];
    }),
  );
  return {
    fromMs: local.fromMs,
    toMs: local.toMs,
    nowMs: local.nowMs,
    parts: mergeLeaseParts([local.parts, localExtra, ...peerParts.flat()]),
    peers: info(ctx, missing),
  };
}
