// The report path with --peers (http.peers): this collector's share plus every peer's, merged
// into the AggregateGroup[] that store.aggregate returns, so a report builder swaps one call.
// Peers serve their share at REPORT_PART_PATH (see docs/scaling.md, "Query fan-out").
import type { Store } from "../store/store.js";
import type { AggregateGroup, AggregateRequest } from "../store/store-query.js";
import { fanOut, settle } from "./fan-out.js";
import { mergeReportParts } from "./merge-report.js";
import { type ReportPart, reportPart } from "./report-part.js";

export const REPORT_PART_PATH = "/api/v1/fanout/report-part";

export interface PeerAggregate {
  groups: AggregateGroup[];
  /** Peers that did not answer: the groups then cover fewer collectors (say so to the user). */
  missing: { peer: string; error: string }[];
}

export async function aggregateWithPeers(
  store: Store,
  peers: readonly string[],
  token: string | undefined,
  request: AggregateRequest,
): Promise<PeerAggregate> {
  const local = reportPart(store, request.fromMs, request.toMs);
  const answers = await fanOut<ReportPart>(
    peers,
    REPORT_PART_PATH,
    { from: String(request.fromMs), to: String(request.toMs) },
    token,
  );
  const { data, missing } = settle(answers);
  return { groups: mergeReportParts([local, ...data], request.groupBy, request.filters), missing };
}
