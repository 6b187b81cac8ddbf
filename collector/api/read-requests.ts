// What the read worker answers (read-worker.ts), as plain data both threads share: heavy reads
// (reports, usage aggregates, long series, report parts) over a read-only Store. answerRead is
// the whole of the worker's work, here so that it can be tested on one thread too.
import type {
  FleetPart,
  FleetPartKind,
  ReportGroupBy,
  ReportKind,
  ReportPart,
} from "../contract/api-contract.js";
import { fleetPart } from "../fanout/fleet-part.js";
import { reportPart } from "../fanout/report-part.js";
import type { LeaseTerms } from "../leases/model.js";
import { alignRange } from "../reports/fleet-usage.js";
import { type LeaseParts, leaseParts } from "../reports/lease-reports.js";
import { type FleetReport, fleetReport } from "../reports/reports.js";
import { salesReport } from "../reports/sales.js";
import type { SalesGroupBy, SalesReport } from "../reports/sales-report.js";
import type { FlagStore } from "../store/flag-store.js";
import type { Store } from "../store/store.js";
import { aggregateSums, type IdSpan } from "../store/store-aggregate.js";
import type { Series } from "../store/store-query.js";
import type { GroupBy } from "../usage/placement.js";
import type { GroupSums } from "../usage/usage-sums.js";
import type { LeasePiece } from "./tenant-scope.js";

export type ReadRequest =
  | {
      op: "report";
      kind: ReportKind;
      fromMs: number;
      toMs: number;
      groupBy: ReportGroupBy;
      nowMs: number;
      pieces?: readonly LeasePiece[];
    }
  | { op: "aggregate"; fromMs: number; toMs: number; groupBy: GroupBy; span?: IdSpan }
  | { op: "series"; uuid: string; metrics: string[]; fromMs: number; toMs: number; stepMs: number }
  | { op: "reportPart"; fromMs: number; toMs: number; nowMs: number }
  | { op: "fleetPart"; kind: FleetPartKind; fromMs: number; toMs: number; nowMs: number }
  | {
      op: "leaseParts";
      fromMs: number;
      toMs: number;
      nowMs: number;
      tenant?: string;
      terms?: readonly LeaseTerms[];
      episodes?: boolean;
    }
  | { op: "sales"; fromMs: number; toMs: number; nowMs: number; by: SalesGroupBy };

/** The answer type of each request kind. */
export interface ReadAnswers {
  report: FleetReport;
  aggregate: GroupSums[];
  series: Series;
  reportPart: ReportPart;
  fleetPart: FleetPart;
  leaseParts: LeaseParts;
  sales: SalesReport;
}

export type ReadAnswer<R extends ReadRequest> = ReadAnswers[R["op"]];

/** Over the worker's read-only store; the caller wraps it in store.read() (one snapshot). */
export function answerRead(
  store: Store,
  flags: FlagStore,
  request: ReadRequest,
): ReadAnswers[ReadRequest["op"]] {
  switch (request.op) {
    case "report":
      return fleetReport(
        request.kind,
        { store, flags, now: () => request.nowMs },
        {
          fromMs: request.fromMs,
          toMs: request.toMs,
          groupBy: request.groupBy,
          ...(request.pieces ? { pieces: request.pieces } : {}),
        },
      );
    case "aggregate":
      // The summary's use: its totals leave out the highest temperature, which only a bucket scan
      // finds. Integer sums, of a span of GPU ids when asked: each worker sums its share.
      return aggregateSums(
        store,
        { fromMs: request.fromMs, toMs: request.toMs, groupBy: request.groupBy, maxTemperature: false },
        request.span,
      );
    case "series":
      return store.series(request.uuid, request.metrics, request.fromMs, request.toMs, request.stepMs);
    case "leaseParts":
      return leaseParts(
        { store, flags, now: () => request.nowMs },
        request,
        request.tenant,
        request.terms,
        request.episodes,
      );
    case "fleetPart":
      return fleetPart(
        { store, flags, now: () => request.nowMs },
        request.kind,
        request.fromMs,
        request.toMs,
      );
    case "sales":
      return salesReport({ store, now: () => request.nowMs }, request);
    case "reportPart": {
      const { fromMs, toMs } = alignRange(store, request.fromMs, request.toMs);
      return reportPart(store, fromMs, toMs, request.nowMs);
    }
  }
}
