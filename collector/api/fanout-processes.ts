// The process routes with http.peers (issue 17, docs/processes.md "Several collectors"): this
// collector's sessions plus every peer's, merged per session (a session whose host's sets reached
// several collectors counts once), and the process report from every collector's part. A tenant's
// scope travels as `tenant=` (peers are asked with the fleet's token and scope their own answer,
// as the flag list's peers do). A peer that does not answer is named in `peers.missing`.
import { PROCESS_PART_PATH, type ProcessPart } from "../contract/api-contract.js";
import { isNotHeld, settle } from "../fanout/fan-out.js";
import { PEER_ANSWERS } from "../fanout/peer-answers.js";
import { mergeProcessAnswers, mergeProcessReport, mergeSilentHosts } from "../merge/list-answers.js";
import type { ProcessGroup } from "../reports/process-report.js";
import type { ApiError } from "../request/errors.js";
import type { ProcessRow } from "../store/process-store.js";
import { ask, type FanOutContext, heldNowhere, info, refuseUnheld } from "./fanout.js";
import { firstAhead } from "./fanout-gpu-share.js";

/**
 * The merged list: every peer asked the same query (the range as this collector resolved it,
 * `current` said), each cut at `limit`, merged and cut again (mergeProcessAnswers): `truncated`
 * when any collector's list or the merge was cut. `reporting`:
 * the hosts this collector's own list speaks for that send it process sets. `unheld`: this
 * collector holds no share of the GPU the list is filtered by (refuseUnheld).
 */
export async function fanProcesses<
  A extends { current: boolean; truncated: boolean; processes: ProcessRow[]; silentHosts?: string[] },
>(
  ctx: FanOutContext,
  local: A,
  query: Record<string, string>,
  limit: number,
  reporting: readonly string[],
  unheld?: () => ApiError,
): Promise<A & { peers: ReturnType<typeof info> }> {
  const { data, missing } = settle(
    await ask<{
      processes: ProcessRow[];
      truncated?: boolean;
      silentHosts?: string[];
      reportingHosts?: string[];
      gpuHeld?: boolean;
    }>(
      ctx,
      "/api/v1/processes",
      { ...query, current: String(local.current), limit: String(limit) },
      PEER_ANSWERS.processes,
    ),
  );
  if (unheld) refuseUnheld(data, missing, unheld);
  const { truncated, processes } = mergeProcessAnswers([local, ...data], local.current, limit);
  return {
    ...local,
    truncated,
    processes,
    ...(local.current
      ? { silentHosts: mergeSilentHosts([{ ...local, reportingHosts: reporting }, ...data], processes) }
      : {}),
    peers: info(ctx, missing),
  };
}

/**
 * One GPU's sessions (gpus/:id/processes) where this collector does not hold the GPU (or not in
 * the tenant's leases here): the peers are asked the same route and query for `asked.ref`
 * (peerRef's UUID), and those that hold it give the GPU (the first of them, `asked.first`'s ahead,
 * places it) and their sessions, merged as fanProcesses merges. None holding it: heldNowhere's 404.
 */
export async function fanGpuProcesses<
  A extends { current: boolean; truncated: boolean; processes: ProcessRow[]; silentHosts?: string[] },
>(
  ctx: FanOutContext,
  asked: { ref: string; first?: string },
  local: A,
  query: Record<string, string>,
  limit: number,
  reporting: readonly string[],
  notFound: () => ApiError,
) {
  type Held = {
    gpu: { uuid: string; host: string; index: number };
    processes: ProcessRow[];
    truncated?: boolean;
    silentHosts?: string[];
    reportingHosts?: string[];
  };
  const answers = await ask<Held | { processes: ProcessRow[]; gpuHeld: false }>(
    ctx,
    `/api/v1/gpus/${encodeURIComponent(asked.ref)}/processes`,
    { ...query, current: String(local.current), limit: String(limit) },
    PEER_ANSWERS.gpuProcesses,
  );
  const { data, missing } = settle(firstAhead(answers, asked.first));
  const held = data.filter((d): d is Held => !isNotHeld(d));
  const peers = info(ctx, missing);
  const first = held[0];
  if (!first) throw heldNowhere(notFound, peers);
  const { truncated, processes } = mergeProcessAnswers([local, ...held], local.current, limit);
  return {
    gpu: first.gpu,
    ...local,
    truncated,
    processes,
    ...(local.current
      ? { silentHosts: mergeSilentHosts([{ ...local, reportingHosts: reporting }, ...held], processes) }
      : {}),
    peers,
  };
}

/** The process report over this collector's part and every peer's, for the range this one resolved. */
export async function fanProcessReport(
  ctx: FanOutContext,
  local: ProcessPart,
  by: ProcessGroup,
  tenant: string | undefined,
) {
  const { data, missing } = settle(
    await ask<ProcessPart>(
      ctx,
      PROCESS_PART_PATH,
      {
        from: String(local.fromMs),
        to: String(local.toMs),
        ...(tenant !== undefined ? { tenant } : {}),
      },
      PEER_ANSWERS.processPart,
    ),
  );
  return { ...mergeProcessReport([local, ...data], by), peers: info(ctx, missing) };
}
