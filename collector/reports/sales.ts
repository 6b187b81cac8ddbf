// The store reads behind the sales report (sales-report.ts builds it): the fleet's GPUs with
// their first sighting and current place, the leases overlapping the range (each started no
// earlier than its GPU's first sighting) as lease line parts, the same per-lease sums the lease
// reports use, and the leases in force now. Errors: GPUTEL_E_API for a bad range or grouping.
import { GputelError } from "../../shared/errors.js";
import type { Store } from "../store/store.js";
import { alignRange } from "./fleet-usage.js";
import { leaseLineParts } from "./lease-lines.js";
import { MAX_LEASES } from "./lease-reports.js";
import { buildSalesReport, SALES_GROUPS, type SalesGroupBy, type SalesReport } from "./sales-report.js";

export function parseSalesGroupBy(by: string): SalesGroupBy {
  if ((SALES_GROUPS as readonly string[]).includes(by)) return by as SalesGroupBy;
  throw new GputelError("GPUTEL_E_API", `by: "${by}" is not one of ${SALES_GROUPS.join(", ")}`, {
    field: "by",
  });
}

export function salesReport(
  sources: { store: Store; now?: () => number },
  request: { fromMs: number; toMs: number; by: SalesGroupBy },
): SalesReport {
  const { store } = sources;
  const nowMs = (sources.now ?? Date.now)();
  const { fromMs, toMs } = alignRange(store, request.fromMs, request.toMs);
  const fleet = store.fleetGpus();
  const firstSeen = new Map(fleet.map((g) => [g.uuid, g.firstSeenMs]));
  const leases = store.leases.list({ fromMs, toMs, limit: MAX_LEASES }).flatMap((l) => {
    const seen = firstSeen.get(l.gpu);
    return seen === undefined ? [] : [{ ...l, startMs: Math.max(l.startMs, seen) }];
  });
  const parts = leaseLineParts({ store, leases, flags: [], flagStarts: [], fromMs, toMs, nowMs });
  const inForce = new Set(
    store.leases.list({ fromMs: nowMs, toMs: nowMs + 1, limit: MAX_LEASES }).map((l) => l.gpu),
  );
  const gpus = fleet.map((g) => {
    const host = store.host(g.hostId);
    return {
      uuid: g.uuid,
      model: g.model,
      host: host?.name ?? "",
      site: host?.site ?? "",
      firstSeenMs: g.firstSeenMs,
      leasedNow: inForce.has(g.uuid),
    };
  });
  return buildSalesReport({ fromMs, toMs, nowMs }, request.by, gpus, parts);
}
