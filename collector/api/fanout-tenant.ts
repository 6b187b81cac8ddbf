// A tenant's summary over every collector (http.peers). Every collector receives every inventory
// and status, and the same lease may be imported into each (docs/scaling.md), so the same GPU,
// host and flag are on several collectors: the summary is counted from the merged lists, as the
// fleet's is (merge/summary.ts), never by adding the collectors' counts. Range usage adds: each
// collector counts only its own samples. Peers are asked with the fleet's token and `tenant=`.
import {
  type HostView,
  OPEN_FLAGS_PATH,
  type OpenFlagKey,
  SUMMARY_GPUS_PATH,
  type Summary,
  type SummaryGpu,
  type TimeRange,
} from "../contract/api-contract.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import { type MergeableFlag, mergeFlagLists, mergeGpuLists, mergeHostLists } from "../merge/merge-lists.js";
import { summarize, summaryRange } from "../merge/summary.js";
import type { QueryBackend } from "./backend.js";
import { ask, type FanOutContext, info } from "./fanout.js";
import { addRangeUsage, heldNow, tenantHostsNow, tenantSummaryInput } from "./tenant-reads.js";
import type { TenantScope } from "./tenant-scope.js";

export async function fanTenantSummary(
  ctx: FanOutContext,
  backend: QueryBackend,
  scope: TenantScope,
  range: TimeRange,
) {
  const r = summaryRange(range);
  const tenant = { tenant: scope.tenant };
  const [summaries, lists, flags, hosts] = await Promise.all([
    ask<Summary>(
      ctx,
      "/api/v1/summary",
      { from: String(r.fromMs), to: String(r.toMs), ...tenant },
      PEER_ANSWERS.tenantSummary,
    ),
    // Every GPU of the tenant's on the peer (a GPU list stops at LIMITS.maxGpuRows).
    ask<{ gpus: SummaryGpu[] }>(ctx, SUMMARY_GPUS_PATH, tenant, PEER_ANSWERS.summaryGpus),
    // Every open flag of the tenant's on the peer (a flag list stops at LIMITS.maxFlagRows).
    ask<{ flags: OpenFlagKey[] }>(ctx, OPEN_FLAGS_PATH, tenant, PEER_ANSWERS.openFlags),
    ask<{ hosts: HostView[] }>(ctx, "/api/v1/hosts", {}, PEER_ANSWERS.hosts),
  ]);
  const local = tenantSummaryInput(backend, scope, r);
  const answered: {
    ranges: Summary["utilization"]["range"][];
    gpus: (readonly SummaryGpu[])[];
    flags: (readonly MergeableFlag[])[];
    hosts: (readonly HostView[])[];
  } = {
    ranges: [local.range],
    gpus: [local.gpus],
    flags: [local.openFlags],
    hosts: [backend.hosts()],
  };
  const missing: { peer: string; error: string }[] = [];
  ctx.peers.forEach((peer, i) => {
    const s = summaries[i];
    const g = lists[i];
    const f = flags[i];
    const h = hosts[i];
    // A peer counts only when all four of its answers came.
    if (s?.ok && g?.ok && f?.ok && h?.ok) {
      answered.ranges.push(s.data.utilization.range);
      answered.gpus.push(g.data.gpus);
      answered.flags.push(f.data.flags);
      answered.hosts.push(h.data.hosts);
      return;
    }
    const failed = [s, g, f, h].find((a) => a !== undefined && !a.ok);
    missing.push({ peer, error: failed && !failed.ok ? failed.error : "no answer" });
  });
  const open = mergeFlagLists(answered.flags).filter((f) => f.endMs === null);
  // Every collector receives every inventory: this one knows where a MIG device's GPU is.
  const held = heldNow(
    mergeGpuLists(answered.gpus),
    {
      hosts: tenantHostsNow(backend, scope, local.generatedMs),
      gpus: new Set(scope.gpusHeldAt(local.generatedMs)),
    },
    mergeHostLists(answered.hosts),
    open,
  );
  return {
    ...summarize({ generatedMs: local.generatedMs, ...held, range: addRangeUsage(answered.ranges) }),
    peers: info(ctx, missing),
  };
}
