// The tenants view (GET /api/v1/tenants) over every collector (http.peers). Leases are each
// collector's own records (docs/scaling.md, "Leases across collectors"), and a GPU's samples and
// flags are on the collectors its frames reached, so each part of the view comes merged:
//   - the leases: every collector's in the view's spans (LEASE_TERMS_PATH, whole), one per id,
//     the first holder's terms (this collector first), as the lease-part fan-out takes them;
//   - busy share, leased and down time: the lease line parts over the month and over today,
//     added over every collector for every lease any of them holds (fanLeaseParts);
//   - each GPU's place and usage class now: every collector's GPUs whole (SUMMARY_GPUS_PATH), the
//     copy with the newest sample;
//   - where a GPU was when a lease ended: this collector's inventory history (every collector
//     receives every inventory).
// Then the view is built from them as one collector builds its own (tenants-view.ts). Peers are
// asked with the fleet's token, a tenant's scope as `tenant=`.
import { maskUrl } from "../../shared/mask.js";
import {
  LEASE_TERMS_PATH,
  type PeersInfo,
  SUMMARY_GPUS_PATH,
  type SummaryGpu,
  type TimeRange,
} from "../contract/api-contract.js";
import { settle } from "../fanout/fan-out.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import type { LeaseTerms } from "../leases/model.js";
import type { LeaseService } from "../leases/service.js";
import { mergeGpuLists } from "../merge/merge-lists.js";
import type { LeaseLinePart } from "../reports/lease-lines.js";
import type { QueryBackend } from "./backend.js";
import { ask, type FanOutContext, info } from "./fanout.js";
import { fanLeaseParts } from "./fanout-leases.js";
import { summaryGpu } from "./fanout-routes.js";
import { buildTenantsView, type TenantsView, viewSpans } from "./tenants-view.js";

type Missing = { peer: string; error: string }[];

export async function fanTenantsView(
  ctx: FanOutContext,
  backend: QueryBackend,
  leases: LeaseService,
  only: string | undefined,
): Promise<TenantsView & { peers: PeersInfo }> {
  const nowMs = backend.now();
  const s = viewSpans(nowMs);
  const tenant: { tenant?: string } = only !== undefined ? { tenant: only } : {};
  const leasesTo = nowMs + 1;
  const [listed, lists, month, today] = await Promise.all([
    ask<{ leases: LeaseTerms[] }>(
      ctx,
      LEASE_TERMS_PATH,
      { from: String(s.leasesFromMs), to: String(leasesTo), ...tenant },
      PEER_ANSWERS.leaseTerms,
    ),
    // Peers' GPUs whole (a list stops at LIMITS.maxGpuRows, and every collector knows every GPU
    // from the inventories) and unscoped: only the GPUs of the view's leases are read from them.
    ask<{ gpus: SummaryGpu[] }>(ctx, SUMMARY_GPUS_PATH, {}, PEER_ANSWERS.summaryGpus),
    partsOver(ctx, backend, { fromMs: s.monthStartMs, toMs: nowMs }, only),
    partsOver(ctx, backend, { fromMs: s.dayStartMs, toMs: nowMs }, only),
  ]);
  const own = leases.list({
    fromMs: s.leasesFromMs,
    toMs: leasesTo,
    limit: Number.MAX_SAFE_INTEGER,
    ...tenant,
  });
  const terms = new Map<string, LeaseTerms>();
  for (const list of [own, ...settle(listed).data.map((d) => d.leases)])
    for (const l of list) if (!terms.has(l.id)) terms.set(l.id, l);
  const gpus = mergeGpuLists<SummaryGpu>([
    backend.gpus({}).map(summaryGpu),
    ...settle(lists).data.map((d) => d.gpus),
  ]);
  const view = buildTenantsView({
    nowMs,
    leases: [...terms.values()],
    gpus: new Map(gpus.map((g) => [g.uuid, g])),
    month: month.parts,
    today: today.parts,
    ...(backend.hostsOverTime ? { hostsOverTime: backend.hostsOverTime.bind(backend) } : {}),
  });
  return {
    ...view,
    peers: joinPeers(ctx, [...settle(listed).missing, ...settle(lists).missing], [month.peers, today.peers]),
  };
}

/** Every collector's lease line parts over `range`, merged; none (and no peer asked) when it is empty. */
async function partsOver(
  ctx: FanOutContext,
  backend: QueryBackend,
  range: TimeRange,
  only: string | undefined,
): Promise<{ parts: LeaseLinePart[]; peers?: PeersInfo }> {
  if (!backend.leaseParts || range.toMs <= range.fromMs) return { parts: [] };
  return fanLeaseParts(ctx, backend, range, only);
}

/**
 * One `peers` for an answer made of several fan-outs: a peer is missing when any of its answers
 * did not come, named once (its first error), in the order of http.peers.
 */
function joinPeers(
  ctx: FanOutContext,
  missing: Missing,
  more: readonly (PeersInfo | undefined)[],
): PeersInfo {
  const errors = new Map<string, string>();
  for (const e of [...info(ctx, missing).errors, ...more.flatMap((p) => p?.errors ?? [])])
    if (!errors.has(e.peer)) errors.set(e.peer, e.error);
  // Keyed by the masked URL, as info() and the lease fan-out's PeersInfo name peers.
  const named = ctx.peers.map(maskUrl).filter((peer) => errors.has(peer));
  return {
    asked: ctx.peers.length,
    missing: named,
    errors: named.map((peer) => ({ peer, error: errors.get(peer) ?? "" })),
  };
}
